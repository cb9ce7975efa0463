"""Settings of the security baseline: accounts, regions, account-singleton switches, organizations
mode, notifications, retention."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from shared_constructs.contracts.data_buckets import DATA_PRODUCERS
from shared_constructs.regions import PLATFORM_REGIONS
from shared_constructs.settings import (
    Email,
    MultiRegionSettings,
    PositiveInt,
    Problems,
    Region,
    Strict,
    apply_overrides,
    deep_merge,
)

from security_baseline.accounts import LABEL, MAIN, Account, OrganizationSettings

DETECTOR_ID = re.compile(r"^[a-z0-9]{32}$")
RECORDER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
Standard = Literal["aws-foundational-security-best-practices", "cis-aws-foundations-benchmark", "pci-dss"]
SeverityLabel = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"]
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


class ProtectionPlans(Strict):
    """GuardDuty protection plans of a created detector, each set explicitly on or off
    (``aws_guardduty_detector_feature``), so the account's defaults never decide. Default: all on."""

    s3: bool = True
    """S3 Protection: object-level API activity on every bucket (``S3_DATA_EVENTS``)."""
    eks: bool = True
    """EKS audit-log monitoring (``EKS_AUDIT_LOGS``)."""
    runtime: bool = True
    """Runtime Monitoring (``RUNTIME_MONITORING``) with GuardDuty managing its agent on EKS, ECS
    Fargate and EC2 (the plan sees nothing without the agent)."""
    malware: bool = True
    """Malware Protection for EC2: scans EBS volumes of instances with suspicious findings
    (``EBS_MALWARE_PROTECTION``)."""
    rds: bool = True
    """RDS Protection: Aurora login activity (``RDS_LOGIN_EVENTS``)."""
    lambda_network: bool = True
    """Lambda Protection: network activity of functions (``LAMBDA_NETWORK_LOGS``)."""


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
    protection: ProtectionPlans = ProtectionPlans()
    """Protection plans of the detector this package creates. An adopted detector keeps its owner's
    plans (its owner, often an organization's delegated administrator, sets them)."""

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
    """Standards to subscribe (AWS FSBP 1.0.0, CIS AWS Foundations 3.0.0, PCI DSS 4.0.1)."""
    notify_severities: tuple[SeverityLabel, ...] = ("CRITICAL", "HIGH")
    """Severity labels of Security Hub findings sent to the security topic (new, active and not
    suppressed; GuardDuty's own findings come through its rule instead). Failed controls of
    lower severity stay in Security Hub."""


class NotificationSettings(Strict):
    """Who is told."""

    security_emails: tuple[Email, ...] = ()
    """E-mail subscriptions of the security topic in every region."""
    compliance_emails: tuple[Email, ...] = ()
    """E-mail subscriptions of the compliance topic in every region."""


TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,127}$")
LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9_./#-]{1,512}$")


