"""Security Hub: enabled (or adopted) with FSBP 1.0.0, CIS 3.0.0 and PCI DSS 4.0.1 subscribed."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext

from security_baseline.settings import SecurityHubSettings, Settings

STANDARD_PATHS = {
    "aws-foundational-security-best-practices": "standards/aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark": "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "pci-dss": "standards/pci-dss/v/4.0.1",
}
"""Standard ARN paths (``arn:aws:securityhub:<region>::<path>``): the newest version of each that
Security Hub offers (PCI DSS v4.0.1; CIS AWS Foundations v3.0.0; FSBP v1.0.0)."""


def standard_arn(region: str, standard: str) -> str:
    """The ARN of ``standard`` in ``region``."""
    return f"arn:aws:securityhub:{region}::{STANDARD_PATHS[standard]}"


@dataclass(frozen=True, kw_only=True)
class SecurityHubProps:
    """Props of :class:`SecurityHub`."""

    context: AppContext[Settings]
    config: SecurityHubSettings


class SecurityHub(Construct):
    """``create``: the hub and its subscriptions; ``adopt``: subscriptions only; ``off``: nothing."""

    def __init__(self, scope: Construct, id: str, props: SecurityHubProps) -> None:
        super().__init__(scope, id)
        self.account: SecurityhubAccount | None = None
        self.subscriptions: dict[str, SecurityhubStandardsSubscription] = {}
        if props.config.mode == "off":
            return
        if props.config.mode == "create":
            # Default standards off: the subscriptions below are the whole, explicit set.
            self.account = SecurityhubAccount(
                self,
                "account",
                enable_default_standards=False,
                auto_enable_controls=True,
                control_finding_generator="SECURITY_CONTROL",
            )
        for standard in props.config.standards:
            self.subscriptions[standard] = SecurityhubStandardsSubscription(
                self,
                standard.replace("-", "_"),
                standards_arn=standard_arn(props.context.region, standard),
                depends_on=[self.account] if self.account is not None else None,
            )
