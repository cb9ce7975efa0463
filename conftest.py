"""Root conftest: every package's tests share the platform's pytest plugin."""

pytest_plugins = ["shared_constructs.testing.plugin"]
