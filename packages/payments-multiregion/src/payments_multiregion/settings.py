"""Settings of the payments app: regions, capacity, per-region knobs with overrides, DNS, alarms."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from shared_constructs.functions import check_capacity, required_concurrency
from shared_constructs.settings import (
    BaseSettings,
    Email,
    PositiveFloat,
    PositiveInt,
    Region,
    Strict,
    apply_overrides,
)

DEFAULT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class CapacitySettings(Strict):
    """Load the transaction path is sized for (DECISIONS.md 5)."""

    target_tps_global: PositiveFloat = 10_000
    """Payments per second across all regions."""
    expected_duration_s: PositiveFloat = 0.15
    """Lambda busy time per payment, summed over its workflow steps (validate, authorize, record)."""
    headroom: float = Field(default=1.2, ge=1)
    """Multiplier on the computed concurrency for bursts."""
    survive_region_loss: bool = True
    """Size every region to carry the global target with one region lost (target / (regions - 1)).
    False: target / regions (no failover reserve)."""


class RegionSettings(Strict):
    """Per-region knobs. ``region_overrides`` changes them for one region only."""

    in_service: bool = True
    """False drains the region: its health check is inverted, so Route 53 withdraws its latency
    record while everything keeps running (the runbook's manual failover)."""
    transaction_concurrency: PositiveInt | None = None
    """Reserved concurrency of the transaction function. Default: computed from ``capacity``;
    a value that cannot carry the region's target fails synthesis."""
    cdc_concurrency: PositiveInt = 10
    """Reserved concurrency of the stream consumer (at most one concurrent batch per shard)."""
    health_concurrency: PositiveInt = 2
    """Reserved concurrency of the health-check function (schedule plus Route 53 probes)."""
    api_rate_limit: PositiveFloat = 1000
    """Steady-state requests per second the regional API accepts before throttling (429)."""
    api_burst_limit: PositiveInt = 2000
    """Burst bucket of the regional API."""
    waf_rate_limit_per_ip: int = Field(default=2000, ge=100, le=2_000_000_000)
    """Requests one client IP may send in any 5 minutes before the web ACL blocks it."""
    max_amount: str = "1000000"
    """Authorization limit per payment (decimal string)."""
    currencies: list[str] = Field(default_factory=lambda: ["USD", "EUR", "GBP", "JPY", "SGD", "AUD"])
    """ISO 4217 codes accepted in this region (data residency rules differ per region)."""
    receipts_ia_days: PositiveInt = 30
    """Move receipts to STANDARD_IA after this many days."""
    receipts_glacier_days: PositiveInt = 365
    """Move receipts to GLACIER after this many days."""
    receipts_expiration_days: PositiveInt = 2557
    """Delete receipts after this many days (7 years by default)."""

    @field_validator("max_amount")
    @classmethod
    def _decimal(cls, value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"expected a positive decimal string, got {value!r}") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"expected a positive decimal string, got {value!r}")
        return value

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.fullmatch(r"[A-Z]{3}", c)]
        if bad or not value:
            raise ValueError(f"expected ISO 4217 codes such as 'USD', got {bad or value}")
        return value

    @field_validator("receipts_expiration_days")
    @classmethod
    def _after_transitions(cls, value: int, info: ValidationInfo) -> int:
        glacier = info.data.get("receipts_glacier_days", 0)
        if value <= glacier:
            raise ValueError(f"must be later than receipts_glacier_days ({glacier}), got {value}")
        return value


