"""The isolated network: a private VPC in three tiers across three availability zones.

- ``workload``: Lambda functions (part 2: database, batch hosts, internal load balancer).
- ``firewall``: AWS Network Firewall endpoints, one per AZ (see ``firewall.py``).
- ``endpoint``: interface VPC endpoints (private DNS) for the AWS services the workloads call.

There is no internet gateway, NAT gateway or public subnet. S3 is reached through a gateway
endpoint whose policy admits only this account's principals and buckets, and object reads from the
image's package repositories (``application.os_repository_buckets``). Flow logs of all
traffic go to the KMS-encrypted flow-log bucket (60 s aggregation,
docs/decisions/0004-flow-log-interval.md), and to a CloudWatch log group kept 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.naming import Kind
from shared_constructs.network import PrivateVpc, SubnetTier, VpcProps
from shared_constructs.storage import SecureBucket

from pci_platform.config import Settings

WORKLOAD, FIREWALL, ENDPOINT = "workload", "firewall", "endpoint"
TIERS = (WORKLOAD, FIREWALL, ENDPOINT)


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Props of :class:`Network` (its subnets from ``settings.network``): where flow logs go."""

    context: AppContext[Settings]
    flow_log_bucket: SecureBucket
    flow_log_group: EncryptedLogGroup


class Network(Construct):
    """The VPC, its three tiers and the interface endpoints of the endpoint tier."""

    def __init__(self, scope: Construct, id: str, props: NetworkProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        config = ctx.settings.network
        self.config = config
        self._context = ctx
        self.vpc = PrivateVpc(
            self,
            "vpc",
            VpcProps(
                context=ctx,
                name="pci",
                cidr=config.cidr,
                tiers=[
                    SubnetTier(name=WORKLOAD, cidrs=config.workload_subnets),
                    SubnetTier(name=FIREWALL, cidrs=config.firewall_subnets),
                    SubnetTier(name=ENDPOINT, cidrs=config.endpoint_subnets),
                ],
                flow_log_bucket=props.flow_log_bucket,
                flow_log_group=props.flow_log_group,
                flow_log_interval=60,
                gateway_endpoints=("s3",),
                # The batch hosts install packages from the image's repositories at boot.
                s3_read_buckets=[*ctx.settings.application.repository_buckets(ctx.region)],
            ),
        )
        self.vpc_id = self.vpc.vpc_id
        # Only the workload tier may open connections to the endpoints (HTTPS).
        self.endpoint_security_group = self.vpc.add_interface_endpoints(
            config.interface_endpoints, tier=ENDPOINT, allowed_cidrs=config.workload_subnets
        )
        self.s3_prefix_list_id = self.vpc.gateway_endpoints["s3"].prefix_list_id

    def subnet_ids(self, tier: str) -> list[str]:
        """Subnet ids of ``tier`` in AZ order."""
        return self.vpc.subnet_ids(tier)

    def route_table_ids(self, tier: str) -> list[str]:
        """Route table ids of ``tier`` in AZ order (one per subnet)."""
        return self.vpc.route_table_ids(tier)

    def cidrs(self, tier: str) -> list[str]:
        """The configured CIDRs of ``tier`` in AZ order."""
        return list(getattr(self.config, f"{tier}_subnets"))

    def workload_security_group(
        self,
        scope: Construct,
        id: str,
        name: str,
        extra_egress: list[SecurityGroupEgress] | None = None,
        ingress: list[SecurityGroupIngress] | None = None,
    ) -> SecurityGroup:
        """A security group for a workload: HTTPS egress to the interface endpoints and S3 only.

        ``extra_egress``: further egress rules (for example PostgreSQL to the workload tier).
        ``ingress``: what may connect in (for example the load balancer to the batch hosts).
        Default: nothing.
        """
        egress = [
            SecurityGroupEgress(
                description="HTTPS to the interface endpoints",
                from_port=443,
                to_port=443,
                protocol="tcp",
                cidr_blocks=self.cidrs(ENDPOINT),
            ),
            SecurityGroupEgress(
                description="HTTPS to S3 through the gateway endpoint",
                from_port=443,
                to_port=443,
                protocol="tcp",
                prefix_list_ids=[self.s3_prefix_list_id],
            ),
            *(extra_egress or []),
        ]
        return SecurityGroup(
            scope,
            id,
            name=self._context.name(Kind.SECURITY_GROUP, name),
            description=f"{name}: no ingress; egress to AWS endpoints only"
            if not ingress
            else f"{name}: ingress as listed; egress to AWS endpoints only",
            vpc_id=self.vpc_id,
            egress=egress,
            ingress=ingress,
        )
