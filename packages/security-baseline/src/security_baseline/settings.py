"""Settings of the security baseline: regions, account-singleton switches, notifications, retention."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator
from shared_constructs.regions import PLATFORM_REGIONS
from shared_constructs.settings import Email, MultiRegionSettings, PositiveInt, Problems, Region, Strict

DETECTOR_ID = re.compile(r"^[a-z0-9]{32}$")
RECORDER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
Standard = Literal["aws-foundational-security-best-practices", "cis-aws-foundations-benchmark", "pci-dss"]
STANDARDS: tuple[Standard, ...] = (
    "aws-foundational-security-best-practices",
    "cis-aws-foundations-benchmark",
    "pci-dss",
)


def _adoption_problems(mode: str, key: str, value: str | None, pattern: re.Pattern[str], expected: str) -> None:
    """A section that adopts an existing singleton names it; one that creates it names none."""
    problems = Problems()
    if mode == "adopt" and not value:
        problems.add((key,), value, f"mode 'adopt' needs {key} (the existing one's)")
    if value is not None and not pattern.fullmatch(value):
        problems.add((key,), value, f"expected {expected}")
    if mode == "create" and value:
        problems.add((key,), value, "is only used with mode 'adopt'")
    problems.raise_if_any("adoption")


class GuardDutySettings(Strict):
    """GuardDuty in one region (the detector is an account-region singleton,
    docs/decisions/0002-account-singletons.md)."""

    mode: Literal["create", "adopt"] = "create"
    """``create``: this package owns the detector. ``adopt``: a detector exists (``detector_id``);
    only the findings export, the rule and the alarms are added."""
    detector_id: str | None = None
    """Id of the existing detector (32 lowercase hex characters). Required with ``mode = "adopt"``."""
    findings_expiration_days: PositiveInt = 90
    """Exported findings are deleted after this many days (the security requirements keep them 90)."""
    high_severity: float = Field(default=7.0, ge=1.0, le=10.0)
    """Findings with at least this severity go to the security topic (7.0 = HIGH)."""

    @model_validator(mode="after")
    def _adopt_needs_id(self) -> GuardDutySettings:
        _adoption_problems(self.mode, "detector_id", self.detector_id, DETECTOR_ID, "32 lowercase hex characters")
        return self


class ConfigRecorderSettings(Strict):
    """The AWS Config recorder in one region (an account-region singleton,
    docs/decisions/0002-account-singletons.md)."""

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
        _adoption_problems(self.mode, "recorder_name", self.recorder_name, RECORDER_NAME, "1-256 of [A-Za-z0-9_.-]")
        return self


class SecurityHubSettings(Strict):
    """Security Hub in one region (beyond the documents)."""

    mode: Literal["create", "adopt", "off"] = "create"
    """``create``: enable Security Hub. ``adopt``: it is enabled already; only subscribe the standards.
    ``off``: nothing."""
    standards: tuple[Standard, ...] = STANDARDS
    """Standards to subscribe (AWS FSBP 1.0.0, CIS 1.4.0, PCI DSS 3.2.1)."""


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
    """The Config remediation function. It writes no tag value from settings: what it adds to a
    resource it did not create is only what it can know (docs/decisions/0019-remediation-never-attests.md)."""

    reserved_concurrency: PositiveInt = 2
    """Config evaluations arrive in small bursts; 2 keeps remediation serial enough to be safe."""


class Regional(Strict):
    """What every region gets, and what ``region_overrides`` may change for one region
    (``[region_overrides.eu-west-1.guardduty] mode = "adopt"``)."""

    guardduty: GuardDutySettings = GuardDutySettings()
    config_recorder: ConfigRecorderSettings = ConfigRecorderSettings()
    security_hub: SecurityHubSettings = SecurityHubSettings()


class Settings(MultiRegionSettings[Regional]):
    """Settings of the security-baseline app.

    ``regions``: every region another package deploys to (default: ``PLATFORM_REGIONS``).
    ``primary_region``: the home region of the account-wide parts: trail, CIS alarms, log archive,
    global-resource recording. ``regional``: GuardDuty, the Config recorder and Security Hub of
    every region; ``region_overrides`` change them per region.
    """

    regions: tuple[Region, ...] = PLATFORM_REGIONS
    primary_region: Region = PLATFORM_REGIONS[0]
    notifications: NotificationSettings = NotificationSettings()
    trail: TrailSettings = TrailSettings()
    remediation: RemediationSettings = RemediationSettings()
