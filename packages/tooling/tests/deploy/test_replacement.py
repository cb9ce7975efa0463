"""The replacement table names only attributes the pinned provider bindings have (read from the
bindings' source, without importing them: importing a hundred resource modules takes a minute)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from platform_tooling.deploy.affected import ResourceChange
from platform_tooling.deploy.replacement import REPLACES, forces_replacement

BINDINGS = Path(next(iter(importlib.util.find_spec("cdktf_cdktf_provider_aws").submodule_search_locations or [])))


def arguments(resource_type: str) -> set[str]:
    """The configuration arguments of ``resource_type``: its resource class's constructor keywords."""
    source = (BINDINGS / resource_type.removeprefix("aws_") / "__init__.py").read_text(encoding="utf-8")
    assert f"# `{resource_type}`\n" in source[:200], f"the bindings' module is not {resource_type}'s"
    found = re.search(r"^class \w+\(\s*_cdktf_\w+\.TerraformResource", source, re.M)
    assert found, f"no resource class in the bindings of {resource_type}"
    constructor = source[found.end() :].split("def __init__(", 1)[1].split(") -> None:", 1)[0]
    return set(re.findall(r"^\s+(\w+):", constructor, re.M))


def test_every_attribute_in_the_table_is_an_argument_of_its_resource():
    aws = {t: a for t, a in REPLACES.items() if t.startswith("aws_")}
    assert len(aws) > 50
    unknown = [f"{t}.{a}" for t, attributes in aws.items() for a in attributes if a not in arguments(t)]
    assert unknown == []


def test_fails_an_attribute_the_provider_does_not_have():
    assert {"bucket", "object_lock_enabled"} <= arguments("aws_s3_bucket")
    assert "no_such_argument" not in arguments("aws_s3_bucket")


@pytest.mark.parametrize(
    ("resource_type", "path", "replaces"),
    [
        ("aws_s3_bucket", "bucket", True),
        ("aws_s3_bucket", "tags.Owner", False),
        ("aws_dynamodb_table", "hash_key", True),
        ("aws_dynamodb_table", "attribute[0].name", False),
        ("aws_flow_log", "destination_options[0].file_format", True),
        ("aws_unknown_thing", "name", False),
    ],
)
def test_replacement_is_decided_by_the_top_level_attribute(resource_type: str, path: str, replaces: bool):
    assert forces_replacement(resource_type, path) is replaces


def test_a_change_lists_only_the_paths_that_replace():
    change = ResourceChange("aws_kms_key.k", "aws_kms_key", ["description", "multi_region"])
    assert change.replaces == ["multi_region"]
