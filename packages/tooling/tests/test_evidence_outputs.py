"""The evidence writers: matrices, control view, diagrams, and the committed files they produced."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from platform_tooling.evidence import controls, diagrams, matrix, plugin
from platform_tooling.evidence.register import Requirement, load_register, register_path
from platform_tooling.synth import SynthResult

ROOT = register_path().parents[2]
APPS = sorted(p.parent.name for p in ROOT.glob("packages/*/cdktf.json"))

STACKS: matrix.Stacks = {
    "s1": {"resource": {"aws_s3_bucket": {"b2": {}, "b1": {}}, "aws_kms_key": {"k": {}}}},
    "s0": {"resource": {"aws_s3_bucket": {"b0": {}}}},
}


def req(id_: str, status: str = "built", resources: tuple[str, ...] = ("aws_s3_bucket",)) -> Requirement:
    return Requirement(id_, "summary", "pkg", status, resources, reason="" if status == "built" else "x" * 20)


def test_addresses_are_stack_type_name_sorted() -> None:
    assert matrix.addresses(STACKS, ["aws_s3_bucket"]) == [
        "s0/aws_s3_bucket.b0",
        "s1/aws_s3_bucket.b1",
        "s1/aws_s3_bucket.b2",
    ]


def test_fails_when_a_declared_type_was_not_synthesized() -> None:
    with pytest.raises(ValueError, match=r"PAY-1: register names resource types \['aws_sqs_queue'\]"):
        matrix.requirement_row(req("PAY-1", resources=("aws_sqs_queue",)), STACKS, [])


def test_rules_are_those_reading_the_declared_types() -> None:
    row = matrix.requirement_row(req("PAY-1", resources=("aws_kms_key",)), STACKS, [])
    assert {r["id"] for r in row["rules"]} == {
        "IAM_NO_WILDCARD_ACTIONS",  # key policies are policy documents too
        "IAM_RESOURCE_POLICY",
        "KEY_USAGE",
        "KMS_ROTATION",
        "POLICY_SIZE",
    }
    assert all(r["control"] for r in row["rules"])


def test_named_rules_join_the_ones_reading_the_types_and_must_exist() -> None:
    assert [r.id for r in matrix.rules_for([], ["REQUIRED_TAGS"])] == ["REQUIRED_TAGS"]
    with pytest.raises(ValueError, match=r"policy rules \['NO_SUCH_RULE'\]"):
        matrix.rules_for(["aws_kms_key"], ["NO_SUCH_RULE"])


def test_gaps_are_unproven_requirements_that_are_not_declined() -> None:
    results = [
        matrix.TestResult("t.py::test_a", ("PAY-1",), "passed"),
        matrix.TestResult("t.py::test_b", ("PAY-2",), "failed"),
        matrix.TestResult("t.py::test_c", ("PAY-3",), "skipped"),
    ]
    rows = [
        matrix.requirement_row(r, STACKS, results)
        for r in (req("PAY-1"), req("PAY-2"), req("PAY-3"), req("PAY-4", "declined"), req("PAY-5", "open"))
    ]
    assert [g.split(" ")[0] for g in matrix.gaps(rows)] == ["PAY-2", "PAY-3", "PAY-5"]


def test_output_differs_only_in_the_run_date_line() -> None:
    rows = [matrix.requirement_row(req("PAY-1"), STACKS, [matrix.TestResult("t::x", ("PAY-1",), "passed")])]
    found = {"package": "pkg", "requirements": rows}
    for render in (matrix.matrix_json, matrix.matrix_markdown):
        first, second = render(found, "2026-01-01").splitlines(), render(found, "2026-12-31").splitlines()
        assert len(first) == len(second) > 5
        changed = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
        assert len(changed) == 1
        assert "2026-01-01" in first[changed[0]]
        assert str(ROOT) not in "\n".join(first)


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ("PCI DSS 3.5.1; 12.10.1", ["3.5.1", "12.10.1"]),
        ("PCI DSS 3.6.1; CIS AWS 3.6", ["3.6.1"]),
        ("PCI DSS 12.5.1 (inventory); platform tag policy", ["12.5.1"]),
        ("Platform naming policy", []),
    ],
)
def test_pci_controls_read_from_rule_citations(control: str, expected: list[str]) -> None:
    assert controls.pci_controls(control) == expected


def test_fails_on_a_config_rule_without_a_control_mapping() -> None:
    stacks = {
        "s": {
            "resource": {
                "aws_config_config_rule": {"r": {"source": [{"owner": "AWS", "source_identifier": "NEW_RULE"}]}}
            }
        }
    }
    with pytest.raises(ValueError, match=r"\['NEW_RULE'\] have no PCI DSS mapping"):
        controls.config_rules({"pkg": stacks})


CUSTOM_SOURCE = [{"owner": "CUSTOM_LAMBDA", "source_identifier": "${aws_lambda_function.f.arn}"}]


def test_a_custom_config_rule_is_known_by_its_recorded_identifier() -> None:
    rule = {"//": {"identifier": "PEERING_SG_AUTHORIZED_PORTS"}, "source": CUSTOM_SOURCE}
    stacks = {"s": {"resource": {"aws_config_config_rule": {"r": rule}}}}
    assert controls.config_rule_addresses({"pkg": stacks}) == {
        "s/aws_config_config_rule.r": "PEERING_SG_AUTHORIZED_PORTS"
    }
    assert controls.config_rules({"pkg": stacks}) == {"PEERING_SG_AUTHORIZED_PORTS": ["pkg"]}


def test_fails_on_a_custom_config_rule_without_an_identifier() -> None:
    stacks = {"s": {"resource": {"aws_config_config_rule": {"r": {"source": CUSTOM_SOURCE}}}}}
    with pytest.raises(
        ValueError, match=r"s/aws_config_config_rule.r: a custom Config rule without a recorded identifier"
    ):
        controls.config_rules({"pkg": stacks})


def _report(nodeid: str, when: str, outcome: str) -> SimpleNamespace:
    return SimpleNamespace(
        nodeid=nodeid, when=when, failed=outcome == "failed", skipped=outcome == "skipped", passed=outcome == "passed"
    )


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([("setup", "passed"), ("call", "passed"), ("teardown", "passed")], "passed"),
        ([("setup", "passed"), ("call", "passed"), ("teardown", "failed")], "failed"),
        ([("setup", "skipped"), ("teardown", "passed")], "skipped"),
        ([("setup", "failed"), ("teardown", "passed")], "failed"),
    ],
)
def test_a_marked_test_passes_only_when_every_phase_passed(phases: list[tuple[str, str]], expected: str) -> None:
    nodeid = f"t.py::test_{expected}_{len(phases)}"
    plugin._MARKED[nodeid] = ["PAY-1"]
    for when, outcome in phases:
        plugin.pytest_runtest_logreport(_report(nodeid, when, outcome))  # type: ignore[arg-type]
    assert plugin._OUTCOMES[nodeid] == expected


@pytest.fixture(scope="module")
def app_stacks(synth: Callable[..., SynthResult]) -> dict[str, dict[str, Any]]:
    """Every app's dev synthesis (the session's, or the synthesis cache's)."""
    return {name: synth(name).stacks for name in APPS}


