"""The security-baseline app: ``Settings`` and ``build`` (one stack per configured region)."""

from __future__ import annotations

from shared_constructs.cdk import App

from security_baseline.settings import Settings
from security_baseline.stack import RegionalBaseline

__all__ = ["Settings", "build"]


def build(app: App, settings: Settings) -> list[RegionalBaseline]:
    """One ``security-baseline-<region>`` stack per configured region, the primary (home) region first."""
    return [
        RegionalBaseline(app, settings, region) for region in (settings.primary_region, *settings.secondary_regions)
    ]
