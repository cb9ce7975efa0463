"""What pci-platform publishes: its one stack, with the buckets that hold cardholder data.

security-baseline reads ``data_bucket_arns`` to log the object-level (data) events of those
buckets in CloudTrail (PCI DSS 10.2), without copying a bucket name by hand.
"""

from __future__ import annotations

from shared_constructs.contracts import StackContract, list_output

PACKAGE = "pci-platform"
STACK = "pci-platform"

DATA_BUCKET_ARNS = list_output("data_bucket_arns", "ARNs of the S3 buckets that hold cardholder or confidential data")
OUTPUTS = (DATA_BUCKET_ARNS,)


def stack() -> StackContract:
    """The pci-platform stack and what it publishes."""
    return StackContract(package=PACKAGE, stack=STACK, outputs=OUTPUTS)
