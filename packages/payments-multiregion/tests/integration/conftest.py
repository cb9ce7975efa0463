"""The package deployed on the emulator once per session (destroyed and checked empty at the end)."""

from platform_tooling.testing.emulator import deployment_fixture

deployment = deployment_fixture("payments-multiregion")
