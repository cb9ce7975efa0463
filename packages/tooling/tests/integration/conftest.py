"""The deployments these tests look at: a consumer (network-peering) and its producer."""

from platform_tooling.testing.emulator import deployment_fixture

deployment = deployment_fixture("network-peering", requires=("security-baseline",))
