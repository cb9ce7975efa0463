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
                "aws_autoscaling_group", ["update"], {"default_instance_warmup": 0}, {"default_instance_warmup": 300}
            ),
            change("aws_s3_bucket", ["no-op"], {}, {}),
        ]
    }
    assert untolerated_drift(plan) == []


def test_any_other_change_is_reported():
    plan = {
        "resource_changes": [
            change(
                "aws_autoscaling_group",
                ["update"],
                {"max_size": 3, "default_instance_warmup": 0},
                {"max_size": 6, "default_instance_warmup": 300},
            ),
            # The emulator's server returns these as AWS does (moto_launcher): no longer tolerated.
            change("aws_lambda_function", ["update"], {"logging_config": []}, {"logging_config": [{}]}),
            change("aws_sqs_queue", ["update"], {"redrive_policy": '{"a": 1}'}, {"redrive_policy": '{"a":1}'}),
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
        "aws_autoscaling_group.x: update of max_size",
        "aws_lambda_function.x: update of logging_config",
        "aws_sqs_queue.x: update of redrive_policy",
        "aws_sqs_queue.x: create",
        "aws_flow_log.x: delete/create of traffic_type",
    ]


def test_every_entry_carries_a_reason():
    reasons = [e.reason for e in EMULATOR.exclusions] + list(TOLERATED_DRIFT.values())
    assert EMULATOR.exclusions
    assert all(len(reason) >= 10 for reason in reasons)
