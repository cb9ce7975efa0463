"""One region's payment stack: key, receipts, alerts, events, functions, workflow, API and alarms."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from shared_constructs.cdk import Construct
from shared_constructs.functions import PythonFunction
from shared_constructs.kms import Key, KeyProps
from shared_constructs.messaging import EncryptedQueue, EncryptedTopic, QueueProps, TopicProps
from shared_constructs.regions import short_region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import SecureBucket
from shared_constructs.waf import WebAcl, WebAclProps

from payments_multiregion.alarms import ROUTE53_METRICS_REGION, AlarmsProps, RegionalAlarms, canary_alarm
from payments_multiregion.api import ApiProps, PaymentsApi
from payments_multiregion.compute import Compute, ComputeProps
from payments_multiregion.events import EventsProps, PaymentEvents
from payments_multiregion.names import ALERT_INBOX, ALERTS, API, DATA_KEY, PACKAGE, SERVICE, Names
from payments_multiregion.network import NetworkProps, PaymentsNetwork
from payments_multiregion.receipts import receipts_bucket
from payments_multiregion.settings import Settings
from payments_multiregion.waf import api_rules
from payments_multiregion.workflow import PaymentWorkflow, WorkflowProps

RETAIN_14_DAYS = 1209600


class RegionalStack(PlatformStack[Settings]):
    """``payments-<region>``: everything one region needs to take payments on its own."""

    def __init__(self, scope: Construct, settings: Settings, region: str) -> None:
        super().__init__(
            scope, f"payments-{region}", settings=settings, package=PACKAGE, region=region, service=SERVICE
        )
        ctx = self.context
        self.names = Names(ctx)
        is_primary = region == settings.primary_region
        self.key = Key(self, "key", KeyProps(context=ctx, name=DATA_KEY, description=f"Payments data key in {region}"))
        self.receipts = self._receipts()
        self.alerts = EncryptedTopic(
            self,
            "alerts",
            TopicProps(
                context=ctx,
                name=ALERTS,
                key=self.key,
                publishing_services=["cloudwatch.amazonaws.com", "events.amazonaws.com"],
                # Every region pages on-call itself: losing any one region silences no other's alerts.
                emails=settings.alert_emails,
            ),
        )
        if is_primary:
            self._alert_inbox()
        self.events = PaymentEvents(self, "events", EventsProps(context=ctx, key=self.key))
        self.cdc_failures = EncryptedQueue(
            self,
            "cdc_failures",
            QueueProps(context=ctx, name="cdc-failures", key=self.key, dead_letter=False, retention_s=RETAIN_14_DAYS),
        )
        self.network = PaymentsNetwork(self, "network", NetworkProps(context=ctx, key=self.key))
        self.compute = Compute(
            self,
            "compute",
            ComputeProps(
                context=ctx,
                key=self.key,
                bus_name=self.events.bus_name,
                bus_arn=self.events.bus_arn,
                receipts=self.receipts,
                cdc_failures=self.cdc_failures,
                alerts=self.alerts,
                network=self.network,
            ),
        )
        self.workflow = PaymentWorkflow(
            self,
            "workflow",
            WorkflowProps(
                context=ctx,
                key=self.key,
                transaction=self.compute.transaction,
                bus_name=self.events.bus_name,
                bus_arn=self.events.bus_arn,
                topic=self.alerts,
            ),
        )
        self._api_and_alarms()
        # After every function exists: each AWS API any of them calls gets its endpoint.
        functions = [c for c in self.node.find_all() if isinstance(c, PythonFunction)]
        self.endpoints = self.network.add_endpoints({s for f in functions for s in f.services})
        self._outputs(region)

    def _api_and_alarms(self) -> None:
        """The API with its web ACL, and the region's alarms."""
        ctx, settings = self.context, self.settings
        self.health_alarm = canary_alarm(self, "region_unhealthy", ctx, self.alerts.topic_arn)
        zone_id = (
            settings.dns.hosted_zone_id
            or DataAwsRoute53Zone(self, "zone", name=settings.dns.domain, private_zone=False).zone_id
        )
        self.api = PaymentsApi(
            self,
            "api",
            ApiProps(
                context=ctx,
                key=self.key,
                intake=self.compute.intake,
                zone_id=zone_id,
                health_alarm_name=self.health_alarm.alarm_name,
            ),
        )
        WebAcl(
            self,
            "firewall",
            WebAclProps(
                context=ctx,
                name=API,
                description="Payments API: managed rules and per-IP rate limit",
                rules=api_rules(settings.for_region(ctx.region).waf_rate_limit_per_ip),
                resource_arn=self.api.stage.arn,
                key=self.key,
            ),
        )
        RegionalAlarms(
            self,
            "alarms",
            AlarmsProps(
                context=ctx,
                topic_arn=self.alerts.topic_arn,
                state_machine_arn=self.workflow.state_machine_arn,
                cdc=self.compute.cdc,
                access_logs=self.api.access_logs,
                api_name=self.names.api(ctx.region),
                stage_name=settings.workflow.stage_name,
                dead_letter_queues={"cdc-failures": self.cdc_failures, "events-dlq": self.events.dead_letters},
                health_check_id=self.api.custom_domain.health_check.id,
                us_east_1=self.context_for(ROUTE53_METRICS_REGION),
                us_east_1_topic_arn=self._route53_topic_arn(),
            ),
        )

    def _route53_topic_arn(self) -> str:
        """The alert topic in us-east-1, where Route 53 health-check alarms must live."""
        if self.context.region == ROUTE53_METRICS_REGION:
            return self.alerts.topic_arn
        if ROUTE53_METRICS_REGION not in self.settings.regions:
            raise ValueError(
                f"regions {list(self.settings.regions)}: Route 53 health-check alarms live in "
                f"{ROUTE53_METRICS_REGION}, expected it among the regions for its alert topic"
            )
        return self.names.topic_arn(ROUTE53_METRICS_REGION)

    def _receipts(self) -> SecureBucket:
        return receipts_bucket(self, self.context, self.key)

    def _alert_inbox(self) -> None:
        """The primary region's queue that receives every region's alerts (subscriptions of the other
        regions' topics live in the links stack). Read by operators and tooling, not by a consumer
        that could fail on a message, so it has no dead-letter queue."""
        inbox = EncryptedQueue(
            self,
            "alert_inbox",
            QueueProps(
                context=self.context, name=ALERT_INBOX, key=self.key, dead_letter=False, retention_s=RETAIN_14_DAYS
            ),
        )
        inbox.allow_send_from_service("sns.amazonaws.com", [self.names.topic_arn(r) for r in self.settings.regions])
        SnsTopicSubscription(
            self, "alerts_to_inbox", topic_arn=self.alerts.topic_arn, protocol="sqs", endpoint=inbox.queue_arn
        )
        self.output("alert_inbox_url", inbox.queue_url, description="Queue receiving every region's alerts")

    def _outputs(self, region: str) -> None:
        short = short_region(region)
        domain = self.api.custom_domain
        outputs = {
            "api_endpoint": (self.api.invoke_url, f"Stage URL of the API in {region}"),
            "api_id": (self.api.api.id, f"REST API id in {region}"),
            "api_regional_domain": (
                domain.domain.regional_domain_name,
                f"Regional target of the custom domain in {region}",
            ),
            "health_check_id": (domain.health_check.id, f"Route 53 health check of {region}"),
            "event_bus_arn": (self.events.bus_arn, f"Payment event bus in {region}"),
            "event_bus_name": (self.events.bus_name, f"Payment event bus in {region}"),
            "alert_topic_arn": (self.alerts.topic_arn, f"Alert topic in {region}"),
            "receipts_bucket": (self.receipts.bucket_name, f"Receipts bucket in {region}"),
            "state_machine_arn": (self.workflow.state_machine_arn, f"Payment workflow in {region}"),
            "transaction_function": (self.compute.transaction.function_name, f"Transaction function in {region}"),
            "intake_function": (self.compute.intake.function_name, f"Payments API front function in {region}"),
            "data_key_arn": (self.key.key_arn, f"Data key in {region}"),
        }
        outputs["vpc_id"] = (self.network.vpc.vpc_id, f"Private VPC of the functions in {region}")
        if self.events.forwarded is not None:
            outputs["forwarded_events_queue_url"] = (
                self.events.forwarded.queue_url,
                f"Payment events other regions forwarded to {region} (failover runbook)",
            )
        if self.events.failover_rule is not None:
            outputs["failover_rule_name"] = (
                self.events.failover_rule.name,
                f"Rule forwarding {region}'s payment events to the other regions",
            )
        for name, (value, description) in outputs.items():
            self.output(f"{name}_{short}", value, description=description)
