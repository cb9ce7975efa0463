"""EventBridge rules that route critical security events to the security and compliance topics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget, CloudwatchEventTargetRetryPolicy
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.messaging import EncryptedTopic
from shared_constructs.naming import Kind

from security_baseline.settings import Settings


def guardduty_high_pattern(threshold: float) -> dict[str, Any]:
    """GuardDuty findings with severity >= ``threshold`` (7.0 and up is HIGH)."""
    return {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", threshold]}]},
    }


CONFIG_NON_COMPLIANT: dict[str, Any] = {
    "source": ["aws.config"],
    "detail-type": ["Config Rules Compliance Change"],
    "detail": {
        "messageType": ["ComplianceChangeNotification"],
        "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
    },
}
ROOT_SIGN_IN: dict[str, Any] = {
    "detail-type": ["AWS Console Sign In via CloudTrail"],
    "detail": {"userIdentity": {"type": ["Root"]}},
}
KMS_KEY_DELETION: dict[str, Any] = {
    "source": ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": ["DisableKey", "ScheduleKeyDeletion"]},
}


@dataclass(frozen=True, kw_only=True)
class EventsProps:
    """Props of :class:`SecurityEvents`.

    ``remediation``: the function Config non-compliance events also go to.
    """

    context: AppContext[Settings]
    security_topic: EncryptedTopic
    compliance_topic: EncryptedTopic
    remediation: PythonFunction
    guardduty_threshold: float = 7.0


class SecurityEvents(Construct):
    """Rules on the default bus: GuardDuty HIGH, Config non-compliant, root sign-in, KMS key deletion."""

    def __init__(self, scope: Construct, id: str, props: EventsProps) -> None:
        super().__init__(scope, id)
        self._context = props.context
        self.rules: dict[str, CloudwatchEventRule] = {}
        security = props.security_topic.topic_arn
        self._route(
            "guardduty-high",
            "GuardDuty findings of HIGH severity",
            guardduty_high_pattern(props.guardduty_threshold),
            [security],
        )
        config_rule = self._route(
            "config-noncompliant",
            "AWS Config rules reporting NON_COMPLIANT",
            CONFIG_NON_COMPLIANT,
            [props.compliance_topic.topic_arn, security],
        )
        self._route("root-sign-in", "Console sign-in by the root user", ROOT_SIGN_IN, [security])
        self._route("kms-key-deletion", "A KMS key disabled or scheduled for deletion", KMS_KEY_DELETION, [security])
        CloudwatchEventTarget(
            self,
            "config_noncompliant_remediation",
            rule=config_rule.name,
            arn=props.remediation.function_arn,
            target_id="remediation",
            retry_policy=CloudwatchEventTargetRetryPolicy(maximum_retry_attempts=4, maximum_event_age_in_seconds=3600),
        )
        LambdaPermission(
            self,
            "remediation_invoke",
            statement_id="AllowConfigNonCompliantRule",
            action="lambda:InvokeFunction",
            function_name=props.remediation.function.function_name,
            principal="events.amazonaws.com",
            source_arn=config_rule.arn,
        )

    def _route(self, name: str, description: str, pattern: dict[str, Any], topics: list[str]) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            name.replace("-", "_"),
            name=self._context.name(Kind.EVENT_RULE, name),
            description=description,
            event_pattern=json.dumps(pattern, sort_keys=True),
        )
        for index, topic in enumerate(topics):
            CloudwatchEventTarget(
                self,
                f"{name.replace('-', '_')}_topic{index}",
                rule=rule.name,
                arn=topic,
                target_id=f"topic{index}",
            )
        self.rules[name] = rule
        return rule
