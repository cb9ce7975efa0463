"""Root conftest: every package's tests share the platform's pytest plugin."""

pytest_plugins = ["platform_tooling.testing.plugin"]
