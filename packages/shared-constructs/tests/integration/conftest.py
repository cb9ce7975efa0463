from shared_constructs.testing.emulator import deployment_fixture

deployment = deployment_fixture("reference")
