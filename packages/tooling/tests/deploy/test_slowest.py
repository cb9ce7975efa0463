"""Where a Terraform call waited: its slowest resources, read from Terraform's own output."""

from __future__ import annotations

import json

from platform_tooling.deploy.terraform import slowest


def test_the_slowest_resources_come_from_plain_and_json_output_slowest_first() -> None:
    lines = [
        "aws_kms_key.logs: Creating...",
        "aws_kms_key.logs: Creation complete after 1m2s [id=1234]",
        json.dumps({"@message": "aws_rds_cluster.db: Destruction complete after 1h0m31s", "type": "apply_complete"}),
        'module.a["x"].aws_s3_bucket.b: Modifications complete after 3s [id=b]',
        '{"Version": "2012-10-17"} is not a -json line',
        "aws_sqs_queue.q: Still creating... [10s elapsed]",
    ]
    assert slowest("\n".join(lines)) == (
        ("aws_rds_cluster.db", 3631.0),
        ("aws_kms_key.logs", 62.0),
        ('module.a["x"].aws_s3_bucket.b', 3.0),
    )
    assert len(slowest("\n".join(f"aws_x.r{i}: Creation complete after {i}s" for i in range(9)))) == 5