def test_committed_diagrams_are_what_the_generator_writes(app_stacks: dict[str, dict[str, Any]]) -> None:
    written = diagrams.render_all(app_stacks)
    assert {"docs/evidence/pci-platform/network.md", "docs/evidence/pci-platform/account-data-flow.md"} <= set(written)
    committed = {
        str(p.relative_to(ROOT))
        for pattern in ("docs/evidence/*/network.md", "docs/evidence/*/account-data-flow.md")
        for p in ROOT.glob(pattern)
    }
    assert sorted(committed) == sorted(written), "run nox -s evidence to regenerate the diagrams"
    stale = [path for path, text in written.items() if (ROOT / path).read_text(encoding="utf-8") != text]
    assert stale == [], "run nox -s evidence to regenerate the diagrams"


def test_network_diagram_shows_the_firewall_path_and_the_peering(app_stacks: dict[str, dict[str, Any]]) -> None:
    pci = diagrams.network_diagram("pci-platform", app_stacks["pci-platform"]) or ""
    assert "Network Firewall" in pci
    assert "-->|0.0.0.0/0| pci_platform__networkfirewall_firewall__" in pci
    assert "internet gateway" not in pci
    peering = diagrams.network_diagram("network-peering", app_stacks["network-peering"]) or ""
    assert peering.count("=== network_peering__vpc_peering_connection__") == 2


def test_committed_matrices_follow_the_register_and_the_synthesis(app_stacks: dict[str, dict[str, Any]]) -> None:
    register = load_register()
    packages = sorted({r.package for r in register})
    assert packages
    for package in packages:
        committed = json.loads((ROOT / "docs" / "evidence" / package / "matrix.json").read_text(encoding="utf-8"))
        stacks = app_stacks.get(package, {})
        expected = matrix.package_matrix(package, register, stacks, [])["requirements"]
        drop = ("tests",)
        assert [{k: v for k, v in row.items() if k not in drop} for row in committed["requirements"]] == [
            {k: v for k, v in row.items() if k not in drop} for row in expected
        ], f"run nox -s evidence to regenerate docs/evidence/{package}/matrix.json"


