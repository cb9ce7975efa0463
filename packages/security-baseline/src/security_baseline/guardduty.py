"""GuardDuty: the detector (created or adopted) and its findings export to an encrypted bucket."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.guardduty_detector import GuarddutyDetector
from cdktf_cdktf_provider_aws.guardduty_detector_feature import (
    GuarddutyDetectorFeature,
    GuarddutyDetectorFeatureAdditionalConfiguration,
)
from cdktf_cdktf_provider_aws.guardduty_publishing_destination import GuarddutyPublishingDestination
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import Statement
from shared_constructs.kms import Key
from shared_constructs.storage import BucketProps, LifecycleRule, SecureBucket

from security_baseline.settings import GuardDutySettings, ProtectionPlans, Settings

PUBLISHING_FREQUENCY = "SIX_HOURS"
"""Findings are exported every 6 hours, as the platform security requirements ask (their section 7)."""
SERVICE = "guardduty.amazonaws.com"
FEATURES = {
    "s3": "S3_DATA_EVENTS",
    "eks": "EKS_AUDIT_LOGS",
    "runtime": "RUNTIME_MONITORING",
    "malware": "EBS_MALWARE_PROTECTION",
    "rds": "RDS_LOGIN_EVENTS",
    "lambda_network": "LAMBDA_NETWORK_LOGS",
}
"""Protection plan setting -> GuardDuty detector feature name."""
RUNTIME_AGENTS = ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT")
"""Runtime Monitoring's agent management, on wherever the plan is on."""


def status(enabled: bool) -> str:
    """A feature's status as GuardDuty writes it."""
    return "ENABLED" if enabled else "DISABLED"


@dataclass(frozen=True, kw_only=True)
class GuardDutyProps:
    """Props of :class:`GuardDuty`.

    ``config``: the region's resolved switches (create or adopt a detector).
    ``key``: encrypts the findings bucket and the exported findings.
    ``access_logs``: where the findings bucket's server access logs go.
    """

    context: AppContext[Settings]
    config: GuardDutySettings
    key: Key
    access_logs: SecureBucket


class GuardDuty(Construct):
    """A GuardDuty detector (or an adopted one) exporting findings to a KMS-encrypted bucket.

    In ``adopt`` mode no detector is created: the existing one (``detector_id``) gets the findings
    export; its publishing frequency stays whatever its owner set.
    """

    def __init__(self, scope: Construct, id: str, props: GuardDutyProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.detector: GuarddutyDetector | None = None
        self.features: dict[str, GuarddutyDetectorFeature] = {}
        if props.config.mode == "create":
            self.detector = GuarddutyDetector(
                self, "detector", enable=True, finding_publishing_frequency=PUBLISHING_FREQUENCY
            )
            self.detector_id: str = self.detector.id
            self.features = self._protection_plans(props.config.protection)
        else:
            self.detector_id = props.config.detector_id or ""
        self.detector_arn = ctx.arn("guardduty", f"detector/{self.detector_id}")
        self.findings_bucket = SecureBucket(
            self,
            "findings",
            BucketProps(
                context=ctx,
                name="gd-findings",
                key=props.key,
                access_log_bucket=props.access_logs,
                lifecycle=(
                    LifecycleRule(
                        id="expire-findings",
                        expiration_days=props.config.findings_expiration_days,
                        noncurrent_expiration_days=1,
                    ),
                ),
            ),
        )
        self._allow_export(props.key, ctx.account)
        self.destination = GuarddutyPublishingDestination(
            self,
            "destination",
            detector_id=self.detector_id,
            destination_arn=self.findings_bucket.bucket_arn,
            kms_key_arn=props.key.key_arn,
            destination_type="S3",
            # GuardDuty checks its access to the bucket and key when the destination is created.
            depends_on=[self.findings_bucket.policy, props.key.key],
        )

    def _protection_plans(self, plans: ProtectionPlans) -> dict[str, GuarddutyDetectorFeature]:
        """Every plan set on or off explicitly on the created detector."""
        found = {}
        for setting, feature in FEATURES.items():
            enabled: bool = getattr(plans, setting)
            agents = [
                GuarddutyDetectorFeatureAdditionalConfiguration(name=agent, status=status(enabled))
                for agent in (RUNTIME_AGENTS if feature == "RUNTIME_MONITORING" else ())
            ]
            found[setting] = GuarddutyDetectorFeature(
                self,
                f"feature_{setting}",
                detector_id=self.detector_id,
                name=feature,
                status=status(enabled),
                additional_configuration=agents or None,
            )
        return found

    def _allow_export(self, key: Key, account: str) -> None:
        """Bucket and key policy statements GuardDuty needs to export findings (and nothing more)."""
        source = {"aws:SourceAccount": account, "aws:SourceArn": self.detector_arn}
        bucket = self.findings_bucket
        bucket.add_to_policy(
            Statement(
                sid="GuardDutyGetBucketLocation",
                actions=["s3:GetBucketLocation"],
                principals={"Service": SERVICE},
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": source},
            ),
            Statement(
                sid="GuardDutyPutFindings",
                actions=["s3:PutObject"],
                principals={"Service": SERVICE},
                resources=[f"{bucket.bucket_arn}/*"],
                conditions={"StringEquals": source},
            ),
        )
        key.grant_service(
            "GuardDutyEncryptFindings",
            SERVICE,
            ("kms:GenerateDataKey",),
            conditions={"StringEquals": {"aws:SourceArn": self.detector_arn}},
        )
