"""The remediation handler's main paths, run as the deployed function's role with IAM enforced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.testing.emulator import Deployment
from shared_constructs.regions import short_region

pytestmark = pytest.mark.emulator

PACKAGE_DIR = Path(__file__).resolve().parents[2]
HOME = "us-east-1"
CODE = short_region(HOME)
BUCKET = "security-baseline-it-remediation"
ACCOUNT = "123456789012"
"""The account dev.toml deploys into (moto's default)."""


@pytest.fixture(scope="module")
def function() -> str:
    outputs = json.loads((PACKAGE_DIR / "cfn-outputs" / "flat-outputs.json").read_text())
    return str(outputs[f"remediation_function_name_{CODE}"])


@pytest.fixture
def bucket(deployment: Deployment) -> Iterator[str]:
    """A bucket an operator created without a public access block or tags."""
    s3 = deployment.client("s3", HOME)
    s3.create_bucket(Bucket=BUCKET)
    try:
        yield BUCKET
    finally:
        s3.delete_bucket(Bucket=BUCKET)


def non_compliance(rule: str, resource_id: str) -> dict[str, Any]:
    """A Config compliance-change event as EventBridge delivers it."""
    return {
        "source": "aws.config",
        "detail-type": "Config Rules Compliance Change",
        "region": HOME,
        "account": ACCOUNT,
        "detail": {
            "awsAccountId": ACCOUNT,
            "configRuleName": rule,
            "resourceType": "AWS::S3::Bucket",
            "resourceId": resource_id,
            "awsRegion": HOME,
            "newEvaluationResult": {"complianceType": "NON_COMPLIANT"},
        },
    }


def test_blocks_public_access_as_its_role(deployment: Deployment, function: str, bucket: str) -> None:
    event = non_compliance(f"security-baseline-s3-public-access-{CODE}-dev", bucket)
    (result,) = deployment.run_handler(function, event, folder="remediation", region=HOME)["results"]
    assert result["status"] == "remediated", result
    block = deployment.client("s3", HOME).get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert len(block) == 4
    assert all(block.values())


def test_marks_missing_tags_as_its_role(deployment: Deployment, function: str, bucket: str) -> None:
    event = non_compliance(f"security-baseline-required-tags-{CODE}-dev", bucket)
    (result,) = deployment.run_handler(function, event, folder="remediation", region=HOME)["results"]
    # Owner, CostCenter, Environment and DataClassification are for a person: marked, never guessed.
    assert result["status"] == "not_remediable", result
    assert result.get("reported") is True, result.get("report_error")
    tags = {t["Key"]: t["Value"] for t in deployment.client("s3", HOME).get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {
        "ManagedBy": "manual",
        "App": "unassigned",
        "NeedsClassification": "CostCenter DataClassification Environment Owner",
    }


def test_reports_what_it_cannot_fix_as_its_role(deployment: Deployment, function: str, bucket: str) -> None:
    event = non_compliance(f"security-baseline-some-manual-rule-{CODE}-dev", bucket)
    (result,) = deployment.run_handler(function, event, folder="remediation", region=HOME)["results"]
    assert result["status"] == "not_remediable"
    assert result.get("reported") is True, result.get("report_error")
