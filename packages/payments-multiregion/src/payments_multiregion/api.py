"""The regional REST API in front of the workflow: request validation, throttling, access logs,
a TLS 1.2 custom domain with a DNS-validated certificate, and this region's latency record with
its 30-second health check."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_response import ApiGatewayMethodResponse
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
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordLatencyRoutingPolicy,
)
from shared_constructs.cdk import Construct, TerraformResourceLifecycle
from shared_constructs.functions import PythonFunction
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.naming import Kind
from shared_constructs.policy.suppress import suppress

from payments_multiregion.names import Names
from payments_multiregion.settings import Settings

PUSH_TO_LOGS = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
PAYMENT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Payment",
    "type": "object",
    "required": ["idempotency_key", "amount", "currency"],
    "additionalProperties": False,
    "properties": {
        "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        "amount": {"type": ["string", "number"]},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "merchant_id": {"type": "string", "maxLength": 64},
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
# StartExecution (STANDARD) answers at once with the execution; StartSyncExecution (EXPRESS) waits for the result.
ACTIONS = {"STANDARD": ("StartExecution", "202"), "EXPRESS": ("StartSyncExecution", "200")}
SYNC_RESPONSE = (
    "#set($status = $input.path('$.status'))\n"
    "#if($status == \"SUCCEEDED\")$input.path('$.output')"
    "#else#set($context.responseOverride.status = 422)"
    '{"error": {"code": "PAYMENT_FAILED", "cause": "$util.escapeJavaScript($input.path(\'$.error\'))"}}#end'
)
ASYNC_RESPONSE = '{"execution_arn": "$input.path(\'$.executionArn\')", "status": "ACCEPTED"}'


def start_template(state_machine_arn: str) -> str:
    """The request mapping: the validated body becomes the execution's input."""
    return f'{{"stateMachineArn": "{state_machine_arn}", "input": "$util.escapeJavaScript($input.json(\'$\'))"}}'


@dataclass(frozen=True, kw_only=True)
class ApiProps:
    settings: Settings
    names: Names
    region: str
    key: Key
    state_machine_arn: str
    health: PythonFunction
    zone_id: str


