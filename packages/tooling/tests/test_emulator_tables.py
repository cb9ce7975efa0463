"""The drift check tolerates exactly the listed emulator gaps and nothing else."""

from __future__ import annotations

from platform_tooling.testing.emulator_tables import EMULATOR, TOLERATED_DRIFT, untolerated_drift


def change(type_: str, actions: list[str], before: dict, after: dict) -> dict:
    return {
        "address": f"{type_}.x",
        "type": type_,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}},
    }


def test_listed_emulator_gaps_are_tolerated():
    plan = {
        "resource_changes": [
            change(
                "aws_lambda_function", ["update"], {"logging_config": []}, {"logging_config": [{"log_format": "JSON"}]}
            ),
            change("aws_s3_bucket", ["no-op"], {}, {}),
        ]
    }
    assert untolerated_drift(plan) == []


def test_any_other_change_is_reported():
    plan = {
        "resource_changes": [
            change(
                "aws_lambda_function",
                ["update"],
                {"timeout": 3, "logging_config": []},
                {"timeout": 30, "logging_config": [{}]},
            ),
            change("aws_sqs_queue", ["create"], {}, {"name": "q"}),
            change(
                "aws_flow_log",
                ["delete", "create"],
                {"destination_options": [], "traffic_type": "ALL"},
                {"destination_options": [{}], "traffic_type": "REJECT"},
            ),
        ]
    }
    assert untolerated_drift(plan) == [
        "aws_lambda_function.x: update of timeout",
        "aws_sqs_queue.x: create",
        "aws_flow_log.x: delete/create of traffic_type",
    ]


def test_every_entry_carries_a_reason():
    reasons = [e.reason for e in EMULATOR.exclusions] + list(TOLERATED_DRIFT.values())
    assert EMULATOR.exclusions
    assert all(len(reason) >= 10 for reason in reasons)
