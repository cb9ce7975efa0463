"""state-backend: the S3 bucket and key that hold every package's Terraform state."""

from __future__ import annotations

from shared_constructs.cdk import App

from state_backend.settings import Settings
from state_backend.stack import StateStack

__all__ = ["Settings", "build"]


def build(app: App, settings: Settings) -> None:
    """Add the package's one stack to ``app``."""
    StateStack(app, settings)