class PaymentsApi(Construct):
    """REST API, stage, custom domain, certificate, latency record and health check of one region."""

    def __init__(self, scope: Construct, id: str, props: ApiProps) -> None:
        super().__init__(scope, id)
        settings, names, region = props.settings, props.names, props.region
        knobs = settings.for_region(region)
        stage_name = settings.workflow.stage_name
        action, success = ACTIONS[settings.workflow.type]
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=names.api(region),
            description="Payments API (regional endpoint)",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
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
        validator = ApiGatewayRequestValidator(
            self,
            "validator",
            rest_api_id=api_id,
            name=names.namer.name(Kind.GENERIC, "body-validator", region=region),
            validate_request_body=True,
            validate_request_parameters=True,
        )
        role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                namer=names.namer,
                name="api-start",
                region=region,
                description="Lets the payments API start workflows",
                trust_policy=assume_role_policy(services=["apigateway.amazonaws.com"]),
                statements=[
                    Statement(sid="StartWorkflow", actions=[f"states:{action}"], resources=[props.state_machine_arn])
                ],
            ),
        )

        payments = ApiGatewayResource(
            self, "payments", rest_api_id=api_id, parent_id=self.api.root_resource_id, path_part="payments"
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
        template = start_template(props.state_machine_arn)
        start = ApiGatewayIntegration(
            self,
            "start",
            rest_api_id=api_id,
            resource_id=payments.id,
            http_method=post.http_method,
            type="AWS",
            integration_http_method="POST",
            uri=f"arn:aws:apigateway:{region}:states:action/{action}",
            credentials=role.role_arn,
            passthrough_behavior="NEVER",
            request_templates={"application/json": template},
        )
        responses = []
        for code, pattern, body in (
            (success, None, SYNC_RESPONSE if success == "200" else ASYNC_RESPONSE),
            ("400", "4\\d{2}", None),
            ("500", "5\\d{2}", None),
        ):
            method_response = ApiGatewayMethodResponse(
                self,
                f"post_{code}",
                rest_api_id=api_id,
                resource_id=payments.id,
                http_method=post.http_method,
                status_code=code,
            )
            responses.append(
                ApiGatewayIntegrationResponse(
                    self,
                    f"start_{code}",
                    rest_api_id=api_id,
                    resource_id=payments.id,
                    http_method=post.http_method,
                    status_code=method_response.status_code,
                    selection_pattern=pattern,
                    response_templates={"application/json": body} if body else None,
                    depends_on=[start],
                )
            )

        health = ApiGatewayResource(
            self, "health", rest_api_id=api_id, parent_id=self.api.root_resource_id, path_part="health"
        )
        # Route 53 health checkers cannot sign requests: the health probe is the one unauthenticated method.
        get = ApiGatewayMethod(
            self,
            "get_health",
            rest_api_id=api_id,
            resource_id=health.id,
            http_method="GET",
            authorization="NONE",
            request_validator_id=validator.id,
        )
        probe = ApiGatewayIntegration(
            self,
            "health_probe",
            rest_api_id=api_id,
            resource_id=health.id,
            http_method=get.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=props.health.invoke_arn,
        )
        LambdaPermission(
            self,
            "health_from_api",
            action="lambda:InvokeFunction",
            function_name=props.health.function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*/GET/health",
            statement_id="AllowApiHealth",
        )

        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    PAYMENT_SCHEMA,
                    ACCESS_LOG_FORMAT,
                    action,
                    success,
                    SYNC_RESPONSE,
                    ASYNC_RESPONSE,
                    "payments:POST:AWS_IAM",
                    "health:GET:NONE",
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
            depends_on=[post, start, get, probe, *responses],
        )
        self.access_logs = EncryptedLogGroup(
            self,
            "access_logs",
            LogGroupProps(
                settings=settings,
                name=names.namer.path(Kind.LOG_GROUP, "api-access", names.api(region)),
                key=props.key,
                region=region,
            ),
        )
        account = self._account_logging_role(names, region)
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=api_id,
            deployment_id=deployment.id,
            stage_name=stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=[account],
        )
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
        self.invoke_url = self.stage.invoke_url
        self.execute_api_host = f"{api_id}.execute-api.{region}.amazonaws.com"
        self._domain(props, stage_name)

    def _account_logging_role(self, names: Names, region: str) -> ApiGatewayAccount:
        """API Gateway writes access logs through the region's account-level CloudWatch role."""
        role = LeastPrivilegeRole(
            self,
            "logging_role",
            RoleProps(
                namer=names.namer,
                name="apigw-logs",
                region=region,
                description="Lets API Gateway write access logs in this region",
                trust_policy=assume_role_policy(services=["apigateway.amazonaws.com"]),
                managed_policy_arns=[PUSH_TO_LOGS],
            ),
        )
        return ApiGatewayAccount(self, "account", cloudwatch_role_arn=role.role_arn)

    def _domain(self, props: ApiProps, stage_name: str) -> None:
        dns, region = props.settings.dns, props.region
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=dns.api_name,
            validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        option = certificate.domain_validation_options.get(0)
        # Every region's certificate for the same name asks for the same validation record.
        validation_record = Route53Record(
            self,
            "certificate_validation_record",
            zone_id=props.zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=60,
            allow_overwrite=True,
        )
        validated = AcmCertificateValidation(
            self,
            "certificate_validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
        )
        self.domain = ApiGatewayDomainName(
            self,
            "domain",
            domain_name=dns.api_name,
            regional_certificate_arn=validated.certificate_arn,
            security_policy="TLS_1_2",
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
        )
        ApiGatewayBasePathMapping(
            self, "mapping", api_id=self.api.id, stage_name=self.stage.stage_name, domain_name=self.domain.domain_name
        )
        self.health_check = Route53HealthCheck(
            self,
            "health_check",
            type="HTTPS",
            fqdn=self.execute_api_host,
            port=443,
            resource_path=f"/{stage_name}/health",
            request_interval=dns.health_check_interval_s,
            failure_threshold=dns.health_check_failure_threshold,
            measure_latency=True,
            invert_healthcheck=not props.settings.for_region(region).in_service,
            tags={"Name": props.names.namer.name(Kind.GENERIC, "api-health", region=region)},
        )
        self.latency_record = Route53Record(
            self,
            "latency_record",
            zone_id=props.zone_id,
            name=dns.api_name,
            type="A",
            set_identifier=region,
            latency_routing_policy=Route53RecordLatencyRoutingPolicy(region=region),
            health_check_id=self.health_check.id,
            alias=Route53RecordAlias(
                name=self.domain.regional_domain_name, zone_id=self.domain.regional_zone_id, evaluate_target_health=True
            ),
        )
