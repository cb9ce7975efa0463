"""The package deployed on the emulator once per session, after security-baseline (whose security
topic the trading alarms notify); destroyed and checked empty in both accounts at the end."""

from platform_tooling.testing.emulator import deployment_fixture

deployment = deployment_fixture("network-peering", requires=("security-baseline",))
