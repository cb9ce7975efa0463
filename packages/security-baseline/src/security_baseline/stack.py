"""One account's security baseline in one region; the account's home region also holds its
account-wide parts."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_organizations_organization import DataAwsOrganizationsOrganization
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
from security_baseline.organization import (
    AdministrationProps,
    DelegationProps,
    OrganizationAdministration,
    OrganizationDelegation,
)
from security_baseline.securityhub import SecurityHub, SecurityHubProps
from security_baseline.settings import Settings
from security_baseline.trail import AccountTrail, TrailProps

PACKAGE = contract.PACKAGE
PUBLISHERS = ("events.amazonaws.com", "cloudwatch.amazonaws.com")
"""Services that publish to the topics: EventBridge rules and CloudWatch alarms of this account."""


class RegionalBaseline(PlatformStack[Settings]):
    """Key, topics, GuardDuty, Config, rules, events and Security Hub of one account (``label`` in
    ``settings.accounts``) in one region, plus the trail and CIS alarms in the account's home region;
    in organizations mode also the account's part of the organization's administration.

    The stack's provider assumes the account's role and is limited to the account; the stack is
    named after the account and region (``security-baseline-<account id>-<region>``), and so is its
    state key.
    """

    def __init__(self, scope: Construct, settings: Settings, label: str, region: str) -> None:
        account = settings.covered[label]
        published = contract.stack(region, account.id)
        self.qualifier = settings.qualifier(label)
        super().__init__(
            scope,
            published.stack,
            settings=settings,
            package=PACKAGE,
            region=region,
            service=f"baseline-{self.qualifier}" if self.qualifier else PACKAGE,
            assume_role_arn=account.assume_role_arn,
            account_id=account.id,
            publishes=published,
        )
        self.label = label
        ctx = self.context
        regional = settings.for_account(label, region)
        home = region == settings.home_region(label)
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
                security_hub_severities=(
                    regional.security_hub.notify_severities if regional.security_hub.mode != "off" else ()
                ),
            ),
        )
        self.security_hub = SecurityHub(
            self, "security_hub", SecurityHubProps(context=ctx, config=regional.security_hub)
        )
        self.trail: AccountTrail | None = None
        if home:
            self._account_wide()
        self._organization(home)
        self._publish(region)

    def _account_wide(self) -> None:
        """The account's trail (created, or adopted: its log group) and the CIS alarms on its log group."""
        trail = self.settings.trail_for(self.label)
        log_group = trail.log_group_name or ""
        if trail.mode == "create":
            org = self.settings.organization
            organization_id = None
            if org.enabled and org.management_account == self.label:
                organization_id = DataAwsOrganizationsOrganization(self, "organization").id
            self.trail = AccountTrail(
                self,
                "trail",
                TrailProps(
                    context=self.context, key=self.key, access_logs=self.access_logs, organization_id=organization_id
                ),
            )
        self.cis = CisAlarms(
            self,
            "cis",
            CisAlarmsProps(
                context=self.context,
                log_group=self.trail.log_group if self.trail is not None else log_group,
                topic=self.security_topic,
                period_s=trail.alarm_period_s,
            ),
        )

    def _organization(self, home: bool) -> None:
        """Organizations mode: delegation in the management account, administration in the delegated
        administrator's (its stacks follow the management account's stack of the same region)."""
        org = self.settings.organization
        if not org.enabled or org.delegated_admin_account is None:
            return
        admin = self.settings.covered[org.delegated_admin_account]
        if self.label == org.management_account:
            OrganizationDelegation(
                self,
                "delegation",
                DelegationProps(context=self.context, admin_account_id=admin.id, hub=self.security_hub.account),
            )
        elif self.label == org.delegated_admin_account:
            regions = self.settings.account_regions(self.label)
            OrganizationAdministration(
                self,
                "administration",
                AdministrationProps(
                    context=self.context,
                    detector_id=self.guardduty.detector_id,
                    auto_enable=org.auto_enable,
                    hub=self.security_hub.account,
                    home=home,
                    linked_regions=[r for r in regions if r != self.region],
                    recorder_ready=self.recorder.ready,
                ),
            )

    def _topic(self, name: str, emails: tuple[str, ...]) -> EncryptedTopic:
        return EncryptedTopic(
            self,
            f"{name}_topic",
            TopicProps(context=self.context, name=name, key=self.key, publishing_services=PUBLISHERS, emails=emails),
        )

    def _publish(self, region: str) -> None:
        """The contract's outputs (:mod:`shared_constructs.contracts.security_baseline`), and each output
        again with the region's code (and, outside ``account_id``, the account's label), so that they
        stay unique in flat-outputs.json."""
        code = short_region(region) + (f"_{self.qualifier}" if self.qualifier else "")
        home = f"_{self.qualifier}" if self.qualifier else ""
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
                f"log_archive_bucket_name{home}",
                self.trail.archive.bucket_name,
                description="Log archive bucket (CloudTrail)",
            )
            self.output(f"trail_log_group_name{home}", self.trail.log_group_name, description="CloudTrail log group")
            self.output(f"trail_arn{home}", self.trail.trail.arn, description="Multi-region CloudTrail trail")
