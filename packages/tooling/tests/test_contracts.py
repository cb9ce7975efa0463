"""Every output one app reads from another app's Terraform state is an output that app publishes.

Every app is synthesized (every environment file); each remote-state data source of a consumer
names the producer's package and stack (its local path or its S3 key), and each reference
``data.terraform_remote_state.<source>.outputs.<name>`` in the consumer names an output that the
producer's synthesized stack must have. The producers' contracts
(:mod:`shared_constructs.contracts`) are checked the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from platform_tooling.synth import discover, repo_root
from shared_constructs.contracts import security_baseline

APPS = [package.name for package in discover(repo_root())]
ENVIRONMENTS = ("dev", "prod")
_STATE = re.compile(r"(?:^|/)([a-z0-9-]+)/[a-z0-9-]+/([A-Za-z0-9_.-]+)\.tfstate$")
_READ = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_]+)")


def reads(stack: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(producer package, producer stack, output) of every output ``stack`` reads from another stack."""
    sources: dict[str, tuple[str, str]] = {}
    for name, source in stack.get("data", {}).get("terraform_remote_state", {}).items():
        location = source["config"].get("path") or source["config"]["key"]
        match = _STATE.search(location)
        assert match, f"remote state {name}: cannot tell the producer from {location!r}"
        sources[name] = (match.group(1), match.group(2))
    text = json.dumps(stack)
    return {(*sources[source], output) for source, output in _READ.findall(text)}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_output_read_across_packages_is_published(synth, environment):
    results = {app: synth(app, environment=environment) for app in APPS}
    read = {r for result in results.values() for stack in result.stacks.values() for r in reads(stack)}
    assert {package for package, _, _ in read} == {"security-baseline"}
    assert {(stack, output) for _, stack, output in read} >= {
        ("security-baseline-us-east-1", "security_topic_arn"),
        ("security-baseline-ap-southeast-1", "security_topic_arn"),
    }
    for package, stack, output in sorted(read):
        published = results[package].stacks.get(stack, {}).get("output", {})
        assert output in published, f"{package} stack {stack} does not publish {output!r} (read in {environment})"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_security_baseline_publishes_its_whole_contract_in_every_region(synth, environment):
    result = synth("security-baseline", environment=environment)
    regions = [name.removeprefix(f"{security_baseline.PACKAGE}-") for name in result.stacks]
    assert "us-east-1" in regions
    assert "ap-southeast-1" in regions
    for region in regions:
        contract = security_baseline.stack(region)
        outputs = result.stacks[contract.stack]["output"]
        for output in contract.outputs:
            assert outputs[output.name]["description"] == output.description
