"""The private VPC of one region: the functions' subnets, interface endpoints, no way out.

Two tiers across three availability zones: ``functions`` (a sixteenth of the VPC each, /20 in a
/16: room for Lambda's network interfaces at full concurrency) and ``endpoints`` (a quarter of
that, /22 in a /16). DynamoDB and S3 are reached through
gateway endpoints, every other AWS API the functions call through an interface endpoint with
private DNS (the services are read from the functions' declarations, so a handler that starts
calling a new service gets its endpoint, and the reachability rule fails synthesis if not). No
internet gateway, NAT gateway or public subnet. Flow logs of all traffic go to a log group
encrypted with the region's data key (60 s aggregation, docs/decisions/0004-flow-log-interval.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.network import GATEWAY_ACTIONS, PrivateVpc, SubnetTier, VpcProps
from shared_constructs.policy.rules_reach import SERVICE_ENDPOINTS

from payments_multiregion.settings import Settings

FUNCTIONS, ENDPOINTS = "functions", "endpoints"
ZONES = 3


def subnet_cidrs(vpc_cidr: str) -> dict[str, list[str]]:
    """The tiers' subnets carved from ``vpc_cidr``: three function subnets (a sixteenth of the VPC
    each), then three endpoint subnets (a quarter of the fourth sixteenth each)."""
    network = ipaddress.IPv4Network(vpc_cidr)
    sixteenths = list(network.subnets(prefixlen_diff=4))
    return {
        FUNCTIONS: [str(n) for n in sixteenths[:ZONES]],
        ENDPOINTS: [str(n) for n in list(sixteenths[ZONES].subnets(prefixlen_diff=2))[:ZONES]],
    }


def interface_services(services: Iterable[str]) -> list[str]:
    """The interface-endpoint service names for boto3 ``services`` (gateway services left out)."""
    unknown = sorted(s for s in services if s not in SERVICE_ENDPOINTS)
    if unknown:
        raise ValueError(f"no VPC endpoint is known for {unknown}: expected clients of {sorted(SERVICE_ENDPOINTS)}")
    return sorted({SERVICE_ENDPOINTS[s][0] for s in services if s not in GATEWAY_ACTIONS})


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Props of :class:`PaymentsNetwork`: the region's ``context`` and the ``key`` of its flow logs."""

    context: AppContext[Settings]
    key: Key


class PaymentsNetwork(Construct):
    """The region's VPC and the security group its functions run with (module docstring)."""

    def __init__(self, scope: Construct, id: str, props: NetworkProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self._context = ctx
        self.cidr = ctx.settings.vpc_cidr(ctx.region)
        self.cidrs = subnet_cidrs(self.cidr)
        flow_logs = EncryptedLogGroup(
            self,
            "flow_logs",
            LogGroupProps(context=ctx, name=ctx.path(Kind.LOG_GROUP, "vpc-flow-logs"), key=props.key),
        )
        self.vpc = PrivateVpc(
            self,
            "vpc",
            VpcProps(
                context=ctx,
                name="payments",
                cidr=self.cidr,
                tiers=[SubnetTier(name=tier, cidrs=cidrs) for tier, cidrs in self.cidrs.items()],
                flow_log_group=flow_logs,
                flow_log_interval=60,
                gateway_endpoints=("dynamodb", "s3"),
            ),
        )
        prefix_lists = [self.vpc.gateway_endpoints[s].prefix_list_id for s in ("dynamodb", "s3")]
        self.function_security_group = SecurityGroup(
            self,
            "functions_sg",
            name=ctx.name(Kind.SECURITY_GROUP, "functions"),
            description="Payment functions: no ingress; HTTPS to the VPC endpoints only",
            vpc_id=self.vpc.vpc_id,
            egress=[
                SecurityGroupEgress(
                    description="HTTPS to the interface endpoints",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    cidr_blocks=self.cidrs[ENDPOINTS],
                ),
                SecurityGroupEgress(
                    description="HTTPS to DynamoDB and S3 through the gateway endpoints",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    prefix_list_ids=prefix_lists,
                ),
            ],
            provider=ctx.provider,
        )
        self.endpoint_security_group: SecurityGroup | None = None

    @property
    def function_subnet_ids(self) -> list[str]:
        """Where the functions run, one subnet per availability zone."""
        return self.vpc.subnet_ids(FUNCTIONS)

    def add_endpoints(self, services: Iterable[str]) -> list[str]:
        """Interface endpoints for the boto3 ``services`` the functions call (once, after every
        function is declared); HTTPS into them from the function subnets only. Returns their names."""
        if self.endpoint_security_group is not None:
            raise ValueError("interface endpoints are added once, for every function's services together")
        names = interface_services(services)
        self.endpoint_security_group = self.vpc.add_interface_endpoints(
            names, tier=ENDPOINTS, allowed_cidrs=self.cidrs[FUNCTIONS]
        )
        return names
