"""The platform's tag policy: one required set, applied through ``default_tags``."""

from __future__ import annotations

from shared_constructs.settings import BaseSettings

REQUIRED_TAGS: tuple[str, ...] = (
    "Environment",
    "CostCenter",
    "Owner",
    "DataClassification",
    "ManagedBy",
    "Package",
)
"""Tag keys every taggable resource carries."""
REGIONAL_TAG = "Region"
"""Carried in addition by every regional resource."""
MANAGED_BY = "cdktf"


def required_tags(settings: BaseSettings, package: str, region: str | None = None) -> dict[str, str]:
    """The tags for ``package`` in ``region``: the required set, then ``settings.extra_tags``.

    Extra tags may add keys but never replace a required one.
    """
    tags = {
        "Environment": settings.environment,
        "CostCenter": settings.cost_center,
        "Owner": settings.owner,
        "DataClassification": settings.data_classification,
        "ManagedBy": MANAGED_BY,
        "Package": package,
    }
    if region is not None:
        tags[REGIONAL_TAG] = region
    clashes = sorted(set(settings.extra_tags) & set(tags))
    if clashes:
        raise ValueError(f"extra_tags may not replace required tags: {', '.join(clashes)}")
    return {**tags, **dict(sorted(settings.extra_tags.items()))}
