from __future__ import annotations

import pytest
from shared_constructs.policy.suppress import suppress


class FakeResource:
    def __init__(self) -> None:
        self.overrides: dict[str, object] = {}

    def add_override(self, path: str, value: object) -> None:
        self.overrides[path] = value


@pytest.mark.parametrize(
    ("rule", "reason", "message"),
    [("KMS_ROTATION", "too short", "at least 10"), ("kms rotation", "a long enough reason", "rule id")],
)
def test_fails_without_a_rule_id_and_a_real_reason(rule, reason, message):
    with pytest.raises(ValueError, match=message):
        suppress(FakeResource(), rule, reason)  # type: ignore[arg-type]


def test_suppressions_accumulate_in_the_comment_block():
    resource = FakeResource()
    suppress(resource, "S3_ACCESS_LOGGING", "this is the log archive itself")  # type: ignore[arg-type]
    suppress(resource, "S3_CMK_ENCRYPTION", "AWS delivers these logs with SSE-S3 only")  # type: ignore[arg-type]
    assert [s["rule"] for s in resource.overrides["//.suppressions"]] == ["S3_ACCESS_LOGGING", "S3_CMK_ENCRYPTION"]


def test_declared_services_are_sorted_boto3_client_names():
    from shared_constructs.policy import declare_services, services_of

    resource = FakeResource()
    declare_services(resource, ["sqs", "events", "sqs"])  # type: ignore[arg-type]
    assert resource.overrides["//.services"] == ["events", "sqs"]
    assert services_of({"//": {"services": ["events", "sqs"]}}) == ["events", "sqs"]
    assert services_of({"//": {"metadata": {}}}) is None
    with pytest.raises(ValueError, match="boto3 client names"):
        declare_services(resource, ["Amazon SQS"])  # type: ignore[arg-type]