class DnsSettings(Strict):
    """The public name of the API and its health checks."""

    domain: str = "payments.example.com"
    """The hosted zone's domain; the API answers at ``<api_subdomain>.<domain>``."""
    hosted_zone_id: str | None = None
    """An existing public hosted zone for ``domain``. Default: the global stack creates the zone
    (sandboxes and the emulator); regional stacks find it by name."""
    api_subdomain: str = Field(default="api", pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    health_check_interval_s: Literal[10, 30] = 30
    """Route 53 probes every 30 s (or 10 s, fast health checks)."""
    health_check_failure_threshold: int = Field(default=3, ge=1, le=10)
    """Consecutive failed probes before a region is unhealthy and leaves DNS."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.fullmatch(value):
            raise ValueError(f"expected a lowercase DNS domain such as payments.example.com, got {value!r}")
        return value

    @property
    def api_name(self) -> str:
        return f"{self.api_subdomain}.{self.domain}"


class AlarmSettings(Strict):
    """Failure-rate alarms (payments-multiregion.md item 11)."""

    failure_rate_percent: PositiveFloat = 0.1
    """Alarm when failed / invoked exceeds this percentage."""
    period_s: Literal[60, 300] = 60
    evaluation_periods: PositiveInt = 5
    datapoints_to_alarm: PositiveInt = 3


class WorkflowSettings(Strict):
    """The payment workflow and the API in front of it."""

    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"
    """STANDARD (asynchronous, exactly-once, up to a year) or EXPRESS (synchronous through the API,
    at-least-once, up to 5 minutes, built for high rates). See the README's capacity section."""
    stage_name: str = Field(default="v1", pattern=r"^[a-zA-Z0-9_]{1,64}$")


class Settings(BaseSettings):
    """Settings of payments-multiregion (see the README for every key and its default)."""

    regions: list[Region] = Field(default_factory=lambda: list(DEFAULT_REGIONS), min_length=1)
    """Regions that run the full payment stack; the global table has a replica in each."""
    primary_region: Region = "us-east-1"
    """Holds the global stack (table, dashboard) and receives every region's alerts."""
    capacity: CapacitySettings = CapacitySettings()
    regional: RegionSettings = RegionSettings()
    """Defaults for every region."""
    region_overrides: dict[Region, dict[str, Any]] = Field(default_factory=dict)
    """Per-region changes merged over ``regional``: ``{"eu-west-1" = {api_rate_limit = 500}}``."""
    dns: DnsSettings = DnsSettings()
    alarms: AlarmSettings = AlarmSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    alert_emails: list[Email] = Field(default_factory=list)
    """Subscribed to the primary region's alert topic (each must confirm by e-mail)."""

    @field_validator("regions")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({r for r in value if value.count(r) > 1})
        if duplicates:
            raise ValueError(f"regions must be unique, got {', '.join(duplicates)} more than once")
        return value

    @field_validator("primary_region")
    @classmethod
    def _primary_in_regions(cls, value: str, info: ValidationInfo) -> str:
        regions = info.data.get("regions")
        if regions is not None and value not in regions:
            raise ValueError(f"must be one of regions {regions}")
        return value

    @field_validator("region_overrides")
    @classmethod
    def _overrides(cls, value: dict[str, dict[str, Any]], info: ValidationInfo) -> dict[str, dict[str, Any]]:
        if "regions" not in info.data:
            return value  # regions itself is invalid and reported
        regions = info.data["regions"]
        unknown = sorted(set(value) - set(regions))
        if unknown:
            raise ValueError(f"overrides for {', '.join(unknown)}, which are not in regions {regions}")
        defaults = info.data.get("regional") or RegionSettings()
        for region, override in value.items():
            try:
                apply_overrides(defaults, override)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"override for {region} is invalid: {problems}") from None
        return value

    def for_region(self, region: str) -> RegionSettings:
        """The knobs of ``region``: ``regional`` with that region's override merged over it."""
        return apply_overrides(self.regional, self.region_overrides.get(region, {}))

    @property
    def secondary_regions(self) -> list[str]:
        return [r for r in self.regions if r != self.primary_region]

    @property
    def target_tps_per_region(self) -> float:
        """The load one region must carry: its share, or with ``survive_region_loss`` the share
        when one region is down."""
        count = len(self.regions)
        carriers = count - 1 if self.capacity.survive_region_loss and count > 1 else count
        return self.capacity.target_tps_global / carriers

    def transaction_concurrency(self, region: str) -> int:
        """Reserved concurrency of the transaction function in ``region``.

        Raises :class:`shared_constructs.functions.CapacityError` (with the numbers) when a
        configured value cannot carry the region's target.
        """
        cap = self.capacity
        configured = self.for_region(region).transaction_concurrency
        if configured is None:
            return required_concurrency(self.target_tps_per_region, cap.expected_duration_s, cap.headroom)
        check_capacity(
            f"transaction function in {region}",
            configured,
            self.target_tps_per_region,
            cap.expected_duration_s,
            cap.headroom,
        )
        return configured
