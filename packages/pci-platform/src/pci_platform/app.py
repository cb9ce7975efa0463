"""The pci-platform app: ``Settings`` and ``build(app, settings)`` for ``platform_tooling.synth``."""

from __future__ import annotations

from shared_constructs.cdk import App

from pci_platform.config import Settings
from pci_platform.stack import PciPlatformStack

__all__ = ["Settings", "build"]


def build(app: App, settings: Settings) -> None:
    """Add the platform's stacks to ``app``."""
    PciPlatformStack(app, settings)
