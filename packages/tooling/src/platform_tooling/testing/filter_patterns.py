"""CloudWatch Logs space-delimited filter patterns, evaluated offline over sample log events.

Metric filters are only ever run by CloudWatch; this evaluator lets a unit test run a synthesized
pattern over a table of records (VPC flow-log lines, for instance) and see which ones it counts.
It covers the space-delimited form AWS documents for metric filters:

- ``[f1, f2, ..., fn]``: one named term per field, in order; a term may be ``...`` (any number of
  fields, none included). Without ``...`` the event must have exactly as many fields as the pattern.
- Fields of the event are separated by spaces; text inside double quotes or square brackets is one
  field (its delimiters are not part of the value).
- A condition on a term: ``name OP value`` with OP one of ``= != < <= > >=``. A quoted value, or an
  unquoted one that is not a number, compares as text, where ``*`` matches any characters (only
  ``=`` and ``!=``); an unquoted number compares numerically, and a field that is not a number
  then matches no comparison at all (``-`` in a flow-log NODATA record is not ``!= 443``).
- Conditions of one term combine with ``&&`` and ``||`` (``&&`` binds tighter); each names the
  term's own field: ``srcport!=443 && srcport!=5432``.

Anything else (parentheses, JSON patterns, regular expressions, plain-term patterns) is refused
with a :class:`ValueError` rather than approximated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ELLIPSIS = "..."
_CONDITION = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Condition:
    """``field OP value`` on one field; ``text`` tells a quoted (or non-numeric) value from a number."""

    field: str
    op: str
    value: str
    text: bool

    def holds(self, actual: str) -> bool:
        """Whether the event's field value ``actual`` satisfies this condition."""
        if self.text:
            # Only * is a wildcard: every other character stands for itself.
            regex = "".join(".*" if c == "*" else re.escape(c) for c in self.value)
            found = re.fullmatch(regex, actual, re.DOTALL) is not None
            return found if self.op == "=" else not found
        if not _NUMBER.match(actual):
            return False
        left, right = float(actual), float(self.value)
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[self.op]


@dataclass(frozen=True)
class Term:
    """One position of the pattern: a named field with conditions in disjunctive normal form
    (any group of which all conditions hold), or the ellipsis."""

    name: str
    any_of: tuple[tuple[Condition, ...], ...] = ()

    def holds(self, actual: str) -> bool:
        """Whether ``actual`` satisfies the term (a term without conditions takes any value)."""
        return not self.any_of or any(all(c.holds(actual) for c in group) for group in self.any_of)


@dataclass(frozen=True)
class Pattern:
    """A parsed space-delimited filter pattern."""

    source: str
    terms: tuple[Term, ...]

    def fields(self, event: str) -> dict[str, str] | None:
        """The named field values of ``event`` when the pattern matches it; ``None`` otherwise."""
        values = split_event(event)
        return _match(self.terms, values, {})

    def matches(self, event: str) -> bool:
        """Whether the pattern matches ``event``."""
        return self.fields(event) is not None

    def metric_value(self, event: str, value: str) -> float | None:
        """The value a metric filter with transformation ``value`` (``1`` or ``$field``) publishes for
        ``event``; ``None`` when the pattern does not match or the field is not a number."""
        found = self.fields(event)
        if found is None:
            return None
        raw = found.get(value[1:]) if value.startswith("$") else value
        if raw is None:
            raise ValueError(f"metric value {value!r}: no field {value[1:]!r} in pattern {self.source!r}")
        return float(raw) if _NUMBER.match(raw) else None


def _match(terms: tuple[Term, ...], values: list[str], bound: dict[str, str]) -> dict[str, str] | None:
    if not terms:
        return bound if not values else None
    head, rest = terms[0], terms[1:]
    if head.name == ELLIPSIS:
        for skip in range(len(values) + 1):
            found = _match(rest, values[skip:], bound)
            if found is not None:
                return found
        return None
    if not values or not head.holds(values[0]):
        return None
    return _match(rest, values[1:], {**bound, head.name: values[0]})


def split_event(event: str) -> list[str]:
    """The fields of a space-delimited event; ``"..."`` and ``[...]`` enclose one field each."""
    fields: list[str] = []
    index, text = 0, event.strip()
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        closing = {'"': '"', "[": "]"}.get(text[index])
        if closing:
            end = text.find(closing, index + 1)
            if end < 0:
                raise ValueError(f"event {event!r}: {text[index]!r} at {index} is never closed")
            fields.append(text[index + 1 : end])
            index = end + 1
        else:
            end = index
            while end < len(text) and not text[end].isspace():
                end += 1
            fields.append(text[index:end])
            index = end
    return fields


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside double quotes."""
    parts, current, quoted, index = [], "", False, 0
    while index < len(text):
        if text[index] == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        if not quoted and text.startswith(separator, index):
            parts.append(current)
            current, index = "", index + len(separator)
            continue
        current += text[index]
        index += 1
    if quoted:
        raise ValueError(f"unclosed double quote in {text!r}")
    return [*parts, current]


def _condition(text: str, field: str, pattern: str) -> Condition:
    found = _CONDITION.match(text)
    if not found:
        raise ValueError(f"pattern {pattern!r}: cannot read condition {text.strip()!r} (expected field OP value)")
    name, op, raw = found.groups()
    if name != field:
        raise ValueError(f"pattern {pattern!r}: condition {text.strip()!r} names {name!r} inside term {field!r}")
    quoted = raw.startswith('"')
    value = raw[1:-1].replace('\\"', '"') if quoted else raw
    text_value = quoted or not _NUMBER.match(value)
    if text_value and op not in ("=", "!="):
        raise ValueError(f"pattern {pattern!r}: {op} needs a number, got {raw}")
    return Condition(field=name, op=op, value=value, text=text_value)


def _term(text: str, pattern: str) -> Term:
    stripped = text.strip()
    if stripped == ELLIPSIS:
        return Term(ELLIPSIS)
    name = re.split(r"\s*(?:!=|<=|>=|=|<|>)", stripped, maxsplit=1)[0].strip()
    if not _NAME.match(name):
        raise ValueError(f"pattern {pattern!r}: term {stripped!r} does not start with a field name")
    if name == stripped:
        return Term(name)
    groups = tuple(
        tuple(_condition(part, name, pattern) for part in _split_top(alternative, "&&"))
        for alternative in _split_top(stripped, "||")
    )
    return Term(name, groups)


def parse(pattern: str) -> Pattern:
    """Parse a space-delimited filter pattern; raises :class:`ValueError` naming what is not supported."""
    body = pattern.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ValueError(f"pattern {pattern!r}: only space-delimited patterns ([field, ...]) are supported")
    inner = body[1:-1]
    if "(" in _unquoted(inner) or ")" in _unquoted(inner):
        raise ValueError(f"pattern {pattern!r}: parentheses are not supported")
    terms = tuple(_term(part, pattern) for part in _split_top(inner, ","))
    names = [t.name for t in terms if t.name != ELLIPSIS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"pattern {pattern!r}: field names repeat: {', '.join(duplicates)}")
    return Pattern(source=pattern, terms=terms)


def _unquoted(text: str) -> str:
    """``text`` without its double-quoted parts."""
    return _QUOTED.sub('""', text)


__all__ = ["Condition", "Pattern", "Term", "parse", "split_event"]
