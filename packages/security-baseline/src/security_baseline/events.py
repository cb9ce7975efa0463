"""EventBridge rules that route critical security events to the security topic, and compliance
results to the compliance topic (and the remediation function) only.

The security topic pages people: it gets GuardDuty findings at or above the threshold, Security Hub
findings of the configured severities that are new, active and not suppressed, root sign-ins and
KMS keys disabled or scheduled for deletion. Config's NON_COMPLIANT results are compliance work,
not incidents: they go to the compliance topic and the remediation function, never to the
security topic (a failed control a person must see at once is a Security Hub finding above).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget, CloudwatchEventTargetRetryPolicy
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


def security_hub_pattern(severities: tuple[str, ...]) -> dict[str, Any]:
    """Security Hub findings of ``severities`` that are new, active and not suppressed, except
    GuardDuty's (its own rule routes them, with its own threshold, so none arrives twice)."""
    return {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {
            "findings": {
                "Severity": {"Label": sorted(severities)},
                "Workflow": {"Status": ["NEW"]},
                "RecordState": ["ACTIVE"],
                "ProductName": [{"anything-but": ["GuardDuty"]}],
            }
        },
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
    ``security_hub_severities``: finding severities routed to the security topic. Default: none
    (no Security Hub rule, for a region where Security Hub is off).
    """

    context: AppContext[Settings]
    security_topic: EncryptedTopic
    compliance_topic: EncryptedTopic
    remediation: PythonFunction
    guardduty_threshold: float = 7.0
    security_hub_severities: tuple[str, ...] = ()


class SecurityEvents(Construct):
    """Rules on the default bus: GuardDuty HIGH, Security Hub critical findings, Config
    non-compliant (compliance topic only), root sign-in, KMS key deletion."""

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
        if props.security_hub_severities:
            self._route(
                "securityhub-critical",
                f"Security Hub findings ({', '.join(props.security_hub_severities)}), new and active",
                security_hub_pattern(props.security_hub_severities),
                [security],
            )
        config_rule = self._route(
            "config-noncompliant",
            "AWS Config rules reporting NON_COMPLIANT (compliance topic and remediation only)",
            CONFIG_NON_COMPLIANT,
            [props.compliance_topic.topic_arn],
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
        props.remediation.allow_service_invoke(
            self,
            "remediation_invoke",
            statement_id="AllowConfigNonCompliantRule",
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
