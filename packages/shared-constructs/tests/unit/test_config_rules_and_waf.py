"""Config managed rules and the web ACL."""

from __future__ import annotations

import pytest
from platform_tooling.testing.query import only, resources
from shared_constructs.config_rules import ConfigRule, ConfigRuleProps, CustomRule, ManagedRule
from shared_constructs.policy.declare import rule_identifier_of
from shared_constructs.waf import WafLogBucket, WebAcl, WebAclProps, block, managed_rule_group, rate_limit


def test_reference_rule_is_named_and_unscoped(reference):
    rule = only(reference, "aws_config_config_rule")
    assert rule["name"] == "ref-flow-logs-use1-dev"
    assert rule["source"] == {"owner": "AWS", "source_identifier": "VPC_FLOW_LOGS_ENABLED"}
    assert "scope" not in rule
    assert "input_parameters" not in rule


def test_rule_parameters_keep_their_order_and_scope_narrows_to_one_resource(stack, synthesized):
    rule = ManagedRule(
        name="sg-ports",
        identifier="VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS",
        description="d",
        parameters={"tag1Key": "Owner", "tag2Key": "App", "tag1Value": "team"},
        resource_types=("AWS::EC2::SecurityGroup",),
        resource_id="sg-0123",
    )
    ConfigRule(stack, rule.construct_id, ConfigRuleProps(context=stack.context, rule=rule))
    ((name, found),) = resources(synthesized(stack), "aws_config_config_rule").items()
    assert name == "sg_ports"
    assert found["input_parameters"] == '{"tag1Key": "Owner", "tag2Key": "App", "tag1Value": "team"}'
    assert found["scope"] == {
        "compliance_resource_types": ["AWS::EC2::SecurityGroup"],
        "compliance_resource_id": "sg-0123",
    }


def test_custom_rule_runs_the_function_on_change_and_periodically(stack, synthesized):
    rule = CustomRule(
        name="sg-peer",
        identifier="SG_PEER_PORTS",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        description="d",
        parameters={"peerCidrs": "10.1.0.0/20"},
        resource_types=("AWS::EC2::SecurityGroup",),
        periodic="Six_Hours",
    )
    construct = ConfigRule(stack, rule.construct_id, ConfigRuleProps(context=stack.context, rule=rule))
    found = only(synthesized(stack), "aws_config_config_rule")
    assert found["name"] == "t-sg-peer-use1-dev"
    assert found["source"] == {
        "owner": "CUSTOM_LAMBDA",
        "source_identifier": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "source_detail": [
            {"event_source": "aws.config", "message_type": "ConfigurationItemChangeNotification"},
            {"event_source": "aws.config", "message_type": "OversizedConfigurationItemChangeNotification"},
            {
                "event_source": "aws.config",
                "message_type": "ScheduledNotification",
                "maximum_execution_frequency": "Six_Hours",
            },
        ],
    }
    assert found["input_parameters"] == '{"peerCidrs": "10.1.0.0/20"}'
    assert found["scope"] == {"compliance_resource_types": ["AWS::EC2::SecurityGroup"]}
    # Testing.synth drops "//" blocks; the construct's own Terraform has them.
    (raw,) = construct.to_terraform()["resource"]["aws_config_config_rule"].values()
    assert rule_identifier_of(raw) == "SG_PEER_PORTS"


def test_change_only_custom_rule_has_no_schedule(stack, synthesized):
    rule = CustomRule(
        name="c",
        identifier="C",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        description="d",
        periodic=None,
    )
    ConfigRule(stack, rule.construct_id, ConfigRuleProps(context=stack.context, rule=rule))
    details = only(synthesized(stack), "aws_config_config_rule")["source"]["source_detail"]
    assert [d["message_type"] for d in details] == [
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
    ]


@pytest.mark.parametrize(
    ("on_change", "periodic", "message"),
    [
        (False, None, r"custom rule c: expected on_change or periodic, got neither"),
        (True, "Daily", r"custom rule c: periodic: got 'Daily'; expected one of"),
    ],
    ids=["no-trigger", "bad-frequency"],
)
def test_fails_custom_rule_without_a_valid_trigger(on_change, periodic, message):
    with pytest.raises(ValueError, match=message):
        CustomRule(
            name="c", identifier="C", function_arn="arn", description="d", on_change=on_change, periodic=periodic
        )


