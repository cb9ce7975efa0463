"""Old addresses computed the way CDKTF computes them, and the moved blocks that keep them."""

from __future__ import annotations

import hashlib

import pytest
from shared_constructs.cdk import Construct
from shared_constructs.moves import logical_id, moved_from


@pytest.mark.parametrize(
    "path",
    ["only", "side_flow_logs/group", "a/b/c-d", "network/network_vpc", "outer/Default/inner", "x/Resource"],
)
def test_logical_ids_are_the_ones_cdktf_gives(stack, synthesized, path):
    from cdktf_cdktf_provider_aws.sns_topic import SnsTopic

    scope: Construct = stack
    *parents, leaf = path.split("/")
    for part in parents:
        scope = Construct(scope, part)
    SnsTopic(scope, leaf, name="t")
    (name,) = synthesized(stack)["resource"]["aws_sns_topic"]
    assert logical_id(path) == name


def test_moved_from_writes_a_moved_block_from_the_old_address(stack, synthesized):
    from cdktf_cdktf_provider_aws.sns_topic import SnsTopic

    topic = SnsTopic(Construct(stack, "monitoring"), "topic", name="t")
    moved_from(topic, "monitoring/old_topic")
    digest = hashlib.md5(b"monitoring/old_topic", usedforsecurity=False).hexdigest()[:8].upper()
    (name,) = synthesized(stack)["resource"]["aws_sns_topic"]
    assert synthesized(stack)["moved"] == [
        {"from": f"aws_sns_topic.monitoring_old_topic_{digest}", "to": f"aws_sns_topic.{name}"}
    ]


def test_fails_on_an_empty_path():
    with pytest.raises(ValueError, match="expected a construct path"):
        logical_id("/")


def test_path_in_stack_leaves_the_stack_out(stack):
    from shared_constructs.moves import path_in_stack

    inner = Construct(Construct(stack, "side_flow_logs"), "logs")
    assert path_in_stack(inner) == "side_flow_logs/logs"
