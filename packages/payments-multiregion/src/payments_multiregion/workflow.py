"""The payment workflow (validate, claim, authorize, record or decline, notify) with retries, the
compensation that voids an authorization it could not record, and an alert only when that void
fails; logged to a KMS log group without execution data (no card data in logs), its definition and
execution history encrypted with the region's customer-managed key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineEncryptionConfiguration,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.messaging import EncryptedTopic

from payments_multiregion.names import DETAIL_TYPES, EVENT_SOURCE, WORKFLOW, Names
from payments_multiregion.settings import Settings

LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
RETRIED = [*LAMBDA_TRANSIENT, "TransientError"]
TIMEOUT_S = {"STANDARD": 3600, "EXPRESS": 300}
"""Workflow timeout per type; a PENDING claim blocks other attempts of the payment as long."""
STATE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
DATA_KEY_REUSE_S = 300
"""Step Functions asks KMS for a new data key at most every 5 minutes (its default; 60-900 allowed)."""
TECHNICAL_FAILURE = "PaymentTechnicalFailure"
"""The one error a failed execution ends with: a technical failure the client may retry."""
ACCEPTED_EVENT = DETAIL_TYPES[0]


def _task(
    step: str, function_arn: str, next_state: str, catches: list[tuple[list[str], str]], retried: list[str] = RETRIED
) -> dict[str, Any]:
    """A transaction-function step: state in, state out; transient errors retried with jitter."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": {"action": step, "state.$": "$"}},
        "OutputPath": "$.Payload",
        "Retry": [
            {
                "ErrorEquals": retried,
                "IntervalSeconds": 1,
                "MaxAttempts": 3,
                "BackoffRate": 2.0,
                "JitterStrategy": "FULL",
            }
        ],
        "Catch": [{"ErrorEquals": errors, "ResultPath": "$.error", "Next": target} for errors, target in catches],
        "Next": next_state,
    }


def _outcome(status: str, reason: str, **fields: str) -> dict[str, Any]:
    """A Pass state that sets the outcome of a request that never became a payment attempt."""
    return {
        "Type": "Pass",
        "Parameters": {"status": status, "reason_code": reason, **fields},
        "ResultPath": "$.outcome",
        "Next": "Finish",
    }


def _payment_states(function_arn: str) -> dict[str, Any]:
    """Validate, claim, authorize, then record or decline; void what cannot be recorded."""
    release = (["States.ALL"], "Release")
    return {
        "Validate": _task(
            "validate",
            function_arn,
            "Claim",
            [(["PaymentValidationError"], "Rejected"), (["States.ALL"], "Failed")],
            LAMBDA_TRANSIENT,
        ),
        "Claim": _task(
            "claim", function_arn, "Claimed", [(["IdempotencyConflictError"], "Conflict"), (["States.ALL"], "Failed")]
        ),
        "Claimed": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.outcome", "IsPresent": True, "Next": "Finish"}],
            "Default": "Authorize",
        },
        "Authorize": _task("authorize", function_arn, "Approved", [release]),
        "Approved": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.authorization.approved", "BooleanEquals": True, "Next": "Record"}],
            "Default": "Decline",
        },
        "Decline": _task("decline", function_arn, "Finish", [release]),
        # Authorized but not recorded (ClaimLostError included): void the authorization.
        "Record": _task("record", function_arn, "Notify", [(["States.ALL"], "Void")]),
        "Void": _task("void", function_arn, "Failed", [(["States.ALL"], "VoidFailed")]),
        "Release": _task("release", function_arn, "Failed", [(["States.ALL"], "Failed")]),
        "Rejected": _outcome("REJECTED", "INVALID_REQUEST", **{"cause.$": "$.error.Cause"}),
        "Conflict": _outcome("CONFLICT", "IDEMPOTENCY_KEY_REUSED"),
    }


