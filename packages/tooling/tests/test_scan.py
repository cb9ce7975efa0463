"""The scan rung: checkov failures accepted per resource address, stale acceptances reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_tooling.testing.scan import (
    Acceptance,
    Failure,
    failures,
    load_acceptances,
    main,
    readable_by_checkov,
    unparsed,
    verdict,
)

ROOT = Path(__file__).resolve().parents[3]
REASON = "a reason long enough to review"


def report(tmp_path: Path, *found: tuple[str, str]) -> dict[str, object]:
    stack = tmp_path / "pci-platform" / "cdktf.out" / "stacks" / "pci-platform" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)
    stack.write_text(json.dumps({"resource": {"aws_lambda_function": {"fn_1": {}}, "aws_s3_bucket": {"b_2": {}}}}))
    checks = [
        {"check_id": check, "check_name": "a check", "file_abs_path": str(stack), "resource": resource}
        for check, resource in found
    ]
    return {"check_type": "terraform_json", "results": {"failed_checks": checks}}


def test_failures_carry_app_stack_and_the_resource_type_checkov_leaves_out(tmp_path):
    found = failures(report(tmp_path, ("CKV_AWS_116", "resource.fn_1"), ("CKV2_AWS_62", "aws_s3_bucket.b_2")))
    assert [f.address for f in found] == [
        "pci-platform/pci-platform/aws_lambda_function.fn_1",
        "pci-platform/pci-platform/aws_s3_bucket.b_2",
    ]


FOUND = [Failure("CKV_AWS_116", "app/app-us-east-1/aws_lambda_function.fn_1", "dlq")]


@pytest.mark.parametrize(
    ("accepted", "unaccepted", "stale"),
    [
        ([Acceptance("CKV_AWS_116", REASON, ("app/app-*/aws_lambda_function.fn_1",))], 0, 0),
        ([], 1, 0),
        ([Acceptance("CKV_AWS_117", REASON, ("app/app-*/aws_lambda_function.fn_1",))], 1, 1),  # wrong check
        ([Acceptance("CKV_AWS_116", REASON, ("app/app-*/aws_lambda_function.fn_2",))], 1, 1),  # wrong resource
        (
            [
                Acceptance(
                    "CKV_AWS_116", REASON, ("app/app-*/aws_lambda_function.fn_1", "app/app-*/aws_lambda_function.gone")
                )
            ],
            0,
            1,
        ),
        ([Acceptance("CKV_AWS_116", REASON, ("app/app-*/aws_lambda_function.fn_1",), ("prod",))], 1, 0),
    ],
)
def test_every_failure_must_be_accepted_and_every_acceptance_used(accepted, unaccepted, stale):
    got = verdict(FOUND, accepted, "dev")
    assert (len(got[0]), len(got[1])) == (unaccepted, stale)


def test_acceptances_of_stacks_not_scanned_are_not_stale():
    accepted = [Acceptance("CKV_AWS_116", REASON, ("other/other/aws_lambda_function.fn_9",))]
    assert verdict([], accepted, "dev", ["app/app-us-east-1"]) == ([], [])
    assert verdict([], accepted, "dev", ["other/other"])[1]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (f'check = "AWS_1"\nreason = "{REASON}"\nresources = ["a/b/c.d"]', "checkov id"),
        ('check = "CKV_AWS_1"\nreason = "short"\nresources = ["a/b/c.d"]', "at least 20"),
        (f'check = "CKV_AWS_1"\nreason = "{REASON}"\nresources = ["c.d"]', "<app>/<stack>/<type>.<name>"),
    ],
)
def test_fails_on_malformed_acceptances(tmp_path, entry, message):
    path = tmp_path / "accepted.toml"
    path.write_text(f"[[accept]]\n{entry}\n")
    with pytest.raises(ValueError, match=message):
        load_acceptances(path)


def test_the_command_fails_on_an_unaccepted_failure(tmp_path, capsys):
    (tmp_path / "report.json").write_text(json.dumps(report(tmp_path, ("CKV_AWS_116", "resource.fn_1"))))
    (tmp_path / "accepted.toml").write_text("")
    assert main([str(tmp_path / "report.json"), "--accepted", str(tmp_path / "accepted.toml")]) == 1
    assert "FAILED   CKV_AWS_116 pci-platform/pci-platform/aws_lambda_function.fn_1" in capsys.readouterr().err


def test_the_platform_accepts_findings_by_address_and_skips_nothing_globally():
    accepted = load_acceptances(ROOT / "checkov-accepted.toml")
    assert len(accepted) >= 10
    assert all(len(a.reason) >= 20 and a.resources for a in accepted)
    config = (ROOT / ".checkov.yaml").read_text()
    assert "skip-check" not in config


def test_the_command_fails_when_checkov_could_not_parse_a_stack(tmp_path, capsys):
    broken = {
        "check_type": "terraform_json",
        "summary": {"parsing_errors": 1},
        "results": {"parsing_errors": ["/x/cdk.tf.json"]},
    }
    assert unparsed(broken) == ["/x/cdk.tf.json"]
    assert unparsed({"summary": {"parsing_errors": 0}, "results": {}}) == []
    (tmp_path / "report.json").write_text(json.dumps(broken))
    (tmp_path / "accepted.toml").write_text("")
    assert main([str(tmp_path / "report.json"), "--accepted", str(tmp_path / "accepted.toml")]) == 1
    assert "UNPARSED /x/cdk.tf.json" in capsys.readouterr().err


def test_checkov_reads_a_copy_without_moved_blocks_at_the_same_app_and_stack(tmp_path, capsys):
    folder = tmp_path / "cache" / "network-peering" / "dev" / "stacks" / "network-peering"
    folder.mkdir(parents=True)
    resources = {"aws_vpc": {"vpc_1": {"cidr_block": "10.0.0.0/16"}}}
    moved = [{"from": "aws_vpc.old_1", "to": "aws_vpc.vpc_1"}]
    (folder / "cdk.tf.json").write_text(json.dumps({"resource": resources, "moved": moved}))
    plain = tmp_path / "cache" / "reference" / "dev" / "stacks" / "reference" / "cdk.tf.json"
    plain.parent.mkdir(parents=True)
    plain.write_text(json.dumps({"resource": resources}))

    copy = readable_by_checkov(folder / "cdk.tf.json", tmp_path / "out")
    assert copy == tmp_path / "out" / "network-peering" / "dev" / "stacks" / "network-peering" / "cdk.tf.json"
    assert json.loads(copy.read_text()) == {"resource": resources}
    assert readable_by_checkov(plain, tmp_path / "out") == plain
    assert main(["--prepare", str(tmp_path / "out"), str(folder / "cdk.tf.json"), str(plain)]) == 0
    assert capsys.readouterr().out.split() == [str(copy), str(plain)]


def test_checkov_reads_a_copy_without_the_terraform_version_constraint(tmp_path):
    stack = tmp_path / "cache" / "pci-platform" / "dev" / "stacks" / "pci-platform" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)
    backend = {"local": {"path": "state.tfstate"}}
    resources = {"aws_vpc": {"vpc_1": {"cidr_block": "10.0.0.0/16"}}}
    stack.write_text(
        json.dumps({"terraform": {"backend": backend, "required_version": ">= 1.10, < 2.0"}, "resource": resources})
    )
    copy = readable_by_checkov(stack, tmp_path / "out")
    assert copy != stack
    assert json.loads(copy.read_text()) == {"terraform": {"backend": backend}, "resource": resources}
