"""The ``pci-platform`` stack: a table of contents of the platform's constructs."""

from __future__ import annotations

from shared_constructs.cdk import Construct, Fn
from shared_constructs.stack import PlatformStack
from shared_constructs.state import RemoteOutputs
from shared_constructs.tagging import required_tags

from pci_platform.access import Guardrails
from pci_platform.compliance import ComplianceMonitoring
from pci_platform.compute import Processing
from pci_platform.config import Settings
from pci_platform.data import DataStores
from pci_platform.firewall import EgressFirewall
from pci_platform.monitoring import LogAlarm, SecurityMonitoring
from pci_platform.networking import TIERS, Network
from pci_platform.secrets import SecretRotation
from pci_platform.security import PlatformKeys

PACKAGE = "pci-platform"
STACK = "pci-platform"


class PciPlatformStack(PlatformStack):
    """Part 1: isolated network, encryption, data, processing, secrets, monitoring, compliance, access."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        region = settings.region
        super().__init__(scope, STACK, settings=settings, package=PACKAGE, region=region)
        namer = self.namer
        common = {"settings": settings, "namer": namer, "region": region}

        # Security: keys per data classification, and the explicit-deny guardrails.
        self.keys = PlatformKeys(self, "keys", **common)
        self.guardrails = Guardrails(self, "access", namer=namer, region=region,
                                     approved_regions=settings.approved_regions)
        # Data: buckets (access logs, flow logs, cardholder and processed data).
        self.data = DataStores(self, "data", **common, keys=self.keys,
                               flow_log_days=settings.network.flow_log_retention_days)
        # Networking: private tiers, interface endpoints, and the egress firewall.
        self.network = Network(self, "network", **common, config=settings.network,
                               flow_log_bucket=self.data.flow_logs)
        self.firewall = EgressFirewall(self, "firewall", **common, config=settings.firewall, network=self.network,
                                       keys=self.keys, flow_log_bucket=self.data.flow_logs)
        # Compute and secrets: the processing function and the rotation of the existing DB secret.
        self.processing = Processing(self, "compute", **common, config=settings.processing, network=self.network,
                                     keys=self.keys, data=self.data, guardrails=self.guardrails)
        self.rotation = SecretRotation(self, "secrets", **common, config=settings.secrets, network=self.network,
                                       keys=self.keys, guardrails=self.guardrails)
        # Monitoring and compliance, notifying security-baseline's security topic.
        baseline_region = settings.baseline_region or region
        baseline = RemoteOutputs(self, "baseline", settings=settings, package="security-baseline",
                                 stack=f"security-baseline-{baseline_region}")
        topic_arn = baseline.get_string("security_topic_arn")
        self.monitoring = SecurityMonitoring(self, "monitoring", namer=namer, region=region, topic_arn=topic_arn)
        self._alarms(settings)
        self.compliance = ComplianceMonitoring(self, "compliance", namer=namer, region=region, topic_arn=topic_arn,
                                               tags=required_tags(settings, PACKAGE, region))
        self._outputs()

    def _alarms(self, settings: Settings) -> None:
        limits = settings.monitoring
        self.monitoring.add_log_alarm(LogAlarm(
            name="firewall-blocked", log_group=self.firewall.alert_log_group,
            pattern='{ $.event.alert.action = "blocked" }', threshold=limits.firewall_blocked_threshold,
            description="Network Firewall blocked egress from the workload tier"))
        self.monitoring.add_log_alarm(LogAlarm(
            name="rotation-failed", log_group=self.rotation.function.log_group,
            pattern='{ $.level = "ERROR" }', threshold=limits.rotation_failure_threshold,
            description="A rotation step of the database secret failed"))
        self.monitoring.add_log_alarm(LogAlarm(
            name="processor-access-denied", log_group=self.processing.function.log_group,
            pattern='{ $.error_code = "AccessDenied" }', threshold=1,
            description="The processing function was denied access to a bucket or key"))
        self.monitoring.add_function_errors("secret-rotation", self.rotation.function.function_name,
                                            limits.rotation_failure_threshold)
        self.monitoring.add_function_errors("processor", self.processing.function.function_name)

    def _outputs(self) -> None:
        self.output("vpc_id", self.network.vpc_id, description="Id of the isolated VPC")
        for tier in TIERS:
            self.output(f"{tier}_subnet_ids", Fn.join(",", self.network.subnet_ids(tier)),
                        description=f"Comma-separated subnet ids of the {tier} tier, in AZ order")
        self.output("firewall_arn", self.firewall.firewall_arn or "not-created",
                    description="ARN of the Network Firewall ('not-created' where the target cannot create it)")
        for name, arn in self.keys.arns().items():
            self.output(f"{name}_key_arn", arn, description=f"ARN of the {name} KMS key")
        for name, bucket in self.data.buckets.items():
            self.output(f"{name}_bucket_name", bucket.bucket_name, description=f"Name of the {name} bucket")
        self.output("processor_function_arn", self.processing.function_arn, description="ARN of the processor")
        self.output("rotation_function_arn", self.rotation.function_arn, description="ARN of the rotation function")
        self.output("database_secret_arn", self.rotation.secret_arn, description="ARN of the rotated database secret")