class TrailSettings(Strict):
    """The account's multi-region CloudTrail (home region)."""

    mode: Literal["create", "adopt"] = "create"
    """``create``: this package owns the trail, its log archive bucket and log group. ``adopt``: a
    multi-region trail (``trail_name``) logs already; only the CIS metric filters and alarms are added,
    on its log group (``log_group_name``)."""
    trail_name: str | None = None
    """Name of the existing multi-region trail. Required with ``mode = "adopt"``."""
    log_group_name: str | None = None
    """The CloudWatch Logs group the existing trail delivers to (the CIS alarms read it). Required
    with ``mode = "adopt"``."""

    archive_expiration_days: int = Field(default=2555, ge=365)
    """Trail log files in the log archive bucket are deleted after this many days (default 7 years;
    at least 365: PCI DSS 10.5.1 keeps audit logs for 12 months). They move to Glacier Instant
    Retrieval after 90 days, keeping the last three months in S3 Standard."""
    alarm_period_s: Literal[60, 300, 900, 3600] = 300
    """Evaluation period of the CIS alarms."""
    data_events_from: tuple[str, ...] = tuple(DATA_PRODUCERS)
    """Packages whose published cardholder and confidential data buckets get CloudTrail data events
    (S3 object-level), in the ``security-baseline-<account id>-data-events`` stack of ``account_id``
    (where the producers deploy; its home region), deployed after them. Default: every producer in
    ``shared_constructs.contracts.data_buckets``. Empty: no such stack (a sandbox that deploys the
    baseline without those packages). An account's own ``trail`` sets it only for ``account_id``."""

    @model_validator(mode="after")
    def _known_producers(self) -> TrailSettings:
        problems = Problems()
        for index, producer in enumerate(self.data_events_from):
            if producer not in DATA_PRODUCERS:
                problems.add(
                    ("data_events_from", index), producer, f"expected one of {sorted(DATA_PRODUCERS)} (data producers)"
                )
        problems.raise_if_any("trail")
        return self

    @model_validator(mode="after")
    def _adopt_needs_names(self) -> TrailSettings:
        problems = Problems()
        for key, pattern, expected in (
            ("trail_name", TRAIL_NAME, "3-128 of [A-Za-z0-9_.-], starting with a letter or digit"),
            ("log_group_name", LOG_GROUP_NAME, "1-512 of [A-Za-z0-9_./#-]"),
        ):
            try:
                _adoption_problems(self.mode, key, getattr(self, key), pattern, expected)
            except ValidationError as exc:
                problems.extend((), exc)
        problems.raise_if_any("trail")
        return self


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
    every region; ``region_overrides`` change them per region (of every account), an account's own
    ``region_overrides`` for that account only.
    """

    regions: tuple[Region, ...] = PLATFORM_REGIONS
    primary_region: Region = PLATFORM_REGIONS[0]
    notifications: NotificationSettings = NotificationSettings()
    trail: TrailSettings = TrailSettings()
    remediation: RemediationSettings = RemediationSettings()
    accounts: dict[str, Account] = Field(default_factory=dict)
    """The accounts the baseline covers, by label (``[accounts.trading]``); one of them is
    ``account_id``. Default: that account alone, labelled ``main``, in ``regions``."""
    organization: OrganizationSettings = OrganizationSettings()
    preflight: str | None = None
    """The preflight result synthesis checks (``nox -s preflight -- security-baseline --env <env>``
    writes ``config/<env>.preflight.json``): a path relative to ``config/`` or absolute. Synthesis
    refuses ``create`` for a singleton preflight found. Default: no check."""

    @property
    def covered(self) -> dict[str, Account]:
        """Every account the baseline covers, by label (``accounts``, or ``main`` alone)."""
        return dict(self.accounts) or {MAIN: Account(id=self.account_id)}

    @property
    def platform_label(self) -> str:
        """The label of ``account_id`` (the deployer's account, where the data producers deploy)."""
        return next(label for label, account in self.covered.items() if account.id == self.account_id)

    def qualifier(self, label: str) -> str:
        """What sets account ``label``'s names apart: nothing for ``account_id`` (names as before
        accounts were configured), the label for every other account (names ``baseline-<label>-...``). Bucket names are global and
        ``flat-outputs.json`` is one object, so two accounts' names must differ."""
        return "" if self.covered[label].id == self.account_id else label

    def account_regions(self, label: str) -> tuple[str, ...]:
        """The regions of account ``label``'s stacks."""
        return self.covered[label].regions or self.regions

    def home_region(self, label: str) -> str:
        """Where account ``label`` keeps its account-wide parts (trail, CIS alarms, global recording):
        ``primary_region`` when the account has a stack there, else its first region."""
        regions = self.account_regions(label)
        return self.primary_region if self.primary_region in regions else regions[0]

    def for_account(self, label: str, region: str) -> Regional:
        """The values of ``region`` in account ``label``: ``regional``, then the top-level override of
        the region, then the account's."""
        if region not in self.account_regions(label):
            raise ValueError(f"region {region!r} is not one of account {label!r}'s {list(self.account_regions(label))}")
        override = deep_merge(
            self.region_overrides.get(region, {}), self.covered[label].region_overrides.get(region, {})
        )
        return apply_overrides(self.regional, override)

    def trail_for(self, label: str) -> TrailSettings:
        """The trail of account ``label``: ``trail`` with the account's ``trail`` values over it."""
        return apply_overrides(self.trail, self.covered[label].trail)

    @model_validator(mode="after")
    def _accounts_agree(self) -> Settings:
        problems = Problems()
        covered = self.covered
        for label, account in covered.items():
            self._account_problems(problems, label, account)
        ids = [a.id for a in covered.values()]
        for repeated in sorted({i for i in ids if ids.count(i) > 1}):
            problems.add(("accounts",), sorted(covered), f"expected each account once; {repeated} is listed twice")
        if self.account_id not in ids:
            problems.add(("accounts",), sorted(covered), f"expected account_id {self.account_id} among the accounts")
        self._organization_problems(problems, covered)
        problems.raise_if_any("Settings")
        return self

    def _account_problems(self, problems: Problems, label: str, account: Account) -> None:
        where = ("accounts", label)
        if not LABEL.fullmatch(label):
            problems.add(
                where, label, f"expected a label of 1-15 lowercase letters or digits (pattern {LABEL.pattern})"
            )
        role = account.assume_role_arn
        if role is None and account.id != self.account_id:
            problems.add(
                (*where, "assume_role_arn"),
                None,
                f"required: account {account.id} is not account_id {self.account_id}, whose credentials deploy",
            )
        if role is not None and role.split(":")[4] != account.id:
            problems.add((*where, "assume_role_arn"), role, f"expected a role in account {account.id}")
        regions = self.account_regions(label)
        if len(set(regions)) != len(regions):
            problems.add((*where, "regions"), list(regions), "expected each region once")
        for region in sorted(set(account.region_overrides) - set(regions)):
            problems.add((*where, "region_overrides", region), region, f"expected a region of {list(regions)}")
        for region in regions:
            try:
                self.for_account(label, region)
            except ValidationError as exc:
                problems.extend((*where, "region_overrides", region), exc)
        try:
            self.trail_for(label)
        except ValidationError as exc:
            problems.extend((*where, "trail"), exc)
        if "data_events_from" in account.trail and account.id != self.account_id:
            problems.add(
                (*where, "trail", "data_events_from"),
                account.trail["data_events_from"],
                f"expected only in account_id {self.account_id}'s trail (the data producers' account)",
            )

    def _organization_problems(self, problems: Problems, covered: dict[str, Account]) -> None:
        org = self.organization
        if not org.enabled:
            return
        for key in ("management_account", "delegated_admin_account"):
            value = getattr(org, key)
            if value not in covered:
                problems.add(("organization", key), value, f"expected the label of one of accounts {sorted(covered)}")
        if org.management_account is not None and org.management_account == org.delegated_admin_account:
            problems.add(
                ("organization", "delegated_admin_account"),
                org.delegated_admin_account,
                "expected an account other than the management account (AWS recommends a security account)",
            )
