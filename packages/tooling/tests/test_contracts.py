"""Every output one app reads from another app's Terraform state is an output that app publishes.

Every app is synthesized (every environment file); each remote-state data source of a consumer
names the producer's package and stack (its local path or its S3 key), and each reference
``data.terraform_remote_state.<source>.outputs.<name>`` in the consumer names an output that the
producer's synthesized stack must have. The reads are found as the deployment engine finds them
(:mod:`platform_tooling.deploy.reads`), so the engine's order and this check agree. The producers' contracts
(:mod:`shared_constructs.contracts`) are checked the same way.
"""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.deploy.reads import reads as deploy_reads
from platform_tooling.synth import discover, repo_root
from shared_constructs.contracts import pci_platform, security_baseline
from shared_constructs.contracts.data_buckets import DATA_PRODUCERS

APPS = [package.name for package in discover(repo_root())]
ENVIRONMENTS = ("dev", "prod")


def reads(stack: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(producer package, producer stack, output) of every output ``stack`` reads from another stack."""
    return {(read.producer, read.stack, read.output) for read in deploy_reads(stack)}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_output_read_across_packages_is_published(synth, environment):
    results = {app: synth(app, environment=environment) for app in APPS}
    read = {r for result in results.values() for stack in result.stacks.values() for r in reads(stack)}
    # The security baseline's data-events trail reads the data producers where it is deployed (prod;
    # the dev sandbox deploys the baseline without them).
    producers = {"security-baseline", *(DATA_PRODUCERS if environment == "prod" else ())}
    assert {package for package, _, _ in read} == producers
    # Each consumer reads the stack of its own account: pci-platform's, network-peering's two sides'.
    trading, analytics, pci = {
        "dev": ("123456789012", "210987654321", "123456789012"),
        "prod": ("111111111111", "222222222222", "111122223333"),
    }[environment]
    assert {(stack, output) for _, stack, output in read} >= {
        (f"security-baseline-{trading}-us-east-1", "security_topic_arn"),
        (f"security-baseline-{analytics}-us-east-2", "security_topic_arn"),
        (f"security-baseline-{pci}-ap-southeast-1", "security_topic_arn"),
    }
    if environment == "prod":
        # The data-events trail lives in the account of the producers whose buckets it logs.
        assert f"security-baseline-{pci}-data-events" in results["security-baseline"].stacks
    for package, stack, output in sorted(read):
        published = results[package].stacks.get(stack, {}).get("output", {})
        assert output in published, f"{package} stack {stack} does not publish {output!r} (read in {environment})"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_security_baseline_publishes_its_whole_contract_in_every_account_and_region(synth, environment):
    result = synth("security-baseline", environment=environment)
    regional = [name for name in result.stacks if not name.endswith("-data-events")]
    places = [tuple(name.removeprefix(f"{security_baseline.PACKAGE}-").split("-", 1)) for name in regional]
    assert len(places) == len(regional) >= 2
    for account, region in places:
        contract = security_baseline.stack(region, account)
        outputs = result.stacks[contract.stack]["output"]
        for output in contract.outputs:
            assert outputs[output.name]["description"] == output.description


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_data_producer_publishes_its_data_buckets(synth, environment):
    assert DATA_PRODUCERS[pci_platform.PACKAGE].stack == pci_platform.stack()
    for package, where in DATA_PRODUCERS.items():
        outputs = synth(package, environment=environment).stacks[where.stack.stack]["output"]
        published = outputs[where.output.name]
        assert published["description"] == where.output.description
        assert isinstance(published["value"], list)
        assert published["value"], f"{package} publishes no data bucket ({environment})"
