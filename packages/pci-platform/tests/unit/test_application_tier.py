"""Part 2: WAF, database and proxy, X-Ray, load balancer, Firehose, buckets, events, DNS, parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import only, resources, statement

PREFIX = "pci-platform-payments-apse1-dev"


def acl(stack: dict[str, Any]) -> dict[str, Any]:
    (found,) = resources(stack, "aws_wafv2_web_acl").values()
    return found


def rules(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in acl(stack)["rule"]}


@pytest.mark.requirement("SEC-6")
def test_waf_rule_priorities_and_actions(stack: dict[str, Any]) -> None:
    found = sorted(
        (r["priority"], r["name"], next(iter(r.get("action") or r["override_action"]))) for r in acl(stack)["rule"]
    )
    assert found == [
        (1, "payment-api-method", "block"),
        (2, "payment-api-size", "block"),
        (3, "rate-limit", "block"),
        (4, "sql-injection", "none"),
        (5, "cross-site-scripting", "none"),
        (6, "known-bad-inputs", "none"),
    ]
    assert acl(stack)["default_action"] == {"allow": {}}
    assert acl(stack)["scope"] == "REGIONAL"


@pytest.mark.requirement("SEC-6")
def test_waf_rate_limit_is_1000_per_5_minutes_per_ip(stack: dict[str, Any]) -> None:
    assert rules(stack)["rate-limit"]["statement"] == {
        "rate_based_statement": {"limit": 1000, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
    }


@pytest.mark.requirement("SEC-6")
@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("sql-injection", "AWSManagedRulesSQLiRuleSet"),
        ("cross-site-scripting", "AWSManagedRulesCommonRuleSet"),
        ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ],
)
def test_waf_managed_groups(stack: dict[str, Any], name: str, group: str) -> None:
    assert rules(stack)[name]["statement"] == {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}}


@pytest.mark.requirement("SEC-6")
def test_waf_payment_path_rules(stack: dict[str, Any]) -> None:
    method = rules(stack)["payment-api-method"]["statement"]["and_statement"]["statement"]
    assert method[0]["byte_match_statement"]["search_string"] == "/api/payments"
    assert method[0]["byte_match_statement"]["positional_constraint"] == "STARTS_WITH"
    assert method[1]["not_statement"]["statement"][0]["byte_match_statement"]["search_string"] == "POST"
    size = rules(stack)["payment-api-size"]["statement"]["and_statement"]["statement"]
    assert size[1]["size_constraint_statement"]["size"] == 8192
    assert size[1]["size_constraint_statement"]["comparison_operator"] == "GT"


VARIANT = {
    "waf": {"blocked_countries": ["KP", "IR"]},
    "app_secrets": {"partner-api-key": {"parameter": "/ops/partner-api-key"}},
}
"""dev with the options dev leaves off, in one synthesis (each synthesis costs seconds)."""


@pytest.fixture(scope="module")
def variant(synth: Callable[..., SynthResult]) -> dict[str, Any]:
    return synth("pci-platform", overrides=VARIANT).stacks["pci-platform"]


@pytest.mark.requirement("SEC-6")
def test_waf_geo_block_only_when_configured(stack: dict[str, Any], variant: dict[str, Any]) -> None:
    assert "geo-block" not in rules(stack)
    geo = rules(variant)["geo-block"]
    assert (geo["priority"], geo["action"]) == (0, {"block": {}})
    assert geo["statement"] == {"geo_match_statement": {"country_codes": ["IR", "KP"]}}


@pytest.mark.requirement("SEC-6", "SEC-C5")
def test_waf_logs_blocked_requests_to_the_waf_bucket_on_the_alb(stack: dict[str, Any]) -> None:
    (logging,) = resources(stack, "aws_wafv2_web_acl_logging_configuration").values()
    assert logging["log_destination_configs"][0].startswith("${aws_s3_bucket.waf_logs_bucket_")
    assert logging["logging_filter"]["default_behavior"] == "DROP"
    assert logging["logging_filter"]["filter"][0]["condition"][0]["action_condition"] == {"action": "BLOCK"}
    (association,) = resources(stack, "aws_wafv2_web_acl_association").values()
    assert association["resource_arn"].startswith("${aws_lb.api_alb_")


@pytest.mark.requirement("SEC-1", "SEC-C2")
def test_proxy_requires_tls_and_iam_with_the_existing_secret(stack: dict[str, Any]) -> None:
    (proxy,) = resources(stack, "aws_db_proxy").values()
    assert proxy["require_tls"] is True
    assert proxy["engine_family"] == "POSTGRESQL"
    (auth,) = proxy["auth"]
    assert auth["iam_auth"] == "REQUIRED"
    assert auth["secret_arn"] == "${data.aws_secretsmanager_secret.secrets_database_secret_9214DE69.arn}"


@pytest.mark.requirement("SEC-1", "SEC-D2", "DEP-7", "PCI-C7")
def test_cluster_is_serverless_v2_encrypted_tls_only_and_destroyable(stack: dict[str, Any]) -> None:
    (cluster,) = resources(stack, "aws_rds_cluster").values()
    assert (cluster["engine"], cluster["engine_mode"]) == ("aurora-postgresql", "provisioned")
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"].startswith("${aws_kms_key.keys_database_key_")
    assert cluster["serverlessv2_scaling_configuration"] == {"min_capacity": 0.5, "max_capacity": 1}
    assert "manage_master_user_password" not in cluster
    assert cluster["master_username"] == (
        "${jsondecode(data.aws_secretsmanager_secret_version.database_credentials_772D841A.secret_string).username}"
    )
    # The cluster's first credentials come from the master secret, not the application's.
    (version,) = stack["data"]["aws_secretsmanager_secret_version"].values()
    assert version["secret_id"] == "${data.aws_secretsmanager_secret.secrets_master_secret_3C6CFEBE.arn}"
    assert cluster["lifecycle"]["ignore_changes"] == ["master_password"]
    assert (cluster["deletion_protection"], cluster["skip_final_snapshot"]) == (False, True)
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    (parameters,) = resources(stack, "aws_rds_cluster_parameter_group").values()
    assert {"name": "rds.force_ssl", "value": "1"} in parameters["parameter"]
    assert {"name": "log_statement", "value": "ddl"} in parameters["parameter"]
    instances = resources(stack, "aws_rds_cluster_instance").values()
    assert sorted(i["promotion_tier"] for i in instances) == [0, 1, 2]
    assert sorted(i["availability_zone"] for i in instances) == [
        "${aws_subnet.network_vpc_workload_0_E60A42B6.availability_zone}",
        "${aws_subnet.network_vpc_workload_1_EA21F4AB.availability_zone}",
        "${aws_subnet.network_vpc_workload_2_3C98718F.availability_zone}",
    ]
    assert all(i["instance_class"] == "db.serverless" and i["publicly_accessible"] is False for i in instances)
    assert all(i["monitoring_interval"] == 60 for i in instances)


@pytest.mark.requirement("SEC-2", "SEC-D9", "SEC-C7")
def test_sampling_rule_traces_every_payment(stack: dict[str, Any]) -> None:
    (rule,) = resources(stack, "aws_xray_sampling_rule").values()
    assert (rule["fixed_rate"], rule["priority"], rule["url_path"]) == (1, 1, "/api/payments*")
    (encryption,) = resources(stack, "aws_xray_encryption_config").values()
    assert encryption["type"] == "KMS"
    assert encryption["key_id"].startswith("${aws_kms_key.keys_logs_key_")


@pytest.mark.requirement("SEC-2", "SEC-C2", "PCI-C1", "PCI-C6")
def test_alb_is_internal_with_https_tls12_and_access_logs(stack: dict[str, Any]) -> None:
    (alb,) = resources(stack, "aws_lb").values()
    assert alb["internal"] is True
    assert alb["drop_invalid_header_fields"] is True
    assert alb["enable_cross_zone_load_balancing"] is True
    assert alb["access_logs"] == {"bucket": "pci-platform-alb-logs-apse1-dev", "enabled": True}
    assert len(alb["subnets"]) == 3
    assert all("network_vpc_workload_" in s for s in alb["subnets"])
    (listener,) = resources(stack, "aws_lb_listener").values()
    assert (listener["port"], listener["protocol"], listener["ssl_policy"]) == (
        443,
        "HTTPS",
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
    )
    assert listener["certificate_arn"] == "arn:aws:iam::123456789012:server-certificate/pci-platform-dev"
    alb_sg = only(stack, "aws_security_group", name="pci-platform-payment-alb-apse1-dev")
    assert [(i["from_port"], i["cidr_blocks"]) for i in alb_sg["ingress"]] == [(443, ["10.60.0.0/16"])]


@pytest.mark.requirement("SEC-10")
def test_firehose_gzip_processor_backup_and_encryption(stack: dict[str, Any]) -> None:
    (stream,) = resources(stack, "aws_kinesis_firehose_delivery_stream").values()
    s3 = stream["extended_s3_configuration"]
    assert s3["compression_format"] == "GZIP"
    assert s3["s3_backup_mode"] == "Enabled"
    assert s3["s3_backup_configuration"]["prefix"] == "backup/"
    assert s3["error_output_prefix"].startswith("failed/")
    (processor,) = s3["processing_configuration"]["processors"]
    assert processor["type"] == "Lambda"
    assert processor["parameters"] == [
        {
            "parameter_name": "LambdaArn",
            "parameter_value": "${aws_lambda_function.streaming_transformer_function_C3C7A94F.arn}:$LATEST",
        }
    ]
    assert stream["server_side_encryption"]["key_type"] == "CUSTOMER_MANAGED_CMK"


@pytest.mark.parametrize(
    ("prefix", "rules_expected"),
    [
        ("api_alb_logs_", [("expire-alb-logs", 90, None)]),
        ("waf_logs_", [("compliance-retention", 365, [{"days": 90, "storage_class": "GLACIER"}])]),
        (
            "streaming_bucket_",
            [
                ("intelligent-tiering", None, [{"days": 0, "storage_class": "INTELLIGENT_TIERING"}]),
                ("expire-failed", 90, None),
            ],
        ),
    ],
)
def test_application_bucket_lifecycles(stack: dict[str, Any], prefix: str, rules_expected: list[Any]) -> None:
    (config,) = [
        c for n, c in resources(stack, "aws_s3_bucket_lifecycle_configuration").items() if n.startswith(prefix)
    ]
    found = [(r["id"], (r.get("expiration") or [{}])[0].get("days"), r.get("transition")) for r in config["rule"]]
    assert found == rules_expected


def test_alb_log_bucket_is_sse_s3_with_the_documented_reason_and_elb_delivery(stack: dict[str, Any]) -> None:
    (bucket,) = [b for n, b in resources(stack, "aws_s3_bucket").items() if n.startswith("api_alb_logs_")]
    assert "ALB access logs support only SSE-S3" in bucket["//"]["suppressions"][0]["reason"]
    (policy,) = [p for n, p in resources(stack, "aws_s3_bucket_policy").items() if n.startswith("api_alb_logs_")]
    assert statement(policy, "ElbLogDelivery")["Principal"] == {"AWS": "arn:aws:iam::114774131450:root"}


@pytest.mark.requirement("SEC-2")
def test_launch_template_requires_imdsv2_encrypted_volumes_no_public_ip(stack: dict[str, Any]) -> None:
    (template,) = resources(stack, "aws_launch_template").values()
    assert template["metadata_options"]["http_tokens"] == "required"
    assert template["metadata_options"]["http_put_response_hop_limit"] == 1
    ebs = template["block_device_mappings"][0]["ebs"]
    assert ebs["encrypted"] == "true"
    assert ebs["kms_key_id"].startswith("${aws_kms_key.keys_volumes_key_")
    assert template["network_interfaces"][0]["associate_public_ip_address"] == "false"
    (group,) = resources(stack, "aws_autoscaling_group").values()
    assert len(group["vpc_zone_identifier"]) == 3
    assert all("network_vpc_workload_" in s for s in group["vpc_zone_identifier"])


@pytest.mark.requirement("SEC-2", "SEC-C10")
def test_payment_function_is_sized_traced_and_in_the_vpc(stack: dict[str, Any]) -> None:
    function = only(stack, "aws_lambda_function", function_name="pci-platform-payment-apse1-dev")
    assert function["reserved_concurrent_executions"] == 2
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["environment"]["variables"]["DB_HOST"].startswith("${aws_db_proxy.")
    # The application user, never the master; IAM lets the role connect as that user or the clone
    # the alternating-users rotation makes of it, nobody else.
    assert function["environment"]["variables"]["DB_USER"] == "payments_app"
    policy = only(stack, "aws_iam_policy", name="pci-platform-payment-fn-apse1-dev")
    connect = statement(policy, "ConnectThroughProxy")
    assert connect["Action"] == "rds-db:connect"
    assert sorted(r.rsplit("/", 1)[1] for r in connect["Resource"]) == ["payments_app", "payments_app_clone"]
    assert len(function["vpc_config"]["subnet_ids"]) == 3
    assert all("network_vpc_workload_" in s for s in function["vpc_config"]["subnet_ids"])


@pytest.mark.requirement("SEC-4", "SEC-C8")
def test_event_bus_is_cmk_encrypted_and_routes_with_a_dead_letter_queue(stack: dict[str, Any]) -> None:
    (bus,) = resources(stack, "aws_cloudwatch_event_bus").values()
    assert bus["kms_key_identifier"].startswith("${aws_kms_key.keys_events_key_")
    targets = {n: t for n, t in resources(stack, "aws_cloudwatch_event_target").items() if n.startswith("events_")}
    assert len(targets) == 3
    assert all(
        t["dead_letter_config"]["arn"].startswith("${aws_sqs_queue.events_events_dlq_") for t in targets.values()
    )
    patterns = {
        r["name"]: json.loads(r["event_pattern"])
        for n, r in resources(stack, "aws_cloudwatch_event_rule").items()
        if n.startswith("events_")
    }
    assert patterns["pci-platform-payment-succeeded-apse1-dev"]["detail-type"] == ["payment.succeeded"]
    assert patterns["pci-platform-rds-failover-apse1-dev"]["detail"] == {"EventCategories": ["failover"]}


@pytest.mark.requirement("SEC-3")
def test_dns_failover_records_each_have_a_cloudwatch_alarm_health_check(stack: dict[str, Any]) -> None:
    (zone,) = resources(stack, "aws_route53_zone").values()
    assert zone["name"] == "pci.internal"
    assert zone["vpc"][0]["vpc_id"].startswith("${aws_vpc.")
    checks = resources(stack, "aws_route53_health_check")
    assert sorted(checks) == [
        n for n in sorted(checks) if n.startswith(("dns_primary_health_", "dns_secondary_health_"))
    ]
    assert len(checks) == 2
    for check in checks.values():
        assert check["type"] == "CLOUDWATCH_METRIC"
        # No standby configured: both records are the one load balancer, both follow its 5XX alarm.
        assert "observability_alb-5xx_alarm" in check["cloudwatch_alarm_name"]
        assert check["cloudwatch_alarm_region"] == "ap-southeast-1"
    records = {r["set_identifier"]: r for r in resources(stack, "aws_route53_record").values()}
    assert records["primary"]["failover_routing_policy"] == {"type": "PRIMARY"}
    assert records["secondary"]["failover_routing_policy"] == {"type": "SECONDARY"}
    referenced = {records[r]["health_check_id"].split(".")[1] for r in ("primary", "secondary")}
    assert referenced == set(checks)


@pytest.mark.requirement("SEC-11")
def test_parameters_are_secure_strings_with_the_parameters_key(stack: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in resources(stack, "aws_ssm_parameter").values()}
    assert sorted(parameters) == [
        "/pci-platform/dev/app/default-currency",
        "/pci-platform/dev/app/webhook-signing-key",
        "/pci-platform/dev/database/connection-string",
        "/pci-platform/dev/database/proxy-endpoint",
    ]
    assert all(
        p["type"] == "SecureString" and p["key_id"].startswith("${aws_kms_key.keys_parameters_key_")
        for p in parameters.values()
    )
    assert "password" not in parameters["/pci-platform/dev/database/connection-string"]["value"]


@pytest.mark.requirement("SEC-11")
def test_secret_settings_are_generated_at_deployment_never_written_in_configuration(
    stack: dict[str, Any], variant: dict[str, Any]
) -> None:
    parameters = {p["name"]: p for p in resources(stack, "aws_ssm_parameter").values()}
    generated = parameters["/pci-platform/dev/app/webhook-signing-key"]
    (name,) = stack["data"]["aws_secretsmanager_random_password"]
    assert generated["value"] == f"${{data.aws_secretsmanager_random_password.{name}.random_password}}"
    assert stack["data"]["aws_secretsmanager_random_password"][name]["password_length"] == 32  # config/dev.toml
    # Generated once: later plans read a new random value, which must not overwrite the stored one.
    assert generated["lifecycle"] == {"ignore_changes": ["value"]}
    # An existing parameter is read, not created: the payment role may read it.
    assert "/pci-platform/dev/app/partner-api-key" not in {
        p["name"] for p in resources(variant, "aws_ssm_parameter").values()
    }
    policy = only(variant, "aws_iam_policy", name="pci-platform-payment-fn-apse1-dev")
    readable = statement(policy, "ReadParameters")["Resource"]
    assert [r for r in readable if r.endswith(":parameter/ops/partner-api-key")] == [
        "arn:aws:ssm:ap-southeast-1:${data.aws_caller_identity.caller_identity.account_id}:parameter/ops/partner-api-key"
    ]


@pytest.mark.requirement("SEC-5")
@pytest.mark.parametrize(
    ("name", "metric", "threshold"),
    [
        ("batch-cpu", "CPUUtilization", 80),
        ("batch-memory", "mem_used_percent", 80),
        ("payment-queue-depth", "ApproximateNumberOfMessagesVisible", 100),
        ("failed-payments", "FailedPayments", 5),
    ],
)
def test_operational_alarms_go_to_the_ops_topic(stack: dict[str, Any], name: str, metric: str, threshold: int) -> None:
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"pci-platform-{name}-apse1-dev")
    assert (alarm["metric_name"], alarm["threshold"]) == (metric, threshold)
    assert alarm["alarm_actions"][0].startswith("${aws_sns_topic.events_ops_topic_")


@pytest.mark.requirement("SEC-5")
def test_saved_queries(stack: dict[str, Any]) -> None:
    names = sorted(q["name"] for q in resources(stack, "aws_cloudwatch_query_definition").values())
    assert names == [
        "pci-platform/dev/failed-payments",
        "pci-platform/dev/firewall-blocked-domains",
        "pci-platform/dev/rejected-flows",
        "pci-platform/dev/top-talkers",
    ]
