"""What one side of the peering builds is named ``<service>-<side>-<resource>-<region>-<suffix>``,
so both sides can share an account (a sandbox) without their names colliding."""

from __future__ import annotations

from shared_constructs.context import AppContext
from shared_constructs.naming import Kind

from network_peering.settings import Settings, SideName


def peer_of(side: SideName) -> SideName:
    """The other side."""
    return "analytics" if side == "trading" else "trading"


def side_name(context: AppContext[Settings], side: SideName, kind: Kind, resource: str) -> str:
    """The name of ``resource`` of ``side``, built in ``context`` (that side's account and region)."""
    return context.name(kind, f"{side}-{resource}")


def name_tag(context: AppContext[Settings], side: SideName, resource: str) -> dict[str, str]:
    """The ``Name`` tag of an EC2 resource of ``side``."""
    return {"Name": side_name(context, side, Kind.GENERIC, resource)}
