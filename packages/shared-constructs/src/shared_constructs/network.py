"""A private VPC: subnet tiers across availability zones, a route table per subnet, flow logs,
gateway endpoints limited to the account, and a default security group that allows nothing.

The VPC is created, or adopted (an existing VPC's ids: flow logs and endpoints are added to it).
Its resources go to the provider given, so one stack can build VPCs in several accounts. By default
no internet gateway, NAT gateway or public subnet exists: egress, where a package needs it, is its
own explicit decision (a firewall, a peering connection, an endpoint, or ``nat_subnet``: one NAT
gateway in one public subnet, see :mod:`shared_constructs.nat`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy, policy_document
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.naming import Kind
from shared_constructs.nat import add_nat_gateway
from shared_constructs.settings import BaseSettings, overlapping, within
from shared_constructs.storage import SecureBucket

S3_ENDPOINT_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
DYNAMODB_ENDPOINT_ACTIONS: tuple[str, ...] = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
GATEWAY_ACTIONS = {"s3": S3_ENDPOINT_ACTIONS, "dynamodb": DYNAMODB_ENDPOINT_ACTIONS}
FLOW_LOG_DELIVERY_ACTIONS: tuple[str, ...] = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")


def flow_log_delivery_statements(log_group_arn: str) -> list[Statement]:
    """What the VPC flow-log delivery role needs on ``log_group_arn`` (and its streams)."""
    return [
        Statement(
            sid="DeliverFlowLogs", actions=FLOW_LOG_DELIVERY_ACTIONS, resources=[log_group_arn, f"{log_group_arn}:*"]
        ),
        # DescribeLogGroups acts on no resource: AWS accepts only "*" for it.
        Statement(sid="FindLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]),
    ]


@dataclass(frozen=True, kw_only=True)
class SubnetTier:
    """A tier of private subnets, one CIDR per availability zone, in AZ order."""

    name: str
    cidrs: Sequence[str]


@dataclass(frozen=True, kw_only=True)
class AdoptedVpc:
    """An existing VPC to build on instead of creating one: ids per tier, in the tier's CIDR order."""

    vpc_id: str
    subnet_ids: Mapping[str, Sequence[str]]
    route_table_ids: Mapping[str, Sequence[str]]


@dataclass(frozen=True, kw_only=True)
class VpcProps:
    """Props of :class:`PrivateVpc`.

    ``name``: resource part of every name the VPC gives (subnets ``<name>-<tier>-<n>``...).
    ``tiers``: subnet tiers; every tier has the same number of CIDRs (one per AZ), inside ``cidr``.
    ``flow_log_bucket``: flow logs of ALL traffic to this bucket. ``flow_log_group``: and/or to this
    encrypted log group (a delivery role is created). At least one is required (PCI DSS 10.2).
    ``flow_log_interval``: 60 (default) or 600 seconds, the only values AWS accepts
    (docs/decisions/0004-flow-log-interval.md).
    ``gateway_endpoints``: ``"s3"``, ``"dynamodb"`` (default both), attached to every route table,
    with policies that allow only principals and resources of this account.
    ``availability_zones``: zone names, one per subnet of a tier. Default: the region's ``a``, ``b``,
    ``c``... zones. Named, not looked up, so the set cannot grow when AWS adds a zone.
    ``adopt``: build on an existing VPC (flow logs, endpoints) instead of creating one. Default: a
    new VPC.
    ``nat_subnet``: the CIDR of one public subnet (first zone) holding one NAT gateway, which every
    route table's default route goes to. Default: no NAT and no internet path at all.
    ``flow_log_role``: resource part of the flow-log delivery role's name. Default ``<name>-flowlogs``.
    ``s3_read_buckets``: buckets of other owners this account's principals may read objects from
    through the S3 gateway endpoint (an operating system's package repositories). Default: none.
    Every resource goes to the context's provider (account and region).
    """

    context: AppContext[BaseSettings]
    name: str
    cidr: str
    tiers: Sequence[SubnetTier]
    flow_log_bucket: SecureBucket | None = None
    flow_log_group: EncryptedLogGroup | None = None
    flow_log_interval: int = 60
    gateway_endpoints: Sequence[str] = ("s3", "dynamodb")
    availability_zones: Sequence[str] = ()
    adopt: AdoptedVpc | None = None
    nat_subnet: str | None = None
    flow_log_role: str | None = None
    s3_read_buckets: Sequence[str] = ()

    def zones(self) -> list[str]:
        """The availability zone of each subnet of a tier, in order."""
        region = self.context.region
        count = len(self.tiers[0].cidrs) if self.tiers else 0
        zones = list(self.availability_zones) or [f"{region}{letter}" for letter in "abcdef"[:count]]
        if len(zones) < count or any(not z.startswith(region) for z in zones):
            raise ValueError(f"VPC {self.name!r}: need {count} availability zones of {region}, got {zones}")
        return zones[:count]


