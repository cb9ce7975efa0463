"""Settings of the payments app: regions, capacity, per-region knobs with overrides, DNS, alarms."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import Field, field_validator, model_validator
from shared_constructs.functions import check_capacity, required_concurrency
from shared_constructs.regions import PAYMENTS_REGIONS
from shared_constructs.settings import (
    Email,
    MultiRegionSettings,
    PositiveFloat,
    PositiveInt,
    Problems,
    Region,
    Strict,
    overlapping,
)

from payments_multiregion.failover import check_failover_time

_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class CapacitySettings(Strict):
    """Load the transaction path is sized for (docs/decisions/0003-sized-concurrency.md)."""

    target_tps_global: PositiveFloat = 10_000
    """Payments per second across all regions."""
    expected_duration_s: PositiveFloat = 0.15
    """Lambda busy time per payment, summed over its workflow steps (validate, authorize, record)."""
    intake_overhead_s: PositiveFloat = 0.05
    """Lambda busy time of the API front per request besides waiting for the workflow (a table read
    and the start call). With EXPRESS workflows the front also waits ``expected_duration_s``."""
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

    @model_validator(mode="after")
    def _after_transitions(self) -> RegionSettings:
        problems = Problems()
        if self.receipts_expiration_days <= self.receipts_glacier_days:
            problems.add(
                ("receipts_expiration_days",),
                self.receipts_expiration_days,
                f"expected a day after receipts_glacier_days ({self.receipts_glacier_days})",
            )
        problems.raise_if_any("RegionSettings")
        return self


class DnsSettings(Strict):
    """The public name of the API and its health checks."""

    domain: str = "payments.example.com"
    """The hosted zone's domain; the API answers at ``<api_subdomain>.<domain>``."""
    hosted_zone_id: str | None = None
    """An existing public hosted zone for ``domain``. Default: the global stack creates the zone
    (sandboxes and the emulator); regional stacks find it by name."""
    api_subdomain: str = Field(default="api", pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    health_check_failure_threshold: int = Field(default=2, ge=1, le=10)
    """Consecutive failed canary minutes (alarm periods) before a region is unhealthy and leaves
    DNS. The failover time it gives must stay within 5 minutes (:mod:`payments_multiregion.failover`)."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.fullmatch(value):
            raise ValueError(f"expected a lowercase DNS domain such as payments.example.com, got {value!r}")
        return value

    @field_validator("health_check_failure_threshold")
    @classmethod
    def _within_rto(cls, value: int) -> int:
        check_failover_time(value)
        return value

    @property
    def api_name(self) -> str:
        return f"{self.api_subdomain}.{self.domain}"


class AlarmSettings(Strict):
    """Failure-rate alarms of every region."""

    failure_rate_percent: PositiveFloat = 0.1
    """Alarm when failed payments / payments exceeds this percentage (the README's formula), and
    when API 5XX or throttled requests do."""
    period_s: Literal[60, 300] = 60
    evaluation_periods: PositiveInt = 5
    datapoints_to_alarm: PositiveInt = 3
    iterator_age_s: PositiveInt = 120
    """Alarm when the oldest unread stream record of the CDC function is older than this (receipts lag)."""


class NetworkSettings(Strict):
    """The private VPC of every region (functions run in it; AWS APIs through endpoints only)."""

    vpc_cidrs: dict[Region, str] = Field(default_factory=dict)
    """VPC CIDR per region (/16 to /22, no two overlapping). Default: 10.64.0.0/16 for the first
    region of ``regions``, 10.65.0.0/16 for the second, and so on."""

    @field_validator("vpc_cidrs")
    @classmethod
    def _cidrs(cls, value: dict[str, str]) -> dict[str, str]:
        for region, cidr in value.items():
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError:
                network = None
            if network is None or not 16 <= network.prefixlen <= 22:
                raise ValueError(
                    f"{region}: expected an IPv4 network from /16 to /22 such as 10.64.0.0/16, got {cidr!r}"
                )
        clashes = overlapping(value.values())
        if clashes:
            raise ValueError(f"expected no two regions' VPCs to overlap, got {clashes}")
        return value


class ReceiptsSettings(Strict):
    """Receipts buckets of every region (see :mod:`payments_multiregion.receipts`)."""

    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = None
    """S3 Object Lock default retention mode of every receipts bucket. Default: no Object Lock
    (sandboxes must be destroyable); prod.toml sets it."""
    object_lock_days: int = Field(default=2557, ge=1, le=36500)
    """Days each receipt version is retained under Object Lock (7 years by default)."""


class WorkflowSettings(Strict):
    """The payment workflow and the API in front of it."""

    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"
    """STANDARD (asynchronous, exactly-once, up to a year) or EXPRESS (synchronous through the API,
    at-least-once, up to 5 minutes, built for high rates). See the README's capacity section."""
    stage_name: str = Field(default="v1", pattern=r"^[a-zA-Z0-9_]{1,64}$")


class Settings(MultiRegionSettings[RegionSettings]):
    """Settings of payments-multiregion (see the README for every key and its default).

    ``regions``: regions that run the full payment stack; the global table has a replica in each.
    ``primary_region``: holds the global stack (table, dashboard) and receives every region's
    alerts. ``regional``: defaults for every region; ``region_overrides`` change them per region
    (``{"eu-west-1" = {api_rate_limit = 500}}``).
    """

    regions: tuple[Region, ...] = PAYMENTS_REGIONS
    primary_region: Region = PAYMENTS_REGIONS[0]
    capacity: CapacitySettings = CapacitySettings()
    dns: DnsSettings = DnsSettings()
    alarms: AlarmSettings = AlarmSettings()
    network: NetworkSettings = NetworkSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    receipts: ReceiptsSettings = ReceiptsSettings()
    alert_emails: list[Email] = Field(default_factory=list)
    """Subscribed to the primary region's alert topic (each must confirm by e-mail)."""

    @model_validator(mode="after")
    def _vpc_regions(self) -> Settings:
        unknown = sorted(set(self.network.vpc_cidrs) - set(self.regions))
        if unknown:
            raise ValueError(f"network.vpc_cidrs: expected regions of {list(self.regions)}, got {unknown}")
        clashes = overlapping(self.vpc_cidr(r) for r in self.regions)
        if clashes:
            raise ValueError(f"network.vpc_cidrs: expected no two regions' VPCs to overlap, got {clashes}")
        return self

    def vpc_cidr(self, region: str) -> str:
        """The VPC CIDR of ``region``: configured, or 10.<64 + index of the region>.0.0/16."""
        return self.network.vpc_cidrs.get(region) or f"10.{64 + self.regions.index(region)}.0.0/16"

    @property
    def target_tps_per_region(self) -> float:
        """The load one region must carry: its share, or with ``survive_region_loss`` the share
        when one region is down."""
        count = len(self.regions)
        carriers = count - 1 if self.capacity.survive_region_loss and count > 1 else count
        return self.capacity.target_tps_global / carriers

    def intake_concurrency(self, region: str) -> int:
        """Reserved concurrency of the API front in ``region`` (Little's law over its busy time,
        which with EXPRESS workflows includes waiting for the synchronous execution)."""
        cap = self.capacity
        busy = cap.intake_overhead_s + (cap.expected_duration_s if self.workflow.type == "EXPRESS" else 0)
        return required_concurrency(self.target_tps_per_region, busy, cap.headroom)

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
