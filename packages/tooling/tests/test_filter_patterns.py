"""The space-delimited filter-pattern evaluator on hand-written patterns and events."""

from __future__ import annotations

import pytest
from platform_tooling.testing.filter_patterns import parse, split_event

ACCESS = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326'
ACCESS_FIELDS = "[ip, user, username, timestamp, request, status_code, bytes]"


def test_splits_on_spaces_keeping_quoted_and_bracketed_fields_whole() -> None:
    assert split_event(ACCESS) == [
        "127.0.0.1",
        "-",
        "frank",
        "10/Oct/2000:13:25:15 -0700",
        "GET /apache_pb.gif HTTP/1.0",
        "404",
        "2326",
    ]
    assert split_event("  a   b\tc  ") == ["a", "b", "c"]


def test_fails_unclosed_quote_in_event() -> None:
    with pytest.raises(ValueError, match="never closed"):
        split_event('a "b c')


def test_named_fields_are_bound_when_the_pattern_matches() -> None:
    found = parse(ACCESS_FIELDS).fields(ACCESS)
    assert found is not None
    assert found["request"] == "GET /apache_pb.gif HTTP/1.0"
    assert found["bytes"] == "2326"


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("[ip, user, username, timestamp, request, status_code=404, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code=200, bytes]", False),
        ("[ip, user, username, timestamp, request, status_code!=200, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code>=400 && status_code<500, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code>=500, bytes]", False),
        ("[ip, user, username, timestamp, request, status_code=500 || status_code=404, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code=500 || status_code=503, bytes]", False),
        ("[ip, user, username, timestamp, request, status_code, bytes>2000]", True),
        ("[ip, user, username, timestamp, request, status_code, bytes<=2000]", False),
        ("[ip, user, username, timestamp, request, status_code=4*, bytes]", True),  # text wildcard
        ('[ip, user, username, timestamp, request="*.gif*", status_code, bytes]', True),
        ('[ip, user, username, timestamp, request="*.png*", status_code, bytes]', False),
        ('[ip="127.0.0.*", ...]', True),
        ('[ip="127.0.0.2*", ...]', False),
        ('[ip="127.0.0.1", ...]', True),
        ('[ip="127.0.0.1?", ...]', False),  # only * is a wildcard
        ('[ip!="127.0.0.*", ...]', False),
        ("[..., status_code=404, bytes]", True),
        ("[ip, ..., bytes=2326]", True),
        ("[..., bytes=1]", False),
        ("[ip, user, username, timestamp, request, status_code]", False),  # one field short
        ("[ip, user, username, timestamp, request, status_code, bytes, extra]", False),  # one too many
        ("[ip, ..., user, username, timestamp, request, status_code, bytes]", True),  # ... may be empty
    ],
)
def test_matches(pattern: str, matches: bool) -> None:
    assert parse(pattern).matches(ACCESS) is matches


def test_number_compares_numerically_and_text_textually() -> None:
    assert parse("[a=10]").matches("10.0")
    assert not parse('[a="10"]').matches("10.0")
    assert parse('[a="10"]').matches("10")


def test_non_numeric_field_fails_every_numeric_comparison() -> None:
    # A flow-log NODATA record writes "-" in its port fields: it is not "a port other than 443".
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert not parse(f"[port{op}443]").matches("-"), op


def test_and_binds_tighter_than_or() -> None:
    pattern = parse("[a=1 || a>5 && a<7]")
    assert [pattern.matches(v) for v in ("1", "6", "8", "3")] == [True, True, False, False]


def test_quoted_value_may_hold_separators() -> None:
    pattern = parse('[a="x, y && z", b]')
    assert pattern.matches('"x, y && z" 1')
    assert not pattern.matches("x 1")


def test_metric_value_is_one_or_the_named_field() -> None:
    pattern = parse("[..., bytes>0]")
    assert pattern.metric_value(ACCESS, "1") == 1.0
    assert pattern.metric_value(ACCESS, "$bytes") == 2326.0
    assert parse("[..., bytes=1]").metric_value(ACCESS, "$bytes") is None
    with pytest.raises(ValueError, match="no field 'packets'"):
        pattern.metric_value(ACCESS, "$packets")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{ $.a = "b" }', "only space-delimited patterns"),
        ("ERROR", "only space-delimited patterns"),
        ("[a, (b=1 || b=2)]", "parentheses are not supported"),
        ("[a, b=1 && c=2]", "names 'c' inside term 'b'"),
        ('[a>"x"]', "> needs a number"),
        ("[a<abc]", "< needs a number"),
        ("[a, a]", "field names repeat: a"),
        ("[a=]", "cannot read condition"),
        ("[1a]", "does not start with a field name"),
        ('[a="x]', "unclosed double quote"),
    ],
)
def test_fails_unsupported_or_malformed_pattern(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("$", r"\$")):
        parse(pattern)
