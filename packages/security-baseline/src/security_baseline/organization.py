"""Organizations mode: delegated administration of GuardDuty and Security Hub, member auto-enable,
the Config aggregator and Security Hub's cross-region finding aggregation.

The management account designates the delegated administrator in each region
(:class:`OrganizationDelegation`, in the management account's stacks); the delegated administrator
then turns GuardDuty and Security Hub on for the members and aggregates
(:class:`OrganizationAdministration`, in its stacks, which depend on the management account's stack of
the same region). The organization trail is the management account's trail
(:class:`security_baseline.trail.AccountTrail` with ``organization_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.config_configuration_aggregator import (
    ConfigConfigurationAggregator,
    ConfigConfigurationAggregatorOrganizationAggregationSource,
)
from cdktf_cdktf_provider_aws.guardduty_organization_admin_account import GuarddutyOrganizationAdminAccount
from cdktf_cdktf_provider_aws.guardduty_organization_configuration import GuarddutyOrganizationConfiguration
from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_finding_aggregator import SecurityhubFindingAggregator
from cdktf_cdktf_provider_aws.securityhub_organization_admin_account import SecurityhubOrganizationAdminAccount
from cdktf_cdktf_provider_aws.securityhub_organization_configuration import SecurityhubOrganizationConfiguration
from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, RoleProps, assume_role_policy
from shared_constructs.naming import Kind

from security_baseline.settings import Settings

AGGREGATOR_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
"""What the Config aggregator's role needs to list the organization's accounts (AWS-managed)."""


@dataclass(frozen=True, kw_only=True)
class DelegationProps:
    """Props of :class:`OrganizationDelegation`. ``admin_account_id``: the delegated administrator.
    ``hub``: the management account's own hub in this region, enabled before delegating. Default: none
    (Security Hub adopted or off here)."""

    context: AppContext[Settings]
    admin_account_id: str
    hub: SecurityhubAccount | None = None


class OrganizationDelegation(Construct):
    """In the management account, one region: GuardDuty and Security Hub administration delegated."""

    def __init__(self, scope: Construct, id: str, props: DelegationProps) -> None:
        super().__init__(scope, id)
        self.guardduty = GuarddutyOrganizationAdminAccount(self, "guardduty", admin_account_id=props.admin_account_id)
        self.security_hub = SecurityhubOrganizationAdminAccount(
            self,
            "security_hub",
            admin_account_id=props.admin_account_id,
            # Security Hub delegates only from a management account that has it enabled.
            depends_on=[props.hub] if props.hub is not None else None,
        )


@dataclass(frozen=True, kw_only=True)
class AdministrationProps:
    """Props of :class:`OrganizationAdministration`.

    ``detector_id``: the delegated administrator's detector in this region. ``hub``: its hub here
    (Default: none, Security Hub adopted). ``home``: the account's home region, which also gets the
    aggregators. ``linked_regions``: the other regions whose findings the home region aggregates.
    ``recorder_ready``: what the Config aggregator waits for. Default: nothing.
    """

    context: AppContext[Settings]
    detector_id: str
    auto_enable: str
    hub: SecurityhubAccount | None = None
    home: bool = False
    linked_regions: Sequence[str] = ()
    recorder_ready: Sequence[ITerraformDependable] = ()


class OrganizationAdministration(Construct):
    """In the delegated administrator account, one region: members' GuardDuty and Security Hub turned
    on; at home also the organization's Config aggregator and Security Hub's finding aggregator."""

    def __init__(self, scope: Construct, id: str, props: AdministrationProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        hub = [props.hub] if props.hub is not None else None
        self.guardduty = GuarddutyOrganizationConfiguration(
            self,
            "guardduty",
            detector_id=props.detector_id,
            auto_enable_organization_members=props.auto_enable,
        )
        self.security_hub = SecurityhubOrganizationConfiguration(
            self, "security_hub", auto_enable=True, auto_enable_standards="NONE", depends_on=hub
        )
        self.finding_aggregator: SecurityhubFindingAggregator | None = None
        self.config_aggregator: ConfigConfigurationAggregator | None = None
        if not props.home:
            return
        if props.linked_regions:
            self.finding_aggregator = SecurityhubFindingAggregator(
                self,
                "finding_aggregator",
                linking_mode="SPECIFIED_REGIONS",
                specified_regions=list(props.linked_regions),
                depends_on=hub,
            )
        self.aggregator_role = LeastPrivilegeRole(
            self,
            "aggregator_role",
            RoleProps(
                context=ctx,
                name="config-aggregator",
                description="Lets AWS Config list the organization's accounts for the aggregator",
                trust_policy=assume_role_policy(
                    services=["config.amazonaws.com"], conditions={"StringEquals": {"aws:SourceAccount": ctx.account}}
                ),
                managed_policy_arns=[AGGREGATOR_POLICY_ARN],
                regional_name=False,
            ),
        )
        self.config_aggregator = ConfigConfigurationAggregator(
            self,
            "config_aggregator",
            name=ctx.name(Kind.GENERIC, "organization", regional=False),
            organization_aggregation_source=ConfigConfigurationAggregatorOrganizationAggregationSource(
                all_regions=True, role_arn=self.aggregator_role.role_arn
            ),
            depends_on=[*self.aggregator_role.attachments, *props.recorder_ready],
        )
