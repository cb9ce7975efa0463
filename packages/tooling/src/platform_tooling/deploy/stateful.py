"""Resource types whose replacement or destruction loses data: the one list the plan summaries use.

A plan that replaces or destroys one of these is called out before anything else in a summary.
Each entry says what is lost, so a reviewer knows what to look for. The list covers what the
platform deploys and the usual data stores besides; a type not listed is replaced without loss
(its configuration is all there is to it) or carries nothing the platform keeps.
"""

from __future__ import annotations

STATEFUL: dict[str, str] = {
    "aws_s3_bucket": "every object and version in the bucket",
    "aws_s3_object": "the object's content as stored",
    "aws_dynamodb_table": "every item in the table",
    "aws_dynamodb_table_replica": "the replica's items in that region",
    "aws_kms_key": "everything encrypted under the key becomes unreadable once it is deleted",
    "aws_kms_replica_key": "data encrypted under the replica in its region",
    "aws_rds_cluster": "the database (a final snapshot only if configured)",
    "aws_rds_cluster_instance": "the instance's local state; a writer replacement fails over the cluster",
    "aws_db_instance": "the database (a final snapshot only if configured)",
    "aws_docdb_cluster": "the database",
    "aws_neptune_cluster": "the database",
    "aws_redshift_cluster": "the warehouse's data",
    "aws_elasticache_replication_group": "the cache's data",
    "aws_opensearch_domain": "every index in the domain",
    "aws_efs_file_system": "every file on the file system",
    "aws_ebs_volume": "the volume's blocks",
    "aws_backup_vault": "every recovery point in the vault",
    "aws_cloudwatch_log_group": "the log events kept in the group",
    "aws_secretsmanager_secret": "every version of the secret (after its recovery window)",
    "aws_ssm_parameter": "the parameter's value and history",
    "aws_sqs_queue": "messages waiting in the queue",
    "aws_kinesis_stream": "records within the retention period",
    "aws_msk_cluster": "every topic's records",
    "aws_cloudtrail": "nothing stored, but the audit trail stops until it is recreated",
    "aws_route53_zone": "the zone's records and its name servers (delegations must be updated)",
}
"""Resource type -> what a replacement or destroy loses."""


def loses(resource_type: str) -> str | None:
    """What replacing or destroying a resource of ``resource_type`` loses, or ``None``."""
    return STATEFUL.get(resource_type)
