"""What security-baseline publishes: one stack per region, each with the region's topics and key.

Consumers (network-peering, pci-platform) read the security topic of their region to send their
alarms and security events where the security team listens. The topics' policies let CloudWatch
alarms and EventBridge rules of the account publish, and their key lets those services use it.
"""

from __future__ import annotations

from shared_constructs.contracts import StackContract, string_output

PACKAGE = "security-baseline"

SECURITY_TOPIC_ARN = string_output(
    "security_topic_arn", "KMS-encrypted SNS topic for security events (this stack's region)"
)
COMPLIANCE_TOPIC_ARN = string_output(
    "compliance_topic_arn", "KMS-encrypted SNS topic for compliance findings (this stack's region)"
)
SECURITY_KEY_ARN = string_output("security_key_arn", "Regional security KMS key (this stack's region)")
OUTPUTS = (SECURITY_TOPIC_ARN, COMPLIANCE_TOPIC_ARN, SECURITY_KEY_ARN)


def stack_name(region: str) -> str:
    """``security-baseline-<region>``."""
    return f"{PACKAGE}-{region}"


def stack(region: str) -> StackContract:
    """The baseline stack of ``region`` and what it publishes."""
    return StackContract(package=PACKAGE, stack=stack_name(region), outputs=OUTPUTS)