class PrivateVpc(Construct):
    """A VPC with private subnets only, unless one NAT gateway is asked for (see module docstring)."""

    def __init__(self, scope: Construct, id: str, props: VpcProps) -> None:
        super().__init__(scope, id)
        self._validate(props)
        self.props = props
        self.cidr = props.cidr
        self.zones = props.zones()
        self.context = props.context
        self.account = props.context.account
        self.vpc: Vpc | None = None
        self.subnets: dict[str, list[Subnet]] = {}
        """The created subnets by tier (empty when the VPC is adopted)."""
        self._subnet_ids: dict[str, list[str]] = {}
        self._route_table_ids: dict[str, list[str]] = {}
        if props.adopt is not None:
            self.vpc_id = props.adopt.vpc_id
            for tier in props.tiers:
                self._subnet_ids[tier.name] = list(props.adopt.subnet_ids[tier.name])
                self._route_table_ids[tier.name] = list(props.adopt.route_table_ids[tier.name])
        else:
            self._create(props)
        if props.nat_subnet is not None:
            add_nat_gateway(self, props.nat_subnet)
        self._flow_logs(props)
        self.gateway_endpoints: dict[str, VpcEndpoint] = {}
        for service in props.gateway_endpoints:
            statements = [
                Statement(
                    sid="OwnAccountOnly",
                    actions=GATEWAY_ACTIONS[service],
                    resources=["*"],
                    principals={"AWS": "*"},
                    conditions={
                        "StringEquals": {
                            "aws:PrincipalAccount": self.account,
                            "aws:ResourceAccount": self.account,
                        }
                    },
                )
            ]
            if service == "s3" and props.s3_read_buckets:
                statements.append(
                    Statement(
                        sid="ReadNamedBuckets",
                        actions=["s3:GetObject"],
                        resources=[f"arn:aws:s3:::{bucket}/*" for bucket in props.s3_read_buckets],
                        principals={"AWS": "*"},
                        conditions={"StringEquals": {"aws:PrincipalAccount": self.account}},
                    )
                )
            self.gateway_endpoints[service] = VpcEndpoint(
                self,
                f"{service}_endpoint",
                vpc_id=self.vpc_id,
                vpc_endpoint_type="Gateway",
                service_name=f"com.amazonaws.{self.context.region}.{service}",
                route_table_ids=self.all_route_table_ids(),
                policy=policy_document(statements),
                tags=self.tag_name(service),
                provider=self.context.provider,
            )

    def tag_name(self, resource: str) -> dict[str, str]:
        """The ``Name`` tag of this VPC's ``resource`` (``<service>-<name>-<resource>-<region>-<suffix>``)."""
        props = self.props
        return {"Name": self.context.name(Kind.GENERIC, f"{props.name}-{resource}")}

    def _create(self, props: VpcProps) -> None:
        """The VPC, its default security group (no rules: it allows nothing), subnets and route tables."""
        provider = self.context.provider
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": self.context.name(Kind.GENERIC, props.name)},
            provider=provider,
        )
        self.vpc_id = self.vpc.id
        DefaultSecurityGroup(
            self, "default_sg", vpc_id=self.vpc_id, provider=provider, tags=self.tag_name("default-deny")
        )
        for tier in props.tiers:
            self.subnets[tier.name] = []
            self._subnet_ids[tier.name], self._route_table_ids[tier.name] = [], []
            for index, cidr in enumerate(tier.cidrs):
                label = f"{tier.name}-{index + 1}"
                subnet = Subnet(
                    self,
                    f"{tier.name}_{index}",
                    vpc_id=self.vpc_id,
                    cidr_block=cidr,
                    availability_zone=self.zones[index],
                    map_public_ip_on_launch=False,
                    tags={**self.tag_name(label), "Tier": tier.name},
                    provider=provider,
                )
                table = RouteTable(
                    self,
                    f"{tier.name}_{index}_routes",
                    vpc_id=self.vpc_id,
                    provider=provider,
                    tags=self.tag_name(f"{label}-rt"),
                )
                RouteTableAssociation(
                    self, f"{tier.name}_{index}_assoc", subnet_id=subnet.id, route_table_id=table.id, provider=provider
                )
                self.subnets[tier.name].append(subnet)
                self._subnet_ids[tier.name].append(subnet.id)
                self._route_table_ids[tier.name].append(table.id)

    @staticmethod
    def _validate(props: VpcProps) -> None:
        if props.flow_log_interval not in (60, 600):
            raise ValueError(
                f"flow_log_interval must be 60 or 600 seconds (AWS accepts no other), got {props.flow_log_interval}"
            )
        if props.flow_log_bucket is None and props.flow_log_group is None:
            raise ValueError(f"VPC {props.name!r}: give flow_log_bucket and/or flow_log_group")
        counts = {len(t.cidrs) for t in props.tiers}
        if not props.tiers or len(counts) != 1 or 0 in counts:
            raise ValueError(f"VPC {props.name!r}: every tier needs the same, non-zero number of subnet CIDRs")
        for tier in props.tiers:
            for cidr in tier.cidrs:
                if not within(cidr, props.cidr):
                    raise ValueError(f"VPC {props.name!r}: subnet {cidr} of tier {tier.name!r} is outside {props.cidr}")
        unknown = set(props.gateway_endpoints) - set(GATEWAY_ACTIONS)
        if unknown:
            raise ValueError(f"gateway endpoints exist for s3 and dynamodb only, got {sorted(unknown)}")
        if props.adopt is not None:
            PrivateVpc._validate_adoption(props, props.adopt)
        if props.nat_subnet is not None:
            taken = [c for t in props.tiers for c in t.cidrs]
            if not within(props.nat_subnet, props.cidr) or overlapping([props.nat_subnet, *taken]):
                raise ValueError(
                    f"VPC {props.name!r}: nat_subnet {props.nat_subnet} must lie inside {props.cidr} "
                    "and overlap no tier's subnet"
                )

    @staticmethod
    def _validate_adoption(props: VpcProps, adopt: AdoptedVpc) -> None:
        if props.nat_subnet is not None:
            raise ValueError(f"VPC {props.name!r}: an adopted VPC keeps its own egress; drop nat_subnet")
        for tier in props.tiers:
            for what, ids in (("subnet_ids", adopt.subnet_ids), ("route_table_ids", adopt.route_table_ids)):
                given = list(ids.get(tier.name, ()))
                if len(given) != len(tier.cidrs):
                    raise ValueError(
                        f"VPC {props.name!r}: adopt.{what} of tier {tier.name!r} needs {len(tier.cidrs)} ids "
                        f"(one per subnet CIDR), got {given}"
                    )

    def _flow_logs(self, props: VpcProps) -> None:
        self.flow_logs: dict[str, FlowLog] = {}
        """The flow logs by destination: ``s3`` and ``logs`` (CloudWatch Logs)."""
        self.flow_log_role: LeastPrivilegeRole | None = None
        """The role that delivers flow logs to CloudWatch Logs (None without ``flow_log_group``)."""
        if props.flow_log_bucket is not None:
            props.flow_log_bucket.allow_log_delivery()
            self.flow_logs["s3"] = FlowLog(
                self,
                "flow_log_s3",
                vpc_id=self.vpc_id,
                traffic_type="ALL",
                log_destination_type="s3",
                log_destination=props.flow_log_bucket.bucket_arn,
                max_aggregation_interval=props.flow_log_interval,
                provider=self.context.provider,
                tags=self.tag_name("flows-s3"),
                # AWS checks the bucket policy for log delivery when the flow log is created.
                depends_on=[props.flow_log_bucket.policy],
            )
        if props.flow_log_group is not None:
            group = props.flow_log_group
            self.flow_log_role = LeastPrivilegeRole(
                self,
                "flow_log_role",
                RoleProps(
                    context=self.context,
                    name=props.flow_log_role or f"{props.name}-flowlogs",
                    description=f"VPC flow log delivery for {props.name}",
                    trust_policy=assume_role_policy(
                        services=["vpc-flow-logs.amazonaws.com"],
                        conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                    ),
                    statements=flow_log_delivery_statements(group.log_group_arn),
                ),
            )
            self.flow_logs["logs"] = FlowLog(
                self,
                "flow_log_cw",
                vpc_id=self.vpc_id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=group.log_group_arn,
                iam_role_arn=self.flow_log_role.role_arn,
                max_aggregation_interval=props.flow_log_interval,
                provider=self.context.provider,
                tags=self.tag_name("flows-cw"),
            )

    def subnet_ids(self, tier: str) -> list[str]:
        """The subnet ids of ``tier``, in AZ order."""
        return list(self._subnet_ids[tier])

    def route_table_ids(self, tier: str) -> list[str]:
        """The route table ids of ``tier``, in AZ order."""
        return list(self._route_table_ids[tier])

    def all_route_table_ids(self) -> list[str]:
        """Every route table id of every tier."""
        return [table for tier in self._route_table_ids.values() for table in tier]

    def add_interface_endpoints(
        self, services: Sequence[str], *, tier: str, allowed_cidrs: Sequence[str]
    ) -> SecurityGroup:
        """Interface endpoints (private DNS) for ``services`` in ``tier``; HTTPS from ``allowed_cidrs`` only."""
        props = self.props
        sg = SecurityGroup(
            self,
            "endpoints_sg",
            name=self.context.name(Kind.SECURITY_GROUP, f"{props.name}-endpoints"),
            description="HTTPS from workloads to interface endpoints",
            vpc_id=self.vpc_id,
            ingress=[
                SecurityGroupIngress(
                    description="HTTPS from workloads",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=list(allowed_cidrs),
                )
            ],
            egress=[
                SecurityGroupEgress(
                    description="Responses stay in the VPC",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=[props.cidr],
                )
            ],
            provider=self.context.provider,
        )
        for service in services:
            VpcEndpoint(
                self,
                f"{service.replace('.', '_')}_interface",
                vpc_id=self.vpc_id,
                vpc_endpoint_type="Interface",
                service_name=f"com.amazonaws.{self.context.region}.{service}",
                private_dns_enabled=True,
                subnet_ids=self.subnet_ids(tier),
                security_group_ids=[sg.id],
                tags=self.tag_name(service.replace(".", "-")),
                provider=self.context.provider,
            )
        return sg