@pytest.mark.parametrize("identifier", ["", "sg-ports", "Sg_Ports", "1_RULE"])
def test_fails_custom_rule_without_an_upper_snake_identifier(identifier):
    with pytest.raises(ValueError, match=r"custom rule c: identifier: got .*; expected upper snake case"):
        CustomRule(name="c", identifier=identifier, function_arn="arn", description="d")


def test_reference_acl_allows_by_default_and_logs_blocked_requests_to_an_encrypted_group(reference):
    acl = only(reference, "aws_wafv2_web_acl")
    assert (acl["name"], acl["scope"], acl["default_action"]) == ("ref-edge-use1-dev", "REGIONAL", {"allow": {}})
    assert [r["name"] for r in acl["rule"]] == ["common", "known-bad-inputs", "per-ip"]
    assert acl["rule"][2]["statement"] == {"rate_based_statement": {"limit": 1000, "aggregate_key_type": "IP"}}
    logging = only(reference, "aws_wafv2_web_acl_logging_configuration")
    group = only(reference, "aws_cloudwatch_log_group", name="aws-waf-logs-ref-edge-use1-dev")
    assert group["kms_key_id"] == "${aws_kms_key.key_F64E54E4.arn}"
    assert logging["log_destination_configs"] == ["${aws_cloudwatch_log_group.waf_logs_group_70202871.arn}"]
    assert logging["logging_filter"]["default_behavior"] == "DROP"
    assert resources(reference, "aws_wafv2_web_acl_association") == {}


def test_acl_logging_to_s3_protects_what_it_is_given(stack, synthesized):
    from shared_constructs.kms import Key, KeyProps
    from shared_constructs.storage import access_log_bucket

    ctx = stack.context
    key = Key(stack, "k", KeyProps(context=stack.context, name="k", description="k", regional_name=False))
    logs = access_log_bucket(stack, "access", ctx)
    WebAcl(
        stack,
        "waf",
        WebAclProps(
            context=ctx,
            name="payments",
            description="d",
            rules=[
                block("geo", 0, {"geo_match_statement": {"country_codes": ["KP"]}}, metric="geo"),
                rate_limit("rate", 1, 500, metric="rate", window_s=300),
                managed_rule_group("bad", 2, "AWSManagedRulesKnownBadInputsRuleSet", metric="bad", count=("Log4JRCE",)),
            ],
            key=key,
            resource_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/1",
            log_bucket=WafLogBucket(access_log_bucket=logs, glacier_days=90),
        ),
    )
    document = synthesized(stack)
    bucket = only(document, "aws_s3_bucket", bucket="aws-waf-logs-t-payments-use1-dev")
    assert bucket["force_destroy"] is True
    association = only(document, "aws_wafv2_web_acl_association")
    assert association["resource_arn"].endswith("loadbalancer/app/a/1")
    rules = only(document, "aws_wafv2_web_acl")["rule"]
    assert rules[1]["statement"]["rate_based_statement"]["evaluation_window_sec"] == 300
    assert rules[2]["statement"]["managed_rule_group_statement"]["rule_action_override"] == [
        {"name": "Log4JRCE", "action_to_use": {"count": {}}}
    ]
    logging = only(document, "aws_wafv2_web_acl_logging_configuration")
    assert "logging_filter" not in logging
    lifecycle = next(
        r for r in resources(document, "aws_s3_bucket_lifecycle_configuration").values() if "waf" in r["bucket"]
    )
    assert lifecycle["rule"][0]["transition"] == [{"days": 90, "storage_class": "GLACIER"}]


@pytest.mark.parametrize("priorities", [(), (1, 1)])
def test_fails_on_an_acl_without_rules_or_with_one_priority_twice(stack, priorities):
    from shared_constructs.kms import Key, KeyProps

    ctx = stack.context
    key = Key(stack, "k", KeyProps(context=stack.context, name="k", description="k", regional_name=False))
    rules = [rate_limit(f"r{i}", p, 100, metric=f"r{i}") for i, p in enumerate(priorities)]
    with pytest.raises(ValueError, match="needs rules with distinct priorities"):
        WebAcl(stack, "waf", WebAclProps(context=ctx, name="w", description="d", rules=rules, key=key))