def test_control_view_links_rules_config_rules_and_tests() -> None:
    stacks = {
        "s": {
            "resource": {
                "aws_config_config_rule": {
                    "flow": {"source": [{"owner": "AWS", "source_identifier": "VPC_FLOW_LOGS_ENABLED"}]}
                },
                "aws_kms_key": {"k": {}},
            }
        }
    }
    rows = [
        matrix.requirement_row(
            req("PAY-1", resources=("aws_kms_key",)), stacks, [matrix.TestResult("t::key", ("PAY-1",), "passed")]
        ),
        matrix.requirement_row(
            req("PAY-2", resources=("aws_config_config_rule",)),
            stacks,
            [matrix.TestResult("t::rule", ("PAY-2",), "passed"), matrix.TestResult("t::bad", ("PAY-2",), "failed")],
        ),
    ]
    view = {c["pci_dss"]: c for c in controls.control_view({"pkg": stacks}, rows)["controls"]}
    assert view["3.6.1"]["rules"] == ["KEY_USAGE", "KMS_ROTATION"]
    assert view["3.6.1"]["tests"] == ["t::key"]
    assert view["10.2.1"]["config_rules"] == ["VPC_FLOW_LOGS_ENABLED"]
    assert view["10.2.1"]["tests"] == ["t::rule"]
    assert list(view) == sorted(view, key=lambda c: tuple(int(p) for p in c.split(".")))


def test_committed_control_view_follows_the_rules_and_the_synthesis(app_stacks: dict[str, dict[str, Any]]) -> None:
    register = load_register()
    rows = [row for p in sorted({r.package for r in register}) for row in
            matrix.package_matrix(p, register, app_stacks.get(p, {}), [])["requirements"]]  # fmt: skip
    expected = controls.control_view(app_stacks, rows)
    assert expected["config_rules"], "no Config rule was synthesized: nothing to check"
    committed = json.loads((ROOT / "docs" / "evidence" / "controls.json").read_text(encoding="utf-8"))

    def without_tests(view: dict[str, Any]) -> dict[str, Any]:
        return {**view, "controls": [{k: v for k, v in c.items() if k != "tests"} for c in view["controls"]]}

    assert without_tests({k: v for k, v in committed.items() if k != "run_date"}) == without_tests(expected), (
        "run nox -s evidence to regenerate docs/evidence/controls.json"
    )


def _test_ids(path: str) -> set[str]:
    found = json.loads((ROOT / path).read_text(encoding="utf-8"))
    rows = found.get("requirements", found.get("controls", []))
    return {t if isinstance(t, str) else t["test"] for row in rows for t in row.get("tests", [])}


def test_every_test_the_committed_evidence_names_still_exists() -> None:
    paths = [
        "docs/evidence/controls.json",
        *(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/evidence/*/matrix.json")),
    ]
    named = set().union(*(_test_ids(p) for p in paths))
    assert named, "the committed evidence names no test: nothing to check"
    missing = []
    for nodeid in sorted(named):
        file, _, name = nodeid.partition("::")
        function = name.split("::")[-1].split("[")[0]
        source = ROOT / file
        if not source.is_file() or f"def {function}(" not in source.read_text(encoding="utf-8"):
            missing.append(nodeid)
    assert missing == [], "run nox -s evidence: the committed evidence names tests that are gone"


def test_controls_only_rewrites_the_view_from_the_committed_matrices(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platform_tooling.evidence import __main__ as cli

    matrices = {
        "a": {"package": "a", "run_date": "2026-01-02", "requirements": []},
        "b": {
            "package": "b",
            "run_date": "2026-03-04",
            "requirements": [
                {"id": "B-1", "rules": [{"id": "KMS_ROTATION"}], "resources": [], "tests": [
                    {"test": "t::rotates", "outcome": "passed"}, {"test": "t::broken", "outcome": "failed"}]}
            ],
        },
    }  # fmt: skip
    for package, document in matrices.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "matrix.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setattr(cli, "EVIDENCE", tmp_path)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    monkeypatch.setattr(cli, "stacks_of", lambda package: {})
    assert cli.controls_only(["a", "b"]) == 0
    written = json.loads((tmp_path / "controls.json").read_text(encoding="utf-8"))
    assert written["run_date"] == "2026-03-04"
    assert {c["pci_dss"]: c["tests"] for c in written["controls"]}["3.6.1"] == ["t::rotates"]
    assert cli.controls_only(["a", "b", "c"]) == 2
