"""The packages that publish S3 buckets holding cardholder or confidential data, and where.

Each entry names the producer's stack contract and the list output of those buckets' ARNs. A
package that starts keeping such data in S3 publishes the ARNs through its contract and is added
here; security-baseline then logs the buckets' object-level events (``trail.data_events_from``).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_constructs.contracts import Output, StackContract, pci_platform


@dataclass(frozen=True)
class DataBuckets:
    """One producer: the stack that publishes the buckets and the output holding their ARNs."""

    stack: StackContract
    output: Output[list[str]]


DATA_PRODUCERS: dict[str, DataBuckets] = {
    pci_platform.PACKAGE: DataBuckets(pci_platform.stack(), pci_platform.DATA_BUCKET_ARNS),
}
"""Producer package -> where its data buckets are published."""
