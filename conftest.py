"""Root conftest: every package's tests share the platform's pytest plugins."""

pytest_plugins = ["platform_tooling.testing.plugin", "platform_tooling.evidence.plugin"]
