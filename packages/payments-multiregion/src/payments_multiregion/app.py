"""payments-multiregion: active-active payment processing in every configured region.

Stacks, in deployment order (recorded as stack dependencies in the synthesized manifest):

1. ``payments-global`` - the DynamoDB global table and a key per replica, the hosted zone (when
   configuration does not name one), the dashboard over every region.
2. ``payments-<region>`` for each region - independent of each other; each reads only the global
   stack's table (its stream) and zone, and names other regions' resources deterministically.
3. ``payments-links`` - receipts replication and cross-region alert subscriptions, which need
   every region deployed.
"""

from __future__ import annotations

from shared_constructs.cdk import App

from payments_multiregion.global_stack import GlobalStack
from payments_multiregion.links_stack import LinksStack
from payments_multiregion.regional_stack import RegionalStack
from payments_multiregion.settings import Settings

__all__ = ["Settings", "build"]


def build(app: App, settings: Settings) -> None:
    """Add every stack of the app to ``app``."""
    global_stack = GlobalStack(app, settings)
    regional = []
    for region in settings.regions:
        stack = RegionalStack(app, settings, region)
        stack.add_dependency(global_stack)
        regional.append(stack)
    links = LinksStack(app, settings)
    for stack in regional:
        links.add_dependency(stack)
