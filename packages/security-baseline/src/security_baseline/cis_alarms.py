"""CIS AWS Foundations Benchmark metric filters and alarms (Security Hub CloudWatch.1 - CloudWatch.14).

The patterns are copied exactly from the Security Hub controls documentation ("Amazon CloudWatch
controls"): Security Hub fails a control when any field or term is added to, or removed from,
the prescribed pattern, so they are data here, not something to rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.logging import EncryptedLogGroup
from shared_constructs.messaging import EncryptedTopic
from shared_constructs.monitoring import Alarm, AlarmProps, MetricFilter, MetricFilterProps
from shared_constructs.naming import Kind

from security_baseline.settings import Settings

NAMESPACE = "LogMetrics"
"""The namespace the Security Hub remediation steps use for every CIS metric."""


@dataclass(frozen=True)
class CisControl:
    """One control: Security Hub id, our short name, the exact filter pattern, what it watches."""

    control: str
    name: str
    pattern: str
    description: str


CIS_CONTROLS: tuple[CisControl, ...] = (
    CisControl(
        "CloudWatch.1",
        "root-usage",
        '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
        "Usage of the root user",
    ),
    CisControl(
        "CloudWatch.2",
        "unauthorized-api-calls",
        '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
        "Unauthorized API calls",
    ),
    CisControl(
        "CloudWatch.3",
        "console-sign-in-without-mfa",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "Management Console sign-in without MFA",
    ),
    CisControl(
        "CloudWatch.4",
        "iam-policy-changes",
        "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || "
        "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
        "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
        "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
        "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
        "($.eventName=DetachGroupPolicy)}",
        "IAM policy changes",
    ),
    CisControl(
        "CloudWatch.5",
        "cloudtrail-changes",
        "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
        "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
        "CloudTrail configuration changes",
    ),
    CisControl(
        "CloudWatch.6",
        "console-auth-failures",
        '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
        "Management Console authentication failures",
    ),
    CisControl(
        "CloudWatch.7",
        "cmk-disable-or-deletion",
        "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
        "Disabling or scheduled deletion of customer managed keys",
    ),
    CisControl(
        "CloudWatch.8",
        "s3-bucket-policy-changes",
        "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
        "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
        "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || "
        "($.eventName=DeleteBucketReplication))}",
        "S3 bucket policy changes",
    ),
    CisControl(
        "CloudWatch.9",
        "config-changes",
        "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
        "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
        "($.eventName=PutConfigurationRecorder))}",
        "AWS Config configuration changes",
    ),
    CisControl(
        "CloudWatch.10",
        "security-group-changes",
        "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
        "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
        "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
        "Security group changes",
    ),
    CisControl(
        "CloudWatch.11",
        "nacl-changes",
        "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || "
        "($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
        "($.eventName=ReplaceNetworkAclAssociation)}",
        "Network ACL changes",
    ),
    CisControl(
        "CloudWatch.12",
        "network-gateway-changes",
        "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
        "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
        "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
        "Network gateway changes",
    ),
    CisControl(
        "CloudWatch.13",
        "route-table-changes",
        "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
        "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
        "($.eventName=DisassociateRouteTable)}",
        "Route table changes",
    ),
    CisControl(
        "CloudWatch.14",
        "vpc-changes",
        "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
        "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
        "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
        "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
        "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
        "VPC changes",
    ),
)


@dataclass(frozen=True, kw_only=True)
class CisAlarmsProps:
    """Props of :class:`CisAlarms`. ``period_s``: evaluation period of every alarm (Default 300)."""

    context: AppContext[Settings]
    log_group: EncryptedLogGroup | str
    """The trail's log group, or the name of an adopted trail's group."""
    topic: EncryptedTopic
    period_s: int = 300


class CisAlarms(Construct):
    """A metric filter on the trail's log group and an alarm to the security topic per CIS control.

    The trail covers every region, so the filters and alarms exist once per account: their names
    carry no region.
    """

    def __init__(self, scope: Construct, id: str, props: CisAlarmsProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.alarms: dict[str, Alarm] = {}
        self.filters: dict[str, MetricFilter] = {}
        for control in CIS_CONTROLS:
            tf_id = control.name.replace("-", "_")
            # The metric name carries the suffix so two environments in one account never share a metric.
            metric = ctx.name(Kind.GENERIC, control.name, regional=False)
            found = MetricFilter(
                self,
                f"{tf_id}_filter",
                MetricFilterProps(
                    context=ctx,
                    name=control.name,
                    log_group=props.log_group,
                    pattern=control.pattern,
                    metric_name=metric,
                    namespace=NAMESPACE,
                    regional_name=False,
                ),
            )
            self.filters[control.control] = found
            self.alarms[control.control] = Alarm(
                self,
                f"{tf_id}_alarm",
                AlarmProps(
                    context=ctx,
                    name=control.name,
                    description=f"{control.control} (CIS): {control.description}",
                    watch=found.metric(period_s=props.period_s),
                    threshold=1,
                    actions=[props.topic.topic_arn],
                    notify_ok=False,
                    regional_name=False,
                    depends_on=[found],
                ),
            )
