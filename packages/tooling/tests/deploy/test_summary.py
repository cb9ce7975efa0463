"""Plan summaries: counts per stack, stateful replacements and destroys first, text and Markdown."""

from __future__ import annotations

from typing import Any

from platform_tooling.deploy.stateful import STATEFUL
from platform_tooling.deploy.summary import markdown, summarize, text


def rc(address: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    type_ = address.split(".")[0]
    change = {"actions": actions, "before": before, "after": after, "after_unknown": {}, **extra}
    return {"address": address, "type": type_, "mode": "managed", "change": change}


PLAN = {
    "resource_changes": [
        rc("aws_sns_topic.alerts", ["create"], None, {"name": "a"}),
        rc(
            "aws_lambda_function.fn",
            ["update"],
            {"timeout": 3, "memory_size": 128},
            {"timeout": 30, "memory_size": 128},
        ),
        rc("aws_iam_role.old", ["delete"], {"name": "r"}, None),
        rc(
            "aws_dynamodb_table.payments",
            ["delete", "create"],
            {"name": "p", "hash_key": "id"},
            {"name": "p", "hash_key": "pk"},
            replace_paths=[["hash_key"]],
        ),
        rc("aws_s3_bucket.archive", ["delete"], {"bucket": "b"}, None),
        rc("aws_kms_key.key", ["no-op"], {}, {}),
        {
            "address": "data.aws_caller_identity.me",
            "type": "aws_caller_identity",
            "mode": "data",
            "change": {"actions": ["read"]},
        },
    ]
}


def test_counts_each_kind_of_change():
    plan = summarize("payments", "payments-us-east-1", PLAN)
    assert [plan.count(k) for k in ("add", "change", "destroy", "replace")] == [1, 1, 2, 1]
    assert not plan.no_changes
    assert plan.counts() == "1 to add, 1 to change, 2 to destroy, 1 to replace"


def test_names_the_attributes_changed_and_those_forcing_replacement():
    changes = {c.address: c for c in summarize("p", "s", PLAN).changes}
    assert changes["aws_lambda_function.fn"].attributes == ("timeout",)
    assert changes["aws_dynamodb_table.payments"].forces_replacement == ("hash_key",)


def test_stateful_replacements_and_destroys_come_first():
    plans = [summarize("a", "quiet", {"resource_changes": []}), summarize("payments", "payments-us-east-1", PLAN)]
    lines = text(plans).splitlines()
    assert lines[0].startswith("DATA AT RISK")
    assert lines[1:3] == [
        f"  replace payments/payments-us-east-1 aws_dynamodb_table.payments: loses {STATEFUL['aws_dynamodb_table']}",
        f"  destroy payments/payments-us-east-1 aws_s3_bucket.archive: loses {STATEFUL['aws_s3_bucket']}",
    ]
    assert "aws_iam_role.old" not in "\n".join(lines[:4])  # a role carries no data
    assert "a/quiet: no changes" in lines


def test_markdown_for_a_pull_request():
    document = markdown([summarize("payments", "payments-us-east-1", PLAN)], title="Plan: payments (dev)")
    assert document.startswith("### Plan: payments (dev)\n")
    assert "> **Data at risk**" in document
    assert "| payments/payments-us-east-1 | 1 | 1 | 2 | 1 |" in document
    assert document.index("Data at risk") < document.index("| stack |")


def test_tolerated_changes_are_not_counted():
    plan = summarize("p", "s", PLAN, tolerated=lambda change: change["address"] == "aws_lambda_function.fn")
    assert plan.count("change") == 0
    assert [c.address for c in plan.tolerated] == ["aws_lambda_function.fn"]


def test_no_changes():
    plan = summarize("p", "s", {"resource_changes": [rc("aws_kms_key.key", ["no-op"], {}, {})]})
    assert plan.no_changes
    assert text([plan]) == "p/s: no changes\n"
