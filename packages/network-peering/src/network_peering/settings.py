"""Settings of the network-peering app: the two sides of the peering, monitoring and compliance.

Cross-field rules (non-overlapping VPCs, subnets inside their VPC, role ARNs in the right account,
two distinct accounts) are checked here, so a bad configuration fails at synthesis with one line
per problem that names the key, the value received and what was expected.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator
from shared_constructs.regions import ANALYTICS_REGION, TRADING_REGION
from shared_constructs.settings import (
    AccountId,
    BaseSettings,
    Cidr,
    Email,
    PositiveInt,
    Problems,
    Region,
    RoleArn,
    Strict,
    overlapping,
    within,
)

SideName = Literal["trading", "analytics"]
"""The requester side is trading, the accepter side analytics."""
SIDES: tuple[SideName, SideName] = ("trading", "analytics")
PEERING_PORTS: tuple[int, ...] = (443, 5432)
"""The only ports allowed across the peering: HTTPS and PostgreSQL (both carry TLS)."""

_ID_PATTERNS = {
    "vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
    "rtb": re.compile(r"^rtb-[0-9a-f]{8,17}$"),
}
EXTERNAL_ID_VARIABLE = "analytics_external_id"
"""The Terraform variable that carries the external id at plan and apply time
(``TF_VAR_analytics_external_id``): it is never written in a configuration file or the synthesized stack."""
EXTERNAL_ID_PATTERN = "^[A-Za-z0-9_+=,.@:/-]+$"
"""The characters STS accepts in an external id (its length, 2-1224, is checked apart: RE2, which
Terraform's ``regex`` uses, repeats at most 1000 times)."""
EXTERNAL_ID_LENGTH = (2, 1224)


def _refuse_committed_external_id(value: object) -> None:
    if value is not None:
        raise ValueError(
            "expected no external id in a configuration file (it would be committed); "
            f"set TF_VAR_{EXTERNAL_ID_VARIABLE} when you plan and apply, read from the secret that holds it"
        )


NoExternalId = Annotated[object, AfterValidator(_refuse_committed_external_id)]


class Adopt(Strict):
    """Existing network to adopt instead of creating one (all ids in the order of ``subnet_cidrs``)."""

    vpc_id: str
    """Id of the existing VPC (``vpc-...``); its CIDR must be the side's ``vpc_cidr``."""
    subnet_ids: list[str]
    """Ids of the existing private subnets, one per entry of ``subnet_cidrs``."""
    route_table_ids: list[str]
    """Ids of the route tables of those subnets, one per entry of ``subnet_cidrs``."""


class Side(Strict):
    """One side of the peering: its account, region and network."""

    account_id: AccountId
    """The AWS account of this side (12 digits)."""
    region: Region
    assume_role_arn: RoleArn | None = None
    """Role the deployment assumes in ``account_id``. Default: the caller's credentials."""
    vpc_cidr: Cidr
    subnet_cidrs: list[Cidr]
    """Private subnets, one per availability zone (3 by default)."""
    peered_subnet_cidrs: list[Cidr] = Field(default_factory=list)
    """The subnets that talk to the peer (routes, NACL, security group). Default: all ``subnet_cidrs``."""
    adopt: Adopt | None = None
    """Adopt an existing VPC instead of creating one. Default: a new VPC is created."""
    availability_zones: list[str] = Field(default_factory=list)
    """Zones of the subnets, in ``subnet_cidrs`` order. Default: ``<region>a``, ``<region>b``, ...
    Named, not looked up, so the set never grows by itself when AWS adds a zone."""
    nat_gateway: bool = False
    """One NAT gateway for outbound internet (off by default: peering needs no internet route)."""
    public_subnet_cidr: Cidr | None = None
    """The public subnet of the NAT gateway (required with ``nat_gateway``)."""

    @property
    def peered(self) -> list[str]:
        """The subnet CIDRs that take part in the peering."""
        return list(self.peered_subnet_cidrs or self.subnet_cidrs)

    @property
    def zones(self) -> list[str]:
        """The availability zone of each subnet, in ``subnet_cidrs`` order."""
        return list(self.availability_zones) or [
            f"{self.region}{chr(ord('a') + i)}" for i in range(len(self.subnet_cidrs))
        ]

    def problems(self, side: str, report: Problems) -> None:
        """Add this side's own problems (subnets, adoption ids, NAT) to ``report``."""
        for index, cidr in enumerate(self.subnet_cidrs):
            if not within(cidr, self.vpc_cidr):
                report.add((side, "subnet_cidrs", index), cidr, f"expected a subnet inside vpc_cidr {self.vpc_cidr}")
        for first, second in overlapping(self.subnet_cidrs):
            report.add(
                (side, "subnet_cidrs"),
                self.subnet_cidrs,
                f"expected non-overlapping subnets; {first} overlaps {second}",
            )
        if self.availability_zones and len(self.availability_zones) != len(self.subnet_cidrs):
            report.add(
                (side, "availability_zones"),
                self.availability_zones,
                f"expected {len(self.subnet_cidrs)} zones, one per subnet_cidrs entry",
            )
        for index, zone in enumerate(self.availability_zones):
            if not re.fullmatch(rf"{re.escape(self.region)}[a-z]", zone):
                report.add(
                    (side, "availability_zones", index),
                    zone,
                    f"expected a zone of {self.region} such as {self.region}a",
                )
        if not self.subnet_cidrs:
            report.add((side, "subnet_cidrs"), self.subnet_cidrs, "expected at least one subnet CIDR")
        for index, cidr in enumerate(self.peered_subnet_cidrs):
            if cidr not in self.subnet_cidrs:
                report.add(
                    (side, "peered_subnet_cidrs", index), cidr, f"expected one of subnet_cidrs {self.subnet_cidrs}"
                )
        if self.assume_role_arn and self.assume_role_arn.split(":")[4] != self.account_id:
            report.add(
                (side, "assume_role_arn"), self.assume_role_arn, f"expected a role in account_id {self.account_id}"
            )
        if self.adopt is not None:
            self._adopt_problems(side, report)
        if self.nat_gateway and self.adopt is not None:
            report.add((side, "nat_gateway"), True, "expected false with adopt (an adopted VPC keeps its own egress)")
        if self.nat_gateway and self.public_subnet_cidr is None:
            report.add((side, "public_subnet_cidr"), None, "required when nat_gateway = true")
        if self.public_subnet_cidr is not None:
            if not within(self.public_subnet_cidr, self.vpc_cidr):
                report.add(
                    (side, "public_subnet_cidr"),
                    self.public_subnet_cidr,
                    f"expected a subnet inside vpc_cidr {self.vpc_cidr}",
                )
            elif overlapping([self.public_subnet_cidr, *self.subnet_cidrs]):
                report.add(
                    (side, "public_subnet_cidr"),
                    self.public_subnet_cidr,
                    "expected a subnet that overlaps none of subnet_cidrs",
                )

    def _adopt_problems(self, side: str, report: Problems) -> None:
        adopt = self.adopt
        assert adopt is not None
        if not _ID_PATTERNS["vpc"].fullmatch(adopt.vpc_id):
            report.add((side, "adopt", "vpc_id"), adopt.vpc_id, "expected a VPC id vpc-<8 or 17 hex digits>")
        for key, kind, ids in (
            ("subnet_ids", "subnet", adopt.subnet_ids),
            ("route_table_ids", "rtb", adopt.route_table_ids),
        ):
            if len(ids) != len(self.subnet_cidrs):
                report.add(
                    (side, "adopt", key), ids, f"expected {len(self.subnet_cidrs)} ids, one per subnet_cidrs entry"
                )
            for index, value in enumerate(ids):
                if not _ID_PATTERNS[kind].fullmatch(value):
                    report.add((side, "adopt", key, index), value, f"expected an id {kind}-<8 or 17 hex digits>")


class Trading(Side):
    """The requester side: the trading platform (docs/decisions/0011-regions-and-accounts.md)."""

    region: Region = TRADING_REGION
    vpc_cidr: Cidr = "10.0.0.0/16"
    subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"])
    peering_operator_arn: RoleArn
    """The role in this account allowed to assume the analytics accepter role (required: the trust
    names it with ``aws:PrincipalArn``, never the whole account)."""

    def problems(self, side: str, report: Problems) -> None:
        """The side's problems, and the operator role in this account."""
        super().problems(side, report)
        if self.peering_operator_arn.split(":")[4] != self.account_id:
            report.add(
                (side, "peering_operator_arn"),
                self.peering_operator_arn,
                f"expected a role in account_id {self.account_id}",
            )


class Analytics(Side):
    """The accepter side: data analytics, reached by assuming a role
    (docs/decisions/0011-regions-and-accounts.md)."""

    region: Region = ANALYTICS_REGION
    vpc_cidr: Cidr = "10.1.0.0/16"
    subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/20"])
    assume_role_arn: RoleArn
    """The deployment role in the analytics account (it must exist first; see the README)."""
    external_id: NoExternalId = None
    """Not a setting: the external id that roles of the analytics account require is read at plan
    and apply time from ``TF_VAR_analytics_external_id`` (see the README); a value here is refused."""


class Monitoring(Strict):
    """Alarms on the flow logs of both sides."""

    period_s: Literal[60, 300, 900, 3600] = 300
    rejected_flows_threshold: PositiveInt = 100
    """Rejected flows per period above which the alarm fires."""
    unexpected_port_threshold: PositiveInt = 1
    """Flows across the peering on ports other than 443/5432 per period that fire the alarm."""
    volume_band_width: float = Field(default=3.0, gt=0, le=10)
    """Width (standard deviations) of the anomaly band of bytes from the peer; above it is a spike."""
    alarm_emails: list[Email] = Field(default_factory=list)
    """E-mail subscriptions of the alarm topics. Default: none."""
    notify_security_baseline: bool = True
    """Each side's alarms also notify the security topic of security-baseline's stack in that side's
    account and region (read from its state)."""


class Compliance(Strict):
    """AWS Config rules (the recorder belongs to security-baseline, docs/decisions/0002-account-singletons.md)."""

    config_rules: bool = True
    """Create the Config rules (and the security-group rule's function) on both sides."""
    reserved_concurrency: PositiveInt = 1
    """Reserved concurrency of each side's security-group rule function: AWS Config sends a handful
    of evaluations per change and one periodic run a day, so one at a time is enough."""


class Settings(BaseSettings):
    """Settings of network-peering. ``account_id`` (the stack's default provider) is the trading
    account: taken from ``trading.account_id`` when not given, and must equal it when given."""

    account_id: str = ""
    """The trading account (the stack's default provider). Default: ``trading.account_id``, which is
    validated there (so a bad id is reported once, at that key); when given, it must equal it."""
    trading: Trading
    analytics: Analytics
    allow_same_account: bool = False
    """Both sides in one account (a sandbox). Default false: the product is cross-account."""
    flow_log_interval_s: Literal[60, 600] = 60
    """Flow-log aggregation interval: AWS accepts only 60 or 600 seconds (docs/decisions/0004-flow-log-interval.md)."""
    flow_log_bucket_retention_days: PositiveInt = 365
    monitoring: Monitoring = Monitoring()
    compliance: Compliance = Compliance()

    @model_validator(mode="before")
    @classmethod
    def _account_is_trading(cls, data: Any) -> Any:
        trading = data.get("trading") if isinstance(data, Mapping) else None
        if isinstance(trading, Mapping) and "account_id" not in data and "account_id" in trading:
            return {**data, "account_id": trading["account_id"]}
        return data

    def side(self, name: SideName) -> Side:
        """The configuration of side ``name``."""
        return self.trading if name == "trading" else self.analytics

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        report = Problems()
        if self.account_id != self.trading.account_id:
            report.add(("account_id",), self.account_id, f"expected trading.account_id {self.trading.account_id}")
        self.trading.problems("trading", report)
        self.analytics.problems("analytics", report)
        if overlapping([self.trading.vpc_cidr, self.analytics.vpc_cidr]):
            report.add(
                ("analytics", "vpc_cidr"),
                self.analytics.vpc_cidr,
                f"expected a CIDR that does not overlap trading.vpc_cidr {self.trading.vpc_cidr} "
                "(peered VPCs need non-overlapping CIDR blocks)",
            )
        if self.trading.account_id == self.analytics.account_id and not self.allow_same_account:
            report.add(
                ("analytics", "account_id"),
                self.analytics.account_id,
                "expected an account other than trading.account_id (set allow_same_account = true "
                "to peer within one account)",
            )
        report.raise_if_any("Settings")
        return self


def octet_prefix(cidr: str) -> str:
    """A CloudWatch Logs wildcard covering ``cidr``: ``10.1.0.0/16`` -> ``10.1.*``.

    Filter patterns match text, not networks; a prefix that is not on an octet boundary widens to
    the enclosing octet (``10.1.0.0/20`` -> ``10.1.*``).
    """
    network = ipaddress.ip_network(cidr)
    octets = str(network.network_address).split(".")[: network.prefixlen // 8]
    return ".".join([*octets, "*"])


def ports_text(ports: Sequence[int] = PEERING_PORTS) -> str:
    """``443,5432`` as AWS Config parameters write port lists."""
    return ",".join(str(p) for p in ports)
