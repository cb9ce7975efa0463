"""The runbook step for each AWS Config rule security-baseline deploys: what a person does when the
remediation function reports a finding it cannot (or may not) fix.

Keys are the rules' short names (``ManagedRule.name`` in ``security_baseline.config_rules``); the
deployed names are ``security-baseline-<name>-<region code>-<suffix>``. A test checks that every
rule the package deploys has its step here.
"""

from __future__ import annotations

RUNBOOK = {
    "encrypted-volumes": "Snapshot the volume, copy the snapshot encrypted with the platform KMS key, "
    "swap in a volume made from it in a maintenance window; turn on EBS encryption by default in the region.",
    "rds-storage-encrypted": "Storage encryption cannot be turned on in place: snapshot the database, copy "
    "the snapshot encrypted with a customer-managed key, restore from the copy and cut over.",
    "vpc-flow-logs": "Turn on flow logs for the VPC (all traffic, 60 s aggregation) in the stack that owns "
    "the VPC; if no stack owns it, find its creator in CloudTrail (CreateVpc).",
    "required-tags": "Ask the resource's owner (CloudTrail shows its creator) for Owner, CostCenter, "
    "Environment and DataClassification, set them in the owning stack, then remove the NeedsClassification tag.",
    "s3-ssl-only": "Add a bucket policy statement denying every request with aws:SecureTransport false "
    "(the secure bucket construct of shared-constructs does this) in the bucket's owning stack.",
    "s3-encryption": "Set default encryption (SSE-KMS, customer-managed key) on the bucket in its owning "
    "stack; copy existing objects in place to re-encrypt them if they may hold sensitive data.",
    "s3-public-access": "Turn on the four public access block settings of the bucket and find who turned "
    "them off in CloudTrail (PutBucketPublicAccessBlock, DeleteBucketPublicAccessBlock).",
    "log-groups-encrypted": "Associate a customer-managed KMS key with the log group in its owning stack; "
    "the key policy must allow logs.<region>.amazonaws.com for that log group.",
    "kms-not-pending-deletion": "Find who scheduled the deletion in CloudTrail (ScheduleKeyDeletion); if "
    "the key still protects data, cancel the deletion and re-enable the key before the waiting period ends.",
    "peering-dns-resolution": "Turn on private DNS resolution on both sides of the peering connection "
    "(requester and accepter options) in network-peering's stack.",
}
"""Runbook step for each Config rule security-baseline deploys, by the rule's short name."""
NO_RUNBOOK = (
    "No runbook entry for this rule: find the package that deploys it from the rule name and follow its README."
)
