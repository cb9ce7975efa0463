"""Batch settlement hosts: an EC2 Auto Scaling group in the workload subnets.

The launch template requires IMDSv2 (tokens required, one hop), encrypts the root volume with the
volumes key, gives no public IP, and enables detailed monitoring. At first boot the hosts
install the CloudWatch agent and the settlement worker (``host_setup.py``). The instance profile may
only consume the payment queue, write settlement records under ``settlement/`` in the output bucket
and publish the agent's metrics. Only the load balancer reaches the hosts, on the worker's port.
The image comes from a Systems Manager public parameter named in configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateNetworkInterfaces,
    LaunchTemplateTagSpecifications,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroupIngress
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.messaging import EncryptedQueue
from shared_constructs.naming import Kind
from shared_constructs.policy import declare_services
from shared_constructs.storage import SecureBucket

from pci_platform.access import Guardrails
from pci_platform.application import BATCH_PORT
from pci_platform.config import Settings
from pci_platform.host_setup import AGENT_NAMESPACE, WorkerEnvironment, user_data
from pci_platform.networking import WORKLOAD, Network
from pci_platform.security import PlatformKeys

HOST_SERVICES = ("cloudwatch", "ec2", "s3", "sqs")
"""AWS APIs the hosts call: CloudWatch (agent metrics), EC2 (the agent's DescribeTags), S3 (settlement
records, and the package repositories at boot), SQS (the payment queue)."""
SETTLEMENT_PREFIX = "settlement/"
"""Where in the output bucket the worker writes (the host role may write nowhere else)."""
LAUNCHED_RESOURCES = ("instance", "volume")
"""What Auto Scaling creates from the launch template; each gets the required tags at launch."""


@dataclass(frozen=True, kw_only=True)
class BatchProps:
    """Props of :class:`BatchHosts` (sized by ``settings.application``): the ``queue`` they consume,
    the ``output_bucket`` they write settlement records to, the load balancer's ``target_group_arn``
    they register in, its ``load_balancer_security_group_id`` (the only source allowed in), and the
    required ``tags`` (the provider's default tags reach neither the group nor what it launches)."""

    context: AppContext[Settings]
    network: Network
    keys: PlatformKeys
    queue: EncryptedQueue
    output_bucket: SecureBucket
    target_group_arn: str
    load_balancer_security_group_id: str
    guardrails: Guardrails
    tags: Mapping[str, str]


class BatchHosts(Construct):
    """Launch template, instance profile and Auto Scaling group of the batch hosts."""

    def __init__(self, scope: Construct, id: str, props: BatchProps) -> None:
        super().__init__(scope, id)
        ctx, network = props.context, props.network
        config = ctx.settings.application
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name="batch-host",
                description="Batch settlement hosts",
                trust_policy=assume_role_policy(services=["ec2.amazonaws.com"]),
                statements=[
                    Statement(
                        # CloudWatch metrics have no resource-level permissions: "*" limited by namespace.
                        sid="PublishAgentMetrics",
                        actions=["cloudwatch:PutMetricData"],
                        resources=["*"],
                        conditions={"StringEquals": {"cloudwatch:namespace": AGENT_NAMESPACE}},
                    ),
                    # The agent reads the instance's tags to fill ${aws:AutoScalingGroupName} (instance
                    # metadata tags are off); DescribeTags acts on no resource, so AWS requires "*".
                    Statement(sid="ReadInstanceTags", actions=["ec2:DescribeTags"], resources=["*"]),
                ],
            ),
        )
        # Consuming the queue and writing the bucket name the role in their keys' policies.
        props.queue.grant_consume(self.role)
        props.output_bucket.grant_write(self.role, prefix=SETTLEMENT_PREFIX)
        # Auto Scaling launches the hosts with its service-linked role, which must use the volume key.
        props.keys.volumes.policy.allow_autoscaling_volumes()
        props.guardrails.attach(self.role, "batch_host")
        profile = IamInstanceProfile(
            self,
            "profile",
            name=ctx.name(Kind.IAM_INSTANCE_PROFILE, "batch-host"),
            role=self.role.role_name,
        )
        self.group_name = ctx.name(Kind.GENERIC, "batch")
        self._launch_template(props, profile.arn)
        self.group = AutoscalingGroup(
            self,
            "group",
            name=self.group_name,
            min_size=config.batch_min,
            max_size=config.batch_max,
            desired_capacity=config.batch_min,
            vpc_zone_identifier=network.subnet_ids(WORKLOAD),
            launch_template=AutoscalingGroupLaunchTemplate(id=self.launch_template.id, version="$Latest"),
            target_group_arns=[props.target_group_arn],
            health_check_type="ELB",
            health_check_grace_period=300,
            # The group's own tags; instances and volumes get theirs from the launch template.
            tag=[
                AutoscalingGroupTag(key=key, value=value, propagate_at_launch=False)
                for key, value in {**props.tags, "Name": self.group_name}.items()
            ],
        )
        declare_services(self.group, HOST_SERVICES)

    def _launch_template(self, props: BatchProps, profile_arn: str) -> None:
        """The hosts' security group and launch template: IMDSv2 only, the root volume encrypted
        with the volumes key, no public IP, detailed monitoring."""
        ctx, network = props.context, props.network
        config = ctx.settings.application
        self.security_group = network.workload_security_group(
            self,
            "security_group",
            "batch-host",
            ingress=[
                SecurityGroupIngress(
                    description="Load balancer traffic and health checks to the worker",
                    protocol="tcp",
                    from_port=BATCH_PORT,
                    to_port=BATCH_PORT,
                    security_groups=[props.load_balancer_security_group_id],
                )
            ],
        )
        if props.output_bucket.key is None:
            raise ValueError("the settlement bucket must be SSE-KMS: the worker writes with its key")
        environment = WorkerEnvironment(
            queue_url=props.queue.queue_url,
            output_bucket=props.output_bucket.bucket_id,
            output_key_arn=props.output_bucket.key.key_arn,
            output_prefix=SETTLEMENT_PREFIX,
            max_receives=props.queue.max_receive_count,
            health_port=BATCH_PORT,
            region=ctx.region,
        )
        image = DataAwsSsmParameter(self, "image", name=config.batch_ami_parameter)
        self.launch_template = LaunchTemplate(
            self,
            "template",
            name=ctx.name(Kind.GENERIC, "batch-host"),
            description="Batch hosts: IMDSv2 only, encrypted volumes, no public IP",
            image_id=image.value,
            instance_type=config.batch_instance_type,
            update_default_version=True,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile_arn),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        encrypted="true",
                        kms_key_id=props.keys.volumes.key_arn,
                        volume_size=16,
                        volume_type="gp3",
                        delete_on_termination="true",
                    ),
                )
            ],
            network_interfaces=[
                LaunchTemplateNetworkInterfaces(
                    associate_public_ip_address="false",
                    device_index=0,
                    security_groups=[self.security_group.id],
                    delete_on_termination="true",
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={**props.tags, "Name": self.group_name})
                for kind in LAUNCHED_RESOURCES
            ],
            user_data=user_data(environment),
        )
