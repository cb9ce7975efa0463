"""``nox -s plan|deploy`` end to end, as the nox sessions run it (``python -m platform_tooling.deploy``),
on the fixture repository's two apps of Terraform's built-in ``terraform_data`` with local state:
the consumer is refused before its producer, then both deploy in order, then a plan shows no change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import fixture_repo

REFUSAL = (
    "beta/beta reads output 'label' of alpha stack 'alpha', which has not published it "
    "(it has no state yet (alpha.tfstate)): deploy alpha first"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_repo.make(tmp_path_factory.mktemp("cli") / "repo")


def session(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """What ``nox -s <command> -- <args>`` runs, in the fixture repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATE_", "PLATFORM_"))}
    sources = [str(p) for p in sorted((repo / "packages").glob("*/src"))]
    env["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "platform_tooling.deploy", *args]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_deploy_refuses_the_consumer_then_deploys_in_order_and_plans_no_changes(repo: Path):
    refused = session(repo, "deploy", "beta", "--env", "dev", "--yes")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert REFUSAL in refused.stderr
    assert not (repo / ".state" / "beta").exists()

    producer = session(repo, "deploy", "alpha", "--env", "dev", "--yes")
    assert producer.returncode == 0, producer.stdout + producer.stderr
    consumer = session(repo, "deploy", "beta", "--env", "dev", "--yes", "--verify")
    assert consumer.returncode == 0, consumer.stdout + consumer.stderr
    assert "beta/beta" in consumer.stdout
    outputs = (repo / "packages" / "beta" / "cfn-outputs" / "flat-outputs.json").read_text()
    assert '"alpha_label": "alpha-v1"' in outputs

    plan = session(repo, "plan", "alpha", "beta", "--env", "dev", "--markdown", str(repo / "plan.md"))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "order: alpha/alpha, beta/beta" in plan.stdout
    assert plan.stdout.count("no changes") == 2, plan.stdout
    markdown = (repo / "plan.md").read_text()
    assert "| alpha/alpha | 0 | 0 | 0 | 0 |\n| beta/beta | 0 | 0 | 0 | 0 |\n" in markdown


def test_fails_deploy_without_a_terminal_asks_for_yes(repo: Path):
    done = session(repo, "deploy", "alpha", "--env", "dev")
    assert done.returncode != 0
    assert "pass --yes to apply unasked" in done.stderr
