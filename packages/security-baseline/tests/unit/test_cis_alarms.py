"""CIS metric filters and alarms: the exact Security Hub patterns, one alarm each to the security topic."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref, resources

# Typed out here from the Security Hub "Amazon CloudWatch controls" page, independently of the source,
# so that an edit to a pattern in the package fails this test.
EXPECTED = {
    "root-usage": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType !="AwsServiceEvent"}',
    "unauthorized-api-calls": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "console-sign-in-without-mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
    '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "iam-policy-changes": "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
    "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || "
    "($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || "
    "($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || "
    "($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || "
    "($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
    "cloudtrail-changes": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
    "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    "console-auth-failures": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "cmk-disable-or-deletion": "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
    "($.eventName=ScheduleKeyDeletion))}",
    "s3-bucket-policy-changes": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || "
    "($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || "
    "($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
    "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    "config-changes": "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
    "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
    "($.eventName=PutConfigurationRecorder))}",
    "security-group-changes": "{($.eventName=AuthorizeSecurityGroupIngress) || "
    "($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || "
    "($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || "
    "($.eventName=DeleteSecurityGroup)}",
    "nacl-changes": "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || "
    "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) "
    "|| ($.eventName=ReplaceNetworkAclAssociation)}",
    "network-gateway-changes": "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
    "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
    "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    "route-table-changes": "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || "
    "($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || "
    "($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
    "vpc-changes": "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
    "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
    "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
    "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
    "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
}


@pytest.mark.requirement("PCI-7")
def test_fourteen_filters_and_alarms_in_the_home_region_only(stacks: dict[str, dict[str, Any]]) -> None:
    assert len(stacks) == 5
    # The platform account's home is us-east-1; the analytics account's, its only region us-east-2.
    homes = {"security-baseline-123456789012-us-east-1", "security-baseline-210987654321-us-east-2"}
    for name, stack in stacks.items():
        expected = 14 if name in homes else 0
        assert len(resources(stack, "aws_cloudwatch_log_metric_filter")) == expected, name
        # Besides the CIS alarms, every region alarms on the remediation dead-letter queue.
        alarms = [a for a in resources(stack, "aws_cloudwatch_metric_alarm").values() if a["namespace"] == "LogMetrics"]
        assert len(alarms) == expected, name


@pytest.mark.requirement("PCI-7")
@pytest.mark.parametrize("control", sorted(EXPECTED))
def test_filter_has_exact_cis_pattern(home: dict[str, Any], control: str) -> None:
    metric = f"security-baseline-{control}-dev"
    found = only(home, "aws_cloudwatch_log_metric_filter", name=metric)
    assert found["pattern"] == EXPECTED[control]
    trail_group = name_of(home, "aws_cloudwatch_log_group", name="/security-baseline/dev/cloudtrail")
    assert found["log_group_name"] == ref("aws_cloudwatch_log_group", trail_group, "name")
    assert found["metric_transformation"] == {"name": metric, "namespace": "LogMetrics", "value": "1"}


@pytest.mark.requirement("PCI-7")
@pytest.mark.parametrize("control", sorted(EXPECTED))
def test_alarm_watches_its_metric_and_notifies_security_topic(home: dict[str, Any], control: str) -> None:
    alarm = only(home, "aws_cloudwatch_metric_alarm", alarm_name=f"security-baseline-{control}-dev")
    topic = name_of(home, "aws_sns_topic", name="security-baseline-security-use1-dev")
    assert alarm["alarm_actions"] == [ref("aws_sns_topic", topic, "arn")]
    assert alarm["metric_name"] == f"security-baseline-{control}-dev"
    assert alarm["namespace"] == "LogMetrics"
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["statistic"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
        "Sum",
    )
    assert (alarm["period"], alarm["evaluation_periods"], alarm["treat_missing_data"]) == (300, 1, "notBreaching")