def definition(function_arn: str, bus_name: str, topic_arn: str, workflow_type: str) -> dict[str, Any]:
    """The Amazon States Language document of the workflow.

    Business outcomes (approved, declined, rejected, conflict, replayed) end the execution
    successfully with the outcome as its output; only technical failures fail it. A recorded
    payment is never failed by its notification: Notify's failure ends as a success whose outcome
    says the notification was deferred (the table stream's PaymentRecorded event still follows).
    """
    return {
        "Comment": "Payment workflow: validate, claim, authorize, record or decline, notify; void on failure",
        "TimeoutSeconds": TIMEOUT_S[workflow_type],
        "StartAt": "Validate",
        "States": {
            **_payment_states(function_arn),
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {
                    "Entries": [
                        {
                            "Source": EVENT_SOURCE,
                            "DetailType": ACCEPTED_EVENT,
                            "EventBusName": bus_name,
                            "Detail.$": "$.outcome",
                        }
                    ]
                },
                "ResultPath": None,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotificationDeferred"}],
                "Next": "Notified",
            },
            "Notified": {"Type": "Pass", "Result": "SENT", "ResultPath": "$.outcome.notification", "Next": "Finish"},
            "NotificationDeferred": {
                "Type": "Pass",
                "Result": "DEFERRED",
                "ResultPath": "$.outcome.notification",
                "Next": "Finish",
            },
            "Finish": {"Type": "Succeed", "OutputPath": "$.outcome"},
            "VoidFailed": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                # Ids, error name and cause only: the payment itself stays out of alerts. Only this
                # path pages: an authorization nobody could void needs a person.
                "Parameters": {
                    "TopicArn": topic_arn,
                    "Subject": "Payment authorization could not be voided",
                    "Message": {
                        "payment_id.$": "$.payment.payment_id",
                        "authorization_id.$": "$.authorization.authorization_id",
                        "error.$": "$.error.Error",
                        "execution.$": "$$.Execution.Id",
                    },
                },
                "ResultPath": None,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
                "Next": "Failed",
            },
            "Failed": {
                "Type": "Fail",
                "Error": TECHNICAL_FAILURE,
                "Cause": "A technical failure; nothing stays charged. Retry with the same idempotency key.",
            },
        },
    }


@dataclass(frozen=True, kw_only=True)
class WorkflowProps:
    """Props of :class:`PaymentWorkflow`: the region's ``context`` and ``key``, the ``transaction``
    function every step invokes, the bus completions go to and the ``topic`` failures go to."""

    context: AppContext[Settings]
    key: Key
    transaction: PythonFunction
    bus_name: str
    bus_arn: str
    topic: EncryptedTopic


class PaymentWorkflow(Construct):
    """The regional state machine, its role and its encrypted log group."""

    def __init__(self, scope: Construct, id: str, props: WorkflowProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.name = Names(ctx).state_machine(ctx.region)
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            LogGroupProps(context=ctx, name=f"/aws/vendedlogs/states/{self.name}", key=props.key),
        )
        self.role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name=WORKFLOW,
                description=f"Execution role of state machine {self.name}",
                trust_policy=assume_role_policy(services=["states.amazonaws.com"]),
                statements=[
                    Statement(sid="NotifyCompletion", actions=["events:PutEvents"], resources=[props.bus_arn]),
                    # Log delivery and X-Ray calls have no resource-level permissions: AWS requires "*".
                    Statement(
                        sid="LogDelivery",
                        actions=[
                            "logs:CreateLogDelivery",
                            "logs:DeleteLogDelivery",
                            "logs:DescribeLogGroups",
                            "logs:DescribeResourcePolicies",
                            "logs:GetLogDelivery",
                            "logs:ListLogDeliveries",
                            "logs:PutResourcePolicy",
                            "logs:UpdateLogDelivery",
                        ],
                        resources=["*"],
                    ),
                    Statement(
                        sid="Tracing",
                        actions=[
                            "xray:GetSamplingRules",
                            "xray:GetSamplingTargets",
                            "xray:PutTelemetryRecords",
                            "xray:PutTraceSegments",
                        ],
                        resources=["*"],
                    ),
                ],
            ),
        )
        props.transaction.grant_invoke(self.role, sid="InvokeTransaction")
        props.topic.grant_publish(self.role)
        # Definition and execution history are encrypted with the region's key (PCI DSS 3.5.1): the
        # execution role uses it for every step, log delivery decrypts what it delivers.
        props.key.grant(self.role, STATE_KEY_ACTIONS, sid="StateEncryption")
        props.key.grant_service(
            "StatesLogDelivery", "delivery.logs.amazonaws.com", ("kms:Decrypt",), source_account=False
        )
        workflow_type = ctx.settings.workflow.type
        self.state_machine = SfnStateMachine(
            self,
            "machine",
            name=self.name,
            role_arn=self.role.role_arn,
            type=workflow_type,
            definition=json.dumps(
                definition(props.transaction.function_arn, props.bus_name, props.topic.topic_arn, workflow_type),
                sort_keys=True,
            ),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                log_destination=f"{self.log_group.log_group_arn}:*", level="ALL", include_execution_data=False
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            encryption_configuration=SfnStateMachineEncryptionConfiguration(
                type="CUSTOMER_MANAGED_KMS_KEY",
                kms_key_id=props.key.key_arn,
                kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_S,
            ),
        )
        self.state_machine_arn = self.state_machine.arn
