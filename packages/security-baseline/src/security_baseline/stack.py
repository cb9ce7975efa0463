"""One region's security baseline; the home (primary) region also holds the account-wide parts."""

from __future__ import annotations

from shared_constructs.cdk import Construct
from shared_constructs.contracts import security_baseline as contract
from shared_constructs.kms import Key, KeyProps
from shared_constructs.messaging import EncryptedTopic, TopicProps
from shared_constructs.regions import short_region
from shared_constructs.stack import PlatformStack
from shared_constructs.storage import access_log_bucket

from security_baseline.cis_alarms import CisAlarms, CisAlarmsProps
from security_baseline.config_recorder import ConfigRecorder, RecorderProps
from security_baseline.config_rules import ComplianceRules, RulesProps
from security_baseline.events import EventsProps, SecurityEvents
from security_baseline.guardduty import GuardDuty, GuardDutyProps
from security_baseline.securityhub import SecurityHub, SecurityHubProps
from security_baseline.settings import Settings
from security_baseline.trail import AccountTrail, TrailProps

PACKAGE = contract.PACKAGE
PUBLISHERS = ("events.amazonaws.com", "cloudwatch.amazonaws.com")
"""Services that publish to the topics: EventBridge rules and CloudWatch alarms of this account."""


class RegionalBaseline(PlatformStack[Settings]):
    """Key, topics, GuardDuty, Config, rules, events and Security Hub of one region (+ trail at home)."""

    def __init__(self, scope: Construct, settings: Settings, region: str) -> None:
        published = contract.stack(region)
        super().__init__(scope, published.stack, settings=settings, package=PACKAGE, region=region, publishes=published)
        ctx = self.context
        regional = settings.for_region(region)
        home = region == settings.primary_region
        self.key = Key(
            self,
            "security_key",
            KeyProps(
                context=ctx,
                name="security",
                description=f"Security baseline key ({region}): topics, findings, snapshots, trail, logs",
            ),
        )
        self.access_logs = access_log_bucket(self, "access_logs", ctx, noncurrent_expiration_days=7)
        self.security_topic = self._topic("security", settings.notifications.security_emails)
        self.compliance_topic = self._topic("compliance", settings.notifications.compliance_emails)
        self.guardduty = GuardDuty(
            self,
            "guardduty",
            GuardDutyProps(context=ctx, config=regional.guardduty, key=self.key, access_logs=self.access_logs),
        )
        self.recorder = ConfigRecorder(
            self,
            "config",
            RecorderProps(
                context=ctx, config=regional.config_recorder, home=home, key=self.key, access_logs=self.access_logs
            ),
        )
        self.rules = ComplianceRules(
            self,
            "compliance",
            RulesProps(context=ctx, key=self.key, report_topic=self.compliance_topic, depends_on=self.recorder.ready),
        )
        self.events = SecurityEvents(
            self,
            "events",
            EventsProps(
                context=ctx,
                security_topic=self.security_topic,
                compliance_topic=self.compliance_topic,
                remediation=self.rules.function,
                guardduty_threshold=regional.guardduty.high_severity,
            ),
        )
        self.security_hub = SecurityHub(
            self, "security_hub", SecurityHubProps(context=ctx, config=regional.security_hub)
        )
        self.trail: AccountTrail | None = None
        if home:
            self.trail = AccountTrail(
                self, "trail", TrailProps(context=ctx, key=self.key, access_logs=self.access_logs)
            )
            self.cis = CisAlarms(
                self,
                "cis",
                CisAlarmsProps(
                    context=ctx,
                    log_group=self.trail.log_group,
                    topic=self.security_topic,
                    period_s=settings.trail.alarm_period_s,
                ),
            )
        self._publish(region)

    def _topic(self, name: str, emails: tuple[str, ...]) -> EncryptedTopic:
        return EncryptedTopic(
            self,
            f"{name}_topic",
            TopicProps(context=self.context, name=name, key=self.key, publishing_services=PUBLISHERS, emails=emails),
        )

    def _publish(self, region: str) -> None:
        """The contract's outputs (:mod:`shared_constructs.contracts.security_baseline`), and each output
        again with the region's code, so that they stay unique in flat-outputs.json."""
        code = short_region(region)
        published = {
            "security_topic_arn": (self.security_topic.topic_arn, "KMS-encrypted SNS topic for security events"),
            "compliance_topic_arn": (self.compliance_topic.topic_arn, "KMS-encrypted SNS topic for compliance"),
            "security_key_arn": (self.key.key_arn, "Regional security KMS key"),
            "findings_bucket_name": (self.guardduty.findings_bucket.bucket_name, "GuardDuty findings bucket"),
            "remediation_function_name": (self.rules.function.function_name, "Config remediation function"),
        }
        if self.recorder.snapshots_bucket is not None:
            published["config_bucket_name"] = (self.recorder.snapshots_bucket.bucket_name, "Config snapshots bucket")
        for name, (value, description) in published.items():
            self.output(f"{name}_{code}", value, description=f"{description} ({region})")
        for output in contract.OUTPUTS:
            self.publish(output, published[output.name][0])
        if self.trail is not None:
            self.output(
                "log_archive_bucket_name", self.trail.archive.bucket_name, description="Log archive bucket (CloudTrail)"
            )
            self.output("trail_log_group_name", self.trail.log_group_name, description="CloudTrail log group")
            self.output("trail_arn", self.trail.trail.arn, description="Multi-region CloudTrail trail")
