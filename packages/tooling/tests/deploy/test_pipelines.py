"""The generated pipelines: committed as generated, valid for actionlint, one job per stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from platform_tooling.deploy import pipelines
from platform_tooling.synth import repo_root

ROOT = repo_root(Path(__file__))
ACTIONLINT = Path(sys.executable).parent / "actionlint"


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return pipelines.generate(ROOT)


def workflows() -> list[Path]:
    found = sorted((ROOT / ".github" / "workflows").glob("deploy-*.yml"))
    assert found, "no generated workflow is committed"
    return found


def test_committed_files_are_what_the_generator_writes(generated: dict[Path, str]):
    assert pipelines.differences(ROOT, generated) == [], "run nox -s pipelines and commit the result"
    apps = sorted(p.parent.name for p in ROOT.glob("packages/*/cdktf.json"))
    assert [p.name for p in workflows()] == [f"deploy-{app}.yml" for app in apps]


def test_a_hand_edited_workflow_is_reported(generated: dict[Path, str], tmp_path: Path):
    path = next(p for p in generated if p.name == "deploy-network-peering.yml")
    copy = {tmp_path / p.relative_to(ROOT): text for p, text in generated.items()}
    for target, text in copy.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    edited = tmp_path / path.relative_to(ROOT)
    edited.write_text(edited.read_text().replace("cancel-in-progress: false", "cancel-in-progress: true"))
    assert pipelines.differences(tmp_path, copy) == [".github/workflows/deploy-network-peering.yml"]


def test_actionlint_accepts_every_workflow():
    done = subprocess.run([str(ACTIONLINT), "-no-color", *map(str, workflows())], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / "broken.yml"
    text = (ROOT / ".github" / "workflows" / "deploy-network-peering.yml").read_text()
    broken.write_text(text.replace("needs: test", "needs: no-such-job", 1))
    done = subprocess.run([str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "no-such-job" in done.stdout


def test_one_apply_job_per_stack_in_dependency_order_with_approval_and_its_own_concurrency(generated):
    text = generated[ROOT / ".github" / "workflows" / "deploy-payments-multiregion.yml"]
    links = text.split("  apply-dev-payments-links:\n", 1)[1].split("\n  apply-", 1)[0]
    assert (
        "needs: [apply-dev-payments-ap-southeast-1, apply-dev-payments-eu-west-1, apply-dev-payments-us-east-1]"
        in links
    )
    assert "environment: payments-multiregion-dev" in links
    assert "group: deploy-payments-multiregion-dev-payments-links\n      cancel-in-progress: false" in links
    assert "--env dev --stack payments-links --yes" in links
    prod_global = text.split("  apply-prod-payments-global:\n", 1)[1].split("\n  apply-", 1)[0]
    assert "apply-dev-payments-links" in prod_global  # prod after every dev stack
    assert 'role-to-assume: "arn:aws:iam::123456789012:role/payments-plan"' in text
    assert "      STATE_BACKEND: s3\n      STATE_BUCKET: ${{ vars.STATE_BUCKET }}\n" in links


def test_a_consumer_runs_when_its_producer_changes(generated):
    text = generated[ROOT / ".github" / "workflows" / "deploy-network-peering.yml"]
    assert '"packages/security-baseline/**"' in text
    assert '"packages/shared-constructs/**"' in text
    owners = generated[ROOT / ".github" / "CODEOWNERS"]
    assert "/packages/network-peering/ @fintech-platform/network-team" in owners.splitlines()
