"""What the PCI tag rule (AWS Config ``REQUIRED_TAGS``) evaluates: every taggable type the stack creates.

The scope is derived from the stack itself when it is complete (:func:`taggable_types`): each
Terraform resource type that takes tags maps to the Config resource types it creates
(:data:`CONFIG_TYPES`; a launch template also stands for the instances and volumes Auto Scaling
launches from it), or is listed in :data:`NOT_RECORDED` with the reason Config cannot evaluate it.
A new taggable type in neither table fails synthesis, so the rule cannot silently fall behind.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared_constructs.cdk import Construct, TerraformResource

CONFIG_TYPES: dict[str, tuple[str, ...]] = {
    "aws_autoscaling_group": ("AWS::AutoScaling::AutoScalingGroup",),
    "aws_cloudwatch_event_bus": ("AWS::Events::EventBus",),
    "aws_cloudwatch_event_rule": ("AWS::Events::Rule",),
    "aws_cloudwatch_log_group": ("AWS::Logs::LogGroup",),
    "aws_cloudwatch_metric_alarm": ("AWS::CloudWatch::Alarm",),
    "aws_config_config_rule": ("AWS::Config::ConfigRule",),
    "aws_db_subnet_group": ("AWS::RDS::DBSubnetGroup",),
    "aws_default_security_group": ("AWS::EC2::SecurityGroup",),
    "aws_flow_log": ("AWS::EC2::FlowLog",),
    "aws_iam_policy": ("AWS::IAM::Policy",),
    "aws_iam_role": ("AWS::IAM::Role",),
    "aws_kinesis_firehose_delivery_stream": ("AWS::KinesisFirehose::DeliveryStream",),
    "aws_kms_key": ("AWS::KMS::Key",),
    "aws_lambda_function": ("AWS::Lambda::Function",),
    "aws_launch_template": ("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance", "AWS::EC2::Volume"),
    "aws_lb": ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "aws_lb_listener": ("AWS::ElasticLoadBalancingV2::Listener",),
    "aws_networkfirewall_firewall": ("AWS::NetworkFirewall::Firewall",),
    "aws_networkfirewall_firewall_policy": ("AWS::NetworkFirewall::FirewallPolicy",),
    "aws_networkfirewall_rule_group": ("AWS::NetworkFirewall::RuleGroup",),
    "aws_rds_cluster": ("AWS::RDS::DBCluster",),
    "aws_rds_cluster_instance": ("AWS::RDS::DBInstance",),
    "aws_route53_health_check": ("AWS::Route53::HealthCheck",),
    "aws_route53_resolver_firewall_domain_list": ("AWS::Route53Resolver::FirewallDomainList",),
    "aws_route53_resolver_firewall_rule_group": ("AWS::Route53Resolver::FirewallRuleGroup",),
    "aws_route53_resolver_firewall_rule_group_association": ("AWS::Route53Resolver::FirewallRuleGroupAssociation",),
    "aws_route53_resolver_query_log_config": ("AWS::Route53Resolver::ResolverQueryLoggingConfig",),
    "aws_route53_zone": ("AWS::Route53::HostedZone",),
    "aws_route_table": ("AWS::EC2::RouteTable",),
    "aws_s3_bucket": ("AWS::S3::Bucket",),
    "aws_security_group": ("AWS::EC2::SecurityGroup",),
    "aws_sns_topic": ("AWS::SNS::Topic",),
    "aws_sqs_queue": ("AWS::SQS::Queue",),
    "aws_subnet": ("AWS::EC2::Subnet",),
    "aws_vpc": ("AWS::EC2::VPC",),
    "aws_vpc_endpoint": ("AWS::EC2::VPCEndpoint",),
    "aws_wafv2_web_acl": ("AWS::WAFv2::WebACL",),
}
"""Terraform resource type -> the AWS Config resource types of what it creates."""
NOT_RECORDED: dict[str, str] = {
    "aws_db_proxy": "no Config resource type for RDS Proxy",
    "aws_iam_instance_profile": "no Config resource type for instance profiles (the role is evaluated)",
    "aws_lb_listener_rule": "no Config resource type for listener rules (the listener is evaluated)",
    "aws_lb_target_group": "no Config resource type for target groups (the load balancer is evaluated)",
    "aws_rds_cluster_parameter_group": "no Config resource type for cluster parameter groups",
    "aws_ssm_parameter": "Config records no Parameter Store parameters",
    "aws_xray_sampling_rule": "no Config resource type for X-Ray sampling rules",
}
"""Taggable Terraform resource types the tag rule cannot evaluate, with the reason."""


def taggable_types(scope: Construct) -> set[str]:
    """The Terraform types under ``scope`` that take tags (``tags``, or an Auto Scaling group's ``tag`` blocks)."""
    return {
        child.terraform_resource_type
        for child in scope.node.find_all()
        if isinstance(child, TerraformResource) and (hasattr(child, "tags_input") or hasattr(child, "tag_input"))
    }


def config_scope(terraform_types: Iterable[str]) -> tuple[str, ...]:
    """The Config resource types of ``terraform_types``, sorted; fails on a type in neither table."""
    types = set(terraform_types)
    unknown = sorted(types - set(CONFIG_TYPES) - set(NOT_RECORDED))
    if unknown:
        raise ValueError(
            f"tag_scope: taggable resource types {', '.join(unknown)} are neither in CONFIG_TYPES nor in "
            "NOT_RECORDED (add their AWS Config types, or the reason Config cannot evaluate them)"
        )
    return tuple(sorted({config for t in types & set(CONFIG_TYPES) for config in CONFIG_TYPES[t]}))
