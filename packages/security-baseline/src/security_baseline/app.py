"""The security-baseline app: ``Settings`` and ``build`` (one stack per account and region)."""

from __future__ import annotations

from pathlib import Path

from shared_constructs.cdk import App

from security_baseline import preflight
from security_baseline.data_events import DataEventsStack
from security_baseline.settings import Settings
from security_baseline.stack import RegionalBaseline

__all__ = ["Settings", "build"]

CONFIG = Path(__file__).resolve().parents[2] / "config"
"""The package's ``config/`` folder: where a relative ``preflight`` path points."""


def build(app: App, settings: Settings) -> list[RegionalBaseline]:
    """One ``security-baseline-<account id>-<region>`` stack per account and region, each account's
    home region first, and ``security-baseline-<account id>-data-events`` in ``account_id``'s home
    region when its ``trail.data_events_from`` names data producers; refused when the preflight
    result names a singleton configured as ``create``.

    Organizations mode: the delegated administrator's stacks follow the management account's stack
    of the same region (delegation comes first).
    """
    if settings.preflight is not None:
        preflight.check(settings, preflight.read(CONFIG / settings.preflight))
    stacks: list[RegionalBaseline] = []
    for label in settings.covered:
        home = settings.home_region(label)
        regions = (home, *(r for r in settings.account_regions(label) if r != home))
        stacks.extend(RegionalBaseline(app, settings, label, region) for region in regions)
    org = settings.organization
    if org.enabled:
        delegating = {s.region: s for s in stacks if s.label == org.management_account}
        for stack in stacks:
            if stack.label == org.delegated_admin_account and stack.region in delegating:
                stack.add_dependency(delegating[stack.region])
    if settings.trail_for(settings.platform_label).data_events_from:
        DataEventsStack(app, settings)
    return stacks
