"""The regional REST API in front of the workflow: ``POST /payments`` and ``GET /payments/{payment_id}``
(both IAM-authorized, served by the API front function, which starts the workflow and reads the
status resource), request validation, throttling and access logs. Its custom domain, certificate,
latency record and health check are in :mod:`payments_multiregion.domain`.

The API has no health route: the region's Route 53 health check watches the canary's alarm
(:mod:`payments_multiregion.failover`), so no unauthenticated path exists that a flood could use
to throttle payments or fail the region over."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from shared_constructs.cdk import Construct, ITerraformDependable, TerraformResourceLifecycle
from shared_constructs.context import AppContext
from shared_constructs.functions import PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.policy.suppress import suppress

from payments_multiregion.domain import add_custom_domain
from payments_multiregion.names import Names
from payments_multiregion.settings import Settings

PUSH_TO_LOGS = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
PAYMENT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Payment",
    "type": "object",
    "required": ["merchant_id", "idempotency_key", "amount", "currency"],
    "additionalProperties": False,
    "properties": {
        "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        "amount": {"type": ["string", "number"]},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "merchant_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
    },
}
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integration.error",
        "latency": "$context.responseLatency",
    },
    sort_keys=True,
)


@dataclass(frozen=True, kw_only=True)
class ApiProps:
    """Props of :class:`PaymentsApi`: the region's ``context`` and ``key``, the ``intake`` function
    behind the payment routes, the hosted ``zone_id`` of the API's name and the canary alarm
    (``health_alarm_name``) that the region's Route 53 health check watches."""

    context: AppContext[Settings]
    key: Key
    intake: PythonFunction
    zone_id: str
    health_alarm_name: str


class PaymentsApi(Construct):
    """REST API, stage, custom domain, certificate, latency record and health check of one region."""

    def __init__(self, scope: Construct, id: str, props: ApiProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.context, self.names = ctx, Names(ctx)
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=self.names.api(ctx.region),
            description="Payments API (regional endpoint)",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        validator = ApiGatewayRequestValidator(
            self,
            "validator",
            rest_api_id=self.api.id,
            name=ctx.name(Kind.GENERIC, "body-validator"),
            validate_request_body=True,
            validate_request_parameters=True,
        )
        methods = self._payments(props, validator)
        self._stage(props, methods)
        self.invoke_url = self.stage.invoke_url
        self.custom_domain = add_custom_domain(self, zone_id=props.zone_id, health_alarm_name=props.health_alarm_name)

    def _payments(self, props: ApiProps, validator: ApiGatewayRequestValidator) -> list[ITerraformDependable]:
        """``POST /payments`` (validated against the schema) and ``GET /payments/{payment_id}``, both
        IAM-authorized and proxied to the API front, which answers with the contract's status codes."""
        api_id = self.api.id
        model = ApiGatewayModel(
            self,
            "payment_model",
            rest_api_id=api_id,
            name="Payment",
            content_type="application/json",
            schema=json.dumps(PAYMENT_SCHEMA, sort_keys=True),
        )
        suppress(
            model,
            "NAME_SUFFIX",
            "model names are scoped to their API (which carries the suffix) and allow only letters and digits",
        )
        payments = ApiGatewayResource(
            self, "payments", rest_api_id=api_id, parent_id=self.api.root_resource_id, path_part="payments"
        )
        payment = ApiGatewayResource(
            self, "payment", rest_api_id=api_id, parent_id=payments.id, path_part="{payment_id}"
        )
        post = ApiGatewayMethod(
            self,
            "post",
            rest_api_id=api_id,
            resource_id=payments.id,
            http_method="POST",
            authorization="AWS_IAM",
            request_validator_id=validator.id,
            request_models={"application/json": model.name},
        )
        get = ApiGatewayMethod(
            self,
            "get_payment",
            rest_api_id=api_id,
            resource_id=payment.id,
            http_method="GET",
            authorization="AWS_IAM",
            request_validator_id=validator.id,
            request_parameters={"method.request.path.payment_id": True},
        )
        integrations: list[ITerraformDependable] = [post, get]
        for name, resource, method in (("start", payments, post), ("status", payment, get)):
            integrations.append(
                ApiGatewayIntegration(
                    self,
                    name,
                    rest_api_id=api_id,
                    resource_id=resource.id,
                    http_method=method.http_method,
                    type="AWS_PROXY",
                    integration_http_method="POST",
                    uri=props.intake.invoke_arn,
                )
            )
        props.intake.allow_service_invoke(
            self,
            "intake_from_api",
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*/*/payments*",
            statement_id="AllowApiPayments",
        )
        return integrations

    def _stage(self, props: ApiProps, methods: list[ITerraformDependable]) -> None:
        """The deployment (redeployed when the API's shape changes), its logged, throttled stage."""
        ctx, api_id = self.context, self.api.id
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    PAYMENT_SCHEMA,
                    ACCESS_LOG_FORMAT,
                    "payments:POST:AWS_IAM:intake",
                    "payments/{payment_id}:GET:AWS_IAM:validated:intake",
                ],
                sort_keys=True,
            ).encode()
        ).hexdigest()
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=api_id,
            triggers={"redeployment": fingerprint},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=methods,
        )
        self.access_logs = EncryptedLogGroup(
            self,
            "access_logs",
            LogGroupProps(
                context=ctx, name=ctx.path(Kind.LOG_GROUP, "api-access", self.names.api(ctx.region)), key=props.key
            ),
        )
        account = self._account_logging_role()
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=api_id,
            deployment_id=deployment.id,
            stage_name=ctx.settings.workflow.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=[account],
        )
        knobs = ctx.settings.for_region(ctx.region)
        ApiGatewayMethodSettings(
            self,
            "throttling",
            rest_api_id=api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                throttling_rate_limit=knobs.api_rate_limit,
                throttling_burst_limit=knobs.api_burst_limit,
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
            ),
        )

    def _account_logging_role(self) -> ApiGatewayAccount:
        """API Gateway writes access logs through the region's account-level CloudWatch role."""
        role = LeastPrivilegeRole(
            self,
            "logging_role",
            RoleProps(
                context=self.context,
                name="apigw-logs",
                description="Lets API Gateway write access logs in this region",
                trust_policy=assume_role_policy(services=["apigateway.amazonaws.com"]),
                managed_policy_arns=[PUSH_TO_LOGS],
            ),
        )
        return ApiGatewayAccount(self, "account", cloudwatch_role_arn=role.role_arn)
