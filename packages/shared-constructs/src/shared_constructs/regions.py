"""The AWS regions the platform accepts, the short codes used inside resource names, and the
default region of every app (docs/decisions/0011-regions-and-accounts.md), defined here once."""

from __future__ import annotations

AWS_REGIONS: dict[str, str] = {
    "us-east-1": "use1",
    "us-east-2": "use2",
    "us-west-1": "usw1",
    "us-west-2": "usw2",
    "af-south-1": "afs1",
    "ap-east-1": "ape1",
    "ap-south-1": "aps1",
    "ap-south-2": "aps2",
    "ap-southeast-1": "apse1",
    "ap-southeast-2": "apse2",
    "ap-southeast-3": "apse3",
    "ap-southeast-4": "apse4",
    "ap-southeast-5": "apse5",
    "ap-southeast-7": "apse7",
    "ap-northeast-1": "apne1",
    "ap-northeast-2": "apne2",
    "ap-northeast-3": "apne3",
    "ca-central-1": "cac1",
    "ca-west-1": "caw1",
    "eu-central-1": "euc1",
    "eu-central-2": "euc2",
    "eu-west-1": "euw1",
    "eu-west-2": "euw2",
    "eu-west-3": "euw3",
    "eu-south-1": "eus1",
    "eu-south-2": "eus2",
    "eu-north-1": "eun1",
    "il-central-1": "ilc1",
    "me-south-1": "mes1",
    "me-central-1": "mec1",
    "mx-central-1": "mxc1",
    "sa-east-1": "sae1",
}
"""Region code to the short code used in names (``ap-southeast-1`` -> ``apse1``)."""


def short_region(region: str) -> str:
    """The short code of ``region`` for resource names; raises ``ValueError`` for an unknown region."""
    try:
        return AWS_REGIONS[region]
    except KeyError:
        raise ValueError(f"unknown AWS region {region!r}; expected one of {', '.join(AWS_REGIONS)}") from None


PAYMENTS_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-1")
"""payments-multiregion: active-active in these regions, the first one primary."""
TRADING_REGION = "us-east-1"
"""network-peering: the trading (requester) side."""
ANALYTICS_REGION = "us-east-2"
"""network-peering: the analytics (accepter) side."""
PCI_REGION = "ap-southeast-1"
"""pci-platform: the one region of the PCI platform."""
PLATFORM_REGIONS: tuple[str, ...] = tuple(
    dict.fromkeys((TRADING_REGION, ANALYTICS_REGION, *PAYMENTS_REGIONS, PCI_REGION))
)
"""Every region another app deploys to by default: security-baseline covers each of them."""
