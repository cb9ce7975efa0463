"""One side of the peering as the constructs see it: its settings, account, region and provider.

Every construct of this package takes a :class:`PeerSide` and creates its resources with that
side's provider and names them with the side's label, so the same code builds both accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from shared_constructs.cdk import Construct, TerraformResource
from shared_constructs.naming import Kind, Namer

from network_peering.settings import Settings, Side


@dataclass(frozen=True, kw_only=True)
class PeerSide:
    """``label`` is ``trading`` (requester) or ``analytics`` (accepter)."""

    label: str
    config: Side
    settings: Settings
    provider: AwsProvider
    namer: Namer

    @property
    def account(self) -> str:
        return self.config.account_id

    @property
    def region(self) -> str:
        return self.config.region

    def name(self, kind: Kind, resource: str) -> str:
        """A name for ``resource`` on this side: ``<service>-<label>-<resource>-<region>-<suffix>``."""
        return self.namer.name(kind, f"{self.label}-{resource}", region=self.region)

    def tag_name(self, resource: str) -> dict[str, str]:
        """The ``Name`` tag of an EC2 resource on this side."""
        return {"Name": self.name(Kind.GENERIC, resource)}


def use_provider(construct: Construct, provider: AwsProvider) -> None:
    """Create every resource under ``construct`` with ``provider``.

    For shared constructs that do not take a provider yet (``LeastPrivilegeRole``): call it once
    the construct has created all its resources.
    """
    for child in construct.node.find_all():
        if isinstance(child, TerraformResource):
            child.provider = provider
