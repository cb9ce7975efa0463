from platform_tooling.testing.emulator import deployment_fixture

deployment = deployment_fixture("reference")
