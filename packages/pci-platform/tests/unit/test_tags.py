"""Required tags where the provider's default tags do not reach, and a tag rule that covers every taggable type."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest
from pci_platform.tag_scope import CONFIG_TYPES, NOT_RECORDED, config_scope
from platform_tooling.testing.query import only, resources

REQUIRED = ("Environment", "CostCenter", "Owner", "DataClassification", "ManagedBy", "App", "Region")


def default_tags(stack: dict[str, Any]) -> dict[str, str]:
    (provider,) = stack["provider"]["aws"]
    return provider["default_tags"][0]["tags"]  # type: ignore[no-any-return]


def takes_tags(type_: str) -> bool:
    """Whether the provider's resource type takes tags (the generated class has ``tags`` or ``tag``)."""
    module = importlib.import_module(f"cdktf_cdktf_provider_aws.{type_.removeprefix('aws_')}")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass) if getattr(c, "TF_RESOURCE_TYPE", "") == type_]
    return hasattr(cls, "tags_input") or hasattr(cls, "tag_input")


@pytest.mark.requirement("PCI-C4")
def test_instances_and_volumes_carry_the_required_tags_from_the_launch_template(stack: dict[str, Any]) -> None:
    (template,) = resources(stack, "aws_launch_template").values()
    specifications = {s["resource_type"]: s["tags"] for s in template["tag_specifications"]}
    assert sorted(specifications) == ["instance", "volume"]
    expected = {k: default_tags(stack)[k] for k in REQUIRED}
    for tags in specifications.values():
        assert {k: tags[k] for k in REQUIRED} == expected
        assert tags["DataClassification"] == "cardholder"
        assert tags["Name"] == "pci-platform-batch-apse1-dev"


def test_the_auto_scaling_group_carries_the_required_tags_itself(stack: dict[str, Any]) -> None:
    (group,) = resources(stack, "aws_autoscaling_group").values()
    tags = {t["key"]: (t["value"], t["propagate_at_launch"]) for t in group["tag"]}
    assert {k: tags[k][0] for k in REQUIRED} == {k: default_tags(stack)[k] for k in REQUIRED}
    # The launch template tags what is launched, volumes included (group tags never reach volumes).
    assert all(propagate is False for _, propagate in tags.values())


@pytest.mark.requirement("PCI-8", "PCI-C4")
def test_the_tag_rule_covers_every_taggable_type_the_stack_creates(stack: dict[str, Any]) -> None:
    rule = only(stack, "aws_config_config_rule", name="pci-platform-pci-tags-apse1-dev")
    scope = set(rule["scope"]["compliance_resource_types"])
    taggable = [t for t in stack["resource"] if takes_tags(t)]
    assert len(taggable) > 30
    assert [t for t in taggable if t not in CONFIG_TYPES and t not in NOT_RECORDED] == []
    for type_ in taggable:
        assert set(CONFIG_TYPES.get(type_, ())) <= scope, type_
    # What issue 14 found missing, by hand: instances, volumes, the database, keys.
    assert {
        "AWS::EC2::Instance",
        "AWS::EC2::Volume",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::KMS::Key",
        "AWS::AutoScaling::AutoScalingGroup",
    } <= scope


def test_the_tag_rule_accepts_each_classification_a_key_carries(stack: dict[str, Any]) -> None:
    rule = only(stack, "aws_config_config_rule", name="pci-platform-pci-tags-apse1-dev")
    parameters = json.loads(rule["input_parameters"])
    assert parameters["tag1Key"] == "DataClassification"
    assert parameters["tag1Value"] == "cardholder,confidential,internal,restricted"
    classes = {k["tags"]["DataClassification"] for k in resources(stack, "aws_kms_key").values()}
    assert classes <= set(parameters["tag1Value"].split(","))


def test_a_taggable_type_in_neither_table_fails_synthesis() -> None:
    assert config_scope(["aws_kms_key", "aws_ssm_parameter"]) == ("AWS::KMS::Key",)
    with pytest.raises(ValueError, match="aws_dynamodb_table are neither in CONFIG_TYPES nor in NOT_RECORDED"):
        config_scope(["aws_kms_key", "aws_dynamodb_table"])
