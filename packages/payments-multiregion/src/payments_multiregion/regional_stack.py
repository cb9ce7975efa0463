"""One region's payment stack: key, receipts, alerts, events, functions, workflow, API and alarms."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from shared_constructs.cdk import Construct
from shared_constructs.kms import Key, KeyProps, account_id
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.regions import short_region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket, access_log_bucket

from payments_multiregion.alarms import AlarmProps, RegionalAlarms
from payments_multiregion.api import ApiProps, PaymentsApi
from payments_multiregion.compute import Compute, ComputeProps
from payments_multiregion.events import EventsProps, PaymentEvents
from payments_multiregion.names import PACKAGE, Names
from payments_multiregion.settings import Settings
from payments_multiregion.waf import ApiFirewall, WafProps
from payments_multiregion.workflow import PaymentWorkflow, WorkflowProps


class RegionalStack(PlatformStack):
    """``payments-<region>``: everything one region needs to take payments on its own."""

    def __init__(self, scope: Construct, settings: Settings, region: str) -> None:
        super().__init__(
            scope, f"payments-{region}", settings=settings, package=PACKAGE, region=region, service="payments"
        )
        self.names = names = Names(self.namer, account_id(self))
        knobs = settings.for_region(region)
        is_primary = region == settings.primary_region

        self.key = Key(
            self,
            "key",
            KeyProps(
                settings=settings,
                namer=self.namer,
                name="data",
                region=region,
                description=f"Payments data key in {region}",
            ),
        )
        self.receipts = self._receipts(
            settings, region, knobs.receipts_ia_days, knobs.receipts_glacier_days, knobs.receipts_expiration_days
        )
        self.alerts = EncryptedTopic(
            self,
            "alerts",
            TopicProps(
                settings=settings,
                namer=self.namer,
                name="alerts",
                region=region,
                key=self.key,
                publishing_services=["cloudwatch.amazonaws.com", "events.amazonaws.com"],
                emails=settings.alert_emails if is_primary else (),
            ),
        )
        if is_primary:
            self._alert_inbox(settings, region)
        self.events = PaymentEvents(
            self, "events", EventsProps(settings=settings, names=names, region=region, key=self.key)
        )
        self.cdc_failures = EncryptedQueue(
            self,
            "cdc_failures",
            QueueProps(
                settings=settings,
                namer=self.namer,
                name="cdc-failures",
                region=region,
                key=self.key,
                dead_letter=False,
                retention_s=1209600,
            ),
        )
        self.compute = Compute(
            self,
            "compute",
            ComputeProps(
                settings=settings,
                names=names,
                region=region,
                key=self.key,
                bus_name=self.events.bus_name,
                bus_arn=self.events.bus_arn,
                receipts=self.receipts,
                cdc_failures=self.cdc_failures,
            ),
        )
        self.workflow = PaymentWorkflow(
            self,
            "workflow",
            WorkflowProps(
                settings=settings,
                names=names,
                region=region,
                key=self.key,
                function_arn=self.compute.transaction.function_arn,
                bus_name=self.events.bus_name,
                bus_arn=self.events.bus_arn,
                topic=self.alerts,
            ),
        )
        zone_id = (
            settings.dns.hosted_zone_id
            or DataAwsRoute53Zone(self, "zone", name=settings.dns.domain, private_zone=False).zone_id
        )
        self.api = PaymentsApi(
            self,
            "api",
            ApiProps(
                settings=settings,
                names=names,
                region=region,
                key=self.key,
                state_machine_arn=self.workflow.state_machine_arn,
                health=self.compute.health,
                zone_id=zone_id,
            ),
        )
        ApiFirewall(
            self,
            "firewall",
            WafProps(
                settings=settings,
                names=names,
                region=region,
                key=self.key,
                stage_arn=self.api.stage.arn,
                rate_limit=knobs.waf_rate_limit_per_ip,
            ),
        )
        RegionalAlarms(
            self,
            "alarms",
            AlarmProps(
                settings=settings,
                names=names,
                region=region,
                topic_arn=self.alerts.topic_arn,
                function_name=self.compute.transaction.function_name,
                state_machine_arn=self.workflow.state_machine_arn,
                cdc_failure_queue_name=self.cdc_failures.queue_name,
            ),
        )
        self._outputs(region)

    def _receipts(
        self, settings: Settings, region: str, ia_days: int, glacier_days: int, expiration_days: int
    ) -> SecureBucket:
        access_logs = access_log_bucket(
            self, "access_logs", settings=settings, namer=self.namer, region=region, noncurrent_expiration_days=90
        )
        return SecureBucket(
            self,
            "receipts",
            BucketProps(
                settings=settings,
                namer=self.namer,
                name="receipts",
                region=region,
                key=self.key,
                access_log_bucket=access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="tier-and-expire-receipts",
                        prefix="receipts/",
                        transitions=((ia_days, "STANDARD_IA"), (glacier_days, "GLACIER")),
                        expiration_days=expiration_days,
                        noncurrent_expiration_days=90,
                    ),
                    # Whole bucket: incomplete multipart uploads are aborted wherever they are.
                    LifecycleRule(id="abort-incomplete-uploads", noncurrent_expiration_days=None),
                ),
            ),
        )

    def _alert_inbox(self, settings: Settings, region: str) -> None:
        """The primary region's queue that receives every region's alerts (subscriptions of the other
        regions' topics live in the links stack). Read by operators and tooling, not by a consumer
        that could fail on a message, so it has no dead-letter queue."""
        inbox = EncryptedQueue(
            self,
            "alert_inbox",
            QueueProps(
                settings=settings,
                namer=self.namer,
                name="alert-inbox",
                region=region,
                key=self.key,
                dead_letter=False,
                retention_s=1209600,
            ),
        )
        inbox.allow_send_from_service("sns.amazonaws.com", [self.names.topic_arn(r) for r in settings.regions])
        SnsTopicSubscription(
            self, "alerts_to_inbox", topic_arn=self.alerts.topic_arn, protocol="sqs", endpoint=inbox.queue_arn
        )
        self.output("alert_inbox_url", inbox.queue_url, description="Queue receiving every region's alerts")

    def _outputs(self, region: str) -> None:
        short = short_region(region)
        self.output(f"api_endpoint_{short}", self.api.invoke_url, description=f"Stage URL of the API in {region}")
        self.output(f"api_id_{short}", self.api.api.id, description=f"REST API id in {region}")
        self.output(
            f"api_regional_domain_{short}",
            self.api.domain.regional_domain_name,
            description=f"Regional target of the custom domain in {region}",
        )
        self.output(
            f"health_check_id_{short}", self.api.health_check.id, description=f"Route 53 health check of {region}"
        )
        self.output(f"event_bus_arn_{short}", self.events.bus_arn, description=f"Payment event bus in {region}")
        self.output(f"event_bus_name_{short}", self.events.bus_name, description=f"Payment event bus in {region}")
        if self.events.failover_rule is not None:
            self.output(
                f"failover_rule_name_{short}",
                self.events.failover_rule.name,
                description=f"Rule forwarding {region}'s payment events to the other regions",
            )
        self.output(f"alert_topic_arn_{short}", self.alerts.topic_arn, description=f"Alert topic in {region}")
        self.output(f"receipts_bucket_{short}", self.receipts.bucket_name, description=f"Receipts bucket in {region}")
        self.output(
            f"state_machine_arn_{short}", self.workflow.state_machine_arn, description=f"Payment workflow in {region}"
        )
        self.output(
            f"transaction_function_{short}",
            self.compute.transaction.function_name,
            description=f"Transaction function in {region}",
        )
        self.output(f"data_key_arn_{short}", self.key.key_arn, description=f"Data key in {region}")
