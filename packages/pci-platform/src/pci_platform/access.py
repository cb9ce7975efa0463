"""Access control guardrails (PCI DSS 7.2): explicit denies attached to every role of the platform.

Allow statements stay in each role's own customer-managed policy (least privilege, built by the
``grant_*`` helpers). This module adds one more customer-managed policy, attached to every role,
whose statements are all explicit denies, so that no later allow can widen a role beyond them:

- ``DenyOutsideApprovedRegions``: every action when ``aws:RequestedRegion`` is not approved.
- ``DenyIamChanges``: the workload roles never change IAM.
- ``DenyNetworkEscape``: no internet or NAT gateway, no route or security-group change.
- ``DenyKeyTampering``: no disabling, deleting or re-policying keys.
- ``DenyStorageTampering``: no bucket-policy, encryption, public-access or logging change.

No inline policies exist anywhere (the shared ``LeastPrivilegeRole`` has none; a unit test checks
the synthesized stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.iam import LeastPrivilegeRole, Statement, policy_document
from shared_constructs.naming import Kind

from pci_platform.config import Settings

NETWORK_ESCAPE_ACTIONS = (
    "ec2:AttachInternetGateway",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateEgressOnlyInternetGateway",
    "ec2:CreateInternetGateway",
    "ec2:CreateNatGateway",
    "ec2:CreateRoute",
    "ec2:CreateVpcPeeringConnection",
    "ec2:ReplaceRoute",
    "network-firewall:DeleteFirewall",
    "network-firewall:UpdateFirewallPolicy",
    "network-firewall:UpdateRuleGroup",
)
KEY_TAMPERING_ACTIONS = (
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
)
STORAGE_TAMPERING_ACTIONS = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketLogging",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
)


def guardrail_statements(approved_regions: Sequence[str]) -> list[Statement]:
    """The explicit deny statements of the guardrail policy."""
    return [
        Statement(
            sid="DenyOutsideApprovedRegions",
            effect="Deny",
            actions=["*"],
            resources=["*"],
            conditions={"StringNotEquals": {"aws:RequestedRegion": sorted(approved_regions)}},
        ),
        Statement(sid="DenyIamChanges", effect="Deny", actions=["iam:*"], resources=["*"]),
        Statement(sid="DenyNetworkEscape", effect="Deny", actions=NETWORK_ESCAPE_ACTIONS, resources=["*"]),
        Statement(sid="DenyKeyTampering", effect="Deny", actions=KEY_TAMPERING_ACTIONS, resources=["*"]),
        Statement(sid="DenyStorageTampering", effect="Deny", actions=STORAGE_TAMPERING_ACTIONS, resources=["*"]),
    ]


@dataclass(frozen=True, kw_only=True)
class GuardrailsProps:
    """Props of :class:`Guardrails`; the approved regions come from ``settings.approved_regions``."""

    context: AppContext[Settings]


class Guardrails(Construct):
    """The deny-only guardrail policy and its attachments (``attach`` each role)."""

    def __init__(self, scope: Construct, id: str, props: GuardrailsProps) -> None:
        super().__init__(scope, id)
        ctx = props.context
        self.approved_regions = sorted(ctx.settings.approved_regions)
        self._provider = ctx.provider
        self.policy = IamPolicy(
            self,
            "policy",
            name=ctx.name(Kind.IAM_POLICY, "guardrails"),
            description="Explicit denies for every PCI platform role: regions, IAM, network, keys, storage",
            policy=policy_document(guardrail_statements(self.approved_regions)),
            provider=ctx.provider,
        )
        self.policy_arn = self.policy.arn
        self._attached: set[str] = set()

    def attach(self, role: LeastPrivilegeRole, label: str) -> None:
        """Attach the guardrails to ``role``; ``label`` names the attachment (a stable construct id)."""
        if label in self._attached:
            raise ValueError(f"guardrails already attached under label {label!r}")
        self._attached.add(label)
        IamRolePolicyAttachment(
            self, f"attach_{label}", role=role.role_name, policy_arn=self.policy_arn, provider=self._provider
        )
