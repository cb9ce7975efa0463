"""network-peering: cross-account VPC peering between the trading and analytics accounts."""

from __future__ import annotations

from shared_constructs.cdk import App

from network_peering.settings import Settings
from network_peering.stack import PeeringStack

__all__ = ["Settings", "build"]


def build(app: App, settings: Settings) -> None:
    """Add the package's one stack to ``app``."""
    PeeringStack(app, settings)
