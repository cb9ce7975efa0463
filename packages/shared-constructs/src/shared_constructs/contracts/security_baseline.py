"""What security-baseline publishes: one stack per account and region, each with its topics and key.

Consumers (network-peering, pci-platform) read the security topic of their account and region to
send their alarms and security events where the security team listens. The topics' policies let CloudWatch
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


def stack_name(region: str, account_id: str) -> str:
    """``security-baseline-<account id>-<region>``: the account is in the name, and so in the state key."""
    return f"{PACKAGE}-{account_id}-{region}"


def stack(region: str, account_id: str) -> StackContract:
    """The baseline stack of account ``account_id`` in ``region`` and what it publishes."""
    return StackContract(package=PACKAGE, stack=stack_name(region, account_id), outputs=OUTPUTS)
