"""The deployments these tests look at: a consumer (network-peering) and its producer."""

from platform_tooling.testing.emulator import deployment_fixture
from shared_constructs.contracts import security_baseline

deployment = deployment_fixture("network-peering", requires=(security_baseline.PACKAGE,))
