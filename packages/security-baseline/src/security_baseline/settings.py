"""Settings of the security baseline: regions, account-singleton switches, notifications, retention."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from shared_constructs.settings import BaseSettings, Email, PositiveInt, Region, Strict, apply_overrides
from shared_constructs.tagging import tag_values

DETECTOR_ID = re.compile(r"^[a-z0-9]{32}$")
RECORDER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
DEFAULT_REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
"""Every region where another package deploys (DECISIONS.md 13)."""
UNASSIGNED_APP = "unassigned"
"""The App tag remediation gives a resource it finds untagged."""
STANDARDS = ("aws-foundational-security-best-practices", "cis-aws-foundations-benchmark", "pci-dss")
Standard = Literal["aws-foundational-security-best-practices", "cis-aws-foundations-benchmark", "pci-dss"]


class GuardDutySettings(Strict):
    """GuardDuty in one region (DECISIONS.md 4: the detector is an account-region singleton)."""

    mode: Literal["create", "adopt"] = "create"
    """``create``: this package owns the detector. ``adopt``: a detector exists (``detector_id``);
    only the findings export, the rule and the alarms are added."""
    detector_id: str | None = None
    """Id of the existing detector (32 lowercase hex characters). Required with ``mode = "adopt"``."""
    findings_expiration_days: PositiveInt = 90
    """Exported findings are deleted after this many days (payment-platform-security.md 12)."""
    high_severity: float = Field(default=7.0, ge=1.0, le=10.0)
    """Findings with at least this severity go to the security topic (7.0 = HIGH)."""

    @model_validator(mode="after")
    def _adopt_needs_id(self) -> GuardDutySettings:
        if self.mode == "adopt" and not self.detector_id:
            raise ValueError("mode 'adopt' needs detector_id (the id of the existing detector)")
        if self.detector_id is not None and not DETECTOR_ID.fullmatch(self.detector_id):
            raise ValueError(f"detector_id must be 32 lowercase hex characters, got {self.detector_id!r}")
        if self.mode == "create" and self.detector_id:
            raise ValueError(f"detector_id {self.detector_id!r} is only used with mode 'adopt'")
        return self


class ConfigRecorderSettings(Strict):
    """The AWS Config recorder in one region (DECISIONS.md 4: an account-region singleton)."""

    mode: Literal["create", "adopt"] = "create"
    """``create``: this package owns the recorder, delivery channel and snapshots bucket.
    ``adopt``: a recorder (``recorder_name``) records already; only rules and routing are added."""
    recorder_name: str | None = None
    """Name of the existing recorder. Required with ``mode = "adopt"``."""
    delivery_frequency: Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"] = (
        "TwentyFour_Hours"
    )
    """How often configuration snapshots are delivered."""
    snapshot_noncurrent_days: PositiveInt = 365
    """Old versions of snapshot objects are deleted after this many days."""

    @model_validator(mode="after")
    def _adopt_needs_name(self) -> ConfigRecorderSettings:
        if self.mode == "adopt" and not self.recorder_name:
            raise ValueError("mode 'adopt' needs recorder_name (the name of the existing recorder)")
        if self.recorder_name is not None and not RECORDER_NAME.fullmatch(self.recorder_name):
            raise ValueError(f"recorder_name must be 1-256 of [A-Za-z0-9_.-], got {self.recorder_name!r}")
        if self.mode == "create" and self.recorder_name:
            raise ValueError(f"recorder_name {self.recorder_name!r} is only used with mode 'adopt'")
        return self


class SecurityHubSettings(Strict):
    """Security Hub in one region (beyond the documents)."""

    mode: Literal["create", "adopt", "off"] = "create"
    """``create``: enable Security Hub. ``adopt``: it is enabled already; only subscribe the standards.
    ``off``: nothing."""
    standards: tuple[Standard, ...] = STANDARDS  # type: ignore[assignment]
    """Standards to subscribe (AWS FSBP 1.0.0, CIS 1.4.0, PCI DSS 3.2.1)."""


class RegionOverride(Strict):
    """Per-region values laid over the defaults (for example an adopted detector's id)."""

    guardduty: dict[str, Any] = Field(default_factory=dict)
    config_recorder: dict[str, Any] = Field(default_factory=dict)
    security_hub: dict[str, Any] = Field(default_factory=dict)


class NotificationSettings(Strict):
    """Who is told."""

    security_emails: tuple[Email, ...] = ()
    """E-mail subscriptions of the security topic in every region."""
    compliance_emails: tuple[Email, ...] = ()
    """E-mail subscriptions of the compliance topic in every region."""


class TrailSettings(Strict):
    """The account's multi-region CloudTrail (home region)."""

    archive_expiration_days: int = Field(default=2555, ge=365)
    """Trail log files in the log archive bucket are deleted after this many days (default 7 years;
    at least 365: PCI DSS 10.5.1 keeps audit logs for 12 months). They move to Glacier Instant
    Retrieval after 90 days, keeping the last three months in S3 Standard."""
    alarm_period_s: Literal[60, 300, 900, 3600] = 300
    """Evaluation period of the CIS alarms."""


class RemediationSettings(Strict):
    """The Config remediation function."""

    tag_defaults: dict[str, str] = Field(default_factory=dict)
    """Values for missing required tags, laid over the defaults taken from these settings
    (Environment, CostCenter, Owner, DataClassification; ManagedBy = ``manual``,
    App = ``unassigned``)."""
    reserved_concurrency: PositiveInt = 2
    """Config evaluations arrive in small bursts; 2 keeps remediation serial enough to be safe."""


class Regional(Strict):
    """The switches of one region after overrides."""

    region: Region
    home: bool
    guardduty: GuardDutySettings
    config_recorder: ConfigRecorderSettings
    security_hub: SecurityHubSettings


class Settings(BaseSettings):
    """Settings of the security-baseline app."""

    regions: tuple[Region, ...] = DEFAULT_REGIONS
    """Regions that get a baseline stack (every region another package deploys to)."""
    home_region: Region = "us-east-1"
    """Region of the account-wide parts: trail, CIS alarms, log archive, global-resource recording."""
    guardduty: GuardDutySettings = GuardDutySettings()
    config_recorder: ConfigRecorderSettings = ConfigRecorderSettings()
    security_hub: SecurityHubSettings = SecurityHubSettings()
    notifications: NotificationSettings = NotificationSettings()
    trail: TrailSettings = TrailSettings()
    remediation: RemediationSettings = RemediationSettings()
    region_overrides: dict[Region, RegionOverride] = Field(default_factory=dict)
    """Per-region values, e.g. ``[region_overrides.eu-west-1.guardduty] mode = "adopt"``."""

    # Field validators (not one model validator) so that each error names its own key.
    @field_validator("regions")
    @classmethod
    def _regions_unique(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        if not regions or len(set(regions)) != len(regions):
            raise ValueError(f"regions must be a non-empty list that does not repeat, got {list(regions)}")
        return regions

    @field_validator("home_region")
    @classmethod
    def _home_in_regions(cls, home: str, info: ValidationInfo) -> str:
        regions = info.data.get("regions")
        if regions is not None and home not in regions:
            raise ValueError(f"home_region {home!r} must be one of regions {list(regions)}")
        return home

    @field_validator("region_overrides")
    @classmethod
    def _overrides_resolve(
        cls, overrides: dict[str, RegionOverride], info: ValidationInfo
    ) -> dict[str, RegionOverride]:
        regions = info.data.get("regions")
        if regions is None:
            return overrides
        stray = sorted(set(overrides) - set(regions))
        if stray:
            raise ValueError(f"region_overrides for {stray} name regions not in regions {list(regions)}")
        for region, override in overrides.items():
            for section in ("guardduty", "config_recorder", "security_hub"):
                defaults = info.data.get(section)
                if defaults is None:
                    continue
                try:
                    apply_overrides(defaults, getattr(override, section))
                except ValueError as exc:
                    raise ValueError(f"region_overrides.{region}.{section}: {_first_line(exc)}") from None
        return overrides

    def regional(self, region: str) -> Regional:
        """The resolved switches of ``region`` (defaults with that region's overrides)."""
        override = self.region_overrides.get(region, RegionOverride())
        return Regional(
            region=region,
            home=region == self.home_region,
            guardduty=apply_overrides(self.guardduty, override.guardduty),
            config_recorder=apply_overrides(self.config_recorder, override.config_recorder),
            security_hub=apply_overrides(self.security_hub, override.security_hub),
        )

    def tag_defaults(self) -> dict[str, str]:
        """Values the remediation function gives missing required tags."""
        # Resources found untagged were not created by this platform: say so, do not claim them.
        derived = tag_values(self, UNASSIGNED_APP, managed_by="manual")
        return {**derived, **self.remediation.tag_defaults}


def _first_line(exc: Exception) -> str:
    """The readable part of an error raised while resolving an override: ``key: message``."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors(include_url=False):
            key = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"{key}: {message}" if key else message)
        return "; ".join(parts)
    return str(exc)
