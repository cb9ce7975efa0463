"""The platform's tag policy: one required set, applied through ``default_tags``
(docs/decisions/0010-one-tag-policy.md)."""

from __future__ import annotations

from shared_constructs.settings import BaseSettings

APP_TAG = "App"
"""The tag naming the app (package) a resource belongs to."""
MANAGED_BY_TAG = "ManagedBy"
REQUIRED_TAGS: tuple[str, ...] = (
    "Environment",
    "CostCenter",
    "Owner",
    "DataClassification",
    MANAGED_BY_TAG,
    APP_TAG,
)
"""Tag keys every taggable resource carries."""
NEEDS_CLASSIFICATION_TAG = "NeedsClassification"
"""Marker security-baseline's remediation puts on a resource missing required tags only a person can
set; its value names those keys."""
PEERING_GROUP_TAG = "PeeringSecurityGroup"
"""Marks network-peering's security groups (value: the side); its Config rule checks the groups
carrying it."""
REGIONAL_TAG = "Region"
"""Carried in addition by every regional resource."""
MANAGED_BY = "cdktf"


def tag_values(settings: BaseSettings, app: str, *, managed_by: str = MANAGED_BY) -> dict[str, str]:
    """The value of every key of :data:`REQUIRED_TAGS` for ``app``, in that order."""
    return {
        "Environment": settings.environment,
        "CostCenter": settings.cost_center,
        "Owner": settings.owner,
        "DataClassification": settings.data_classification,
        MANAGED_BY_TAG: managed_by,
        APP_TAG: app,
    }


def required_tags(settings: BaseSettings, app: str, region: str | None = None) -> dict[str, str]:
    """The tags of ``app`` in ``region``: the required set, then ``settings.extra_tags``.

    Extra tags may add keys but never replace a required one.
    """
    tags = tag_values(settings, app)
    if region is not None:
        tags[REGIONAL_TAG] = region
    clashes = sorted(set(settings.extra_tags) & set(tags))
    if clashes:
        raise ValueError(f"extra_tags may not replace required tags: {', '.join(clashes)}")
    return {**tags, **dict(sorted(settings.extra_tags.items()))}
