"""PrivateVpc: created or adopted, in any account's provider, private unless one NAT gateway is asked for."""

from __future__ import annotations

import pytest
from platform_tooling.testing.query import only, resources, statements, where
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.network import AdoptedVpc, PrivateVpc, SubnetTier, VpcProps

TIERS = [SubnetTier(name="app", cidrs=["10.0.0.0/24", "10.0.1.0/24"])]


def vpc_props(stack, **changes):
    """Props of a VPC ``v`` of two subnets in stack ``t`` with flow logs to a log group."""
    from shared_constructs.kms import Key, KeyProps

    ctx = stack.context
    key = Key(stack, "k", KeyProps(context=stack.context, name="k", description="k", regional_name=False))
    group = EncryptedLogGroup(stack, "flows", LogGroupProps(context=stack.context, name="/t/flows", key=key))
    props = {
        "name": "v",
        "cidr": "10.0.0.0/16",
        "tiers": TIERS,
        "flow_log_group": group,
        **changes,
    }
    return VpcProps(context=ctx, **props)


def test_by_default_no_internet_path_and_endpoints_are_account_scoped(stack, synthesized):
    PrivateVpc(stack, "vpc", vpc_props(stack))
    document = synthesized(stack)
    for forbidden in ("aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route"):
        assert resources(document, forbidden) == {}
    assert all(s["map_public_ip_on_launch"] is False for s in resources(document, "aws_subnet").values())
    endpoints = resources(document, "aws_vpc_endpoint").values()
    assert sorted(e["service_name"] for e in endpoints) == [
        "com.amazonaws.us-east-1.dynamodb",
        "com.amazonaws.us-east-1.s3",
    ]
    for endpoint in endpoints:
        condition = statements(endpoint)[0]["Condition"]["StringEquals"]
        assert set(condition) == {"aws:PrincipalAccount", "aws:ResourceAccount"}
    flows = resources(document, "aws_flow_log").values()
    assert [(f["log_destination_type"], f["max_aggregation_interval"], f["traffic_type"]) for f in flows] == [
        ("cloud-watch-logs", 60, "ALL")
    ]


def test_s3_endpoint_reads_only_the_named_buckets_of_other_owners(stack, synthesized):
    PrivateVpc(stack, "vpc", vpc_props(stack, s3_read_buckets=("al2023-repos-us-east-1-de612dc2",)))
    endpoints = resources(synthesized(stack), "aws_vpc_endpoint").values()
    by_service = {e["service_name"].rsplit(".", 1)[1]: statements(e) for e in endpoints}
    assert [s["Sid"] for s in by_service["dynamodb"]] == ["OwnAccountOnly"]
    own, read = by_service["s3"]
    assert own["Sid"] == "OwnAccountOnly"
    assert (read["Action"], read["Resource"]) == ("s3:GetObject", "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/*")
    account = own["Condition"]["StringEquals"]["aws:PrincipalAccount"]
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalAccount": account}}


def test_reference_vpc_has_one_nat_gateway_in_one_public_subnet(reference):
    public = only(reference, "aws_subnet", cidr_block="10.20.255.0/24")
    assert (public["availability_zone"], public["map_public_ip_on_launch"], public["tags"]["Tier"]) == (
        "us-east-1a",
        False,
        "public",
    )
    (nat_name,) = resources(reference, "aws_nat_gateway")
    (igw_name,) = resources(reference, "aws_internet_gateway")
    defaults = where(reference, "aws_route", destination_cidr_block="0.0.0.0/0")
    assert sorted(r.get("nat_gateway_id", r.get("gateway_id")) for r in defaults) == [
        f"${{aws_internet_gateway.{igw_name}.id}}",
        f"${{aws_nat_gateway.{nat_name}.id}}",
        f"${{aws_nat_gateway.{nat_name}.id}}",
    ]
    assert len(resources(reference, "aws_route_table_association")) == 3


def test_reference_flow_logs_wait_for_the_bucket_policy(reference):
    to_s3 = only(reference, "aws_flow_log", log_destination_type="s3")
    assert to_s3["depends_on"] == ["aws_s3_bucket_policy.access_logs_policy_39F5B31E"]


def test_subnets_sit_in_named_zones_not_a_lookup(reference):
    subnets = [s for s in resources(reference, "aws_subnet").values() if s["tags"]["Tier"] == "app"]
    assert sorted(s["availability_zone"] for s in subnets) == ["us-east-1a", "us-east-1b"]
    assert "aws_availability_zones" not in reference.get("data", {})


def test_adopted_vpc_gets_flow_logs_and_endpoints_on_its_own_ids(stack, synthesized):
    adopt = AdoptedVpc(
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids={"app": ["subnet-01234567", "subnet-89abcdef"]},
        route_table_ids={"app": ["rtb-01234567", "rtb-89abcdef"]},
    )
    vpc = PrivateVpc(stack, "vpc", vpc_props(stack, adopt=adopt))
    assert (vpc.vpc_id, vpc.subnet_ids("app"), vpc.subnets) == (
        "vpc-0123456789abcdef0",
        ["subnet-01234567", "subnet-89abcdef"],
        {},
    )
    document = synthesized(stack)
    for created in ("aws_vpc", "aws_subnet", "aws_route_table", "aws_default_security_group"):
        assert resources(document, created) == {}
    assert {f["vpc_id"] for f in resources(document, "aws_flow_log").values()} == {"vpc-0123456789abcdef0"}
    assert {tuple(e["route_table_ids"]) for e in resources(document, "aws_vpc_endpoint").values()} == {
        ("rtb-01234567", "rtb-89abcdef")
    }


def test_vpc_in_another_account_uses_that_provider_and_account(stack, synthesized):
    other = stack.context_for(
        "us-east-2", account="analytics", assume_role_arn="arn:aws:iam::210987654321:role/d", account_id="210987654321"
    )
    group_key_props = vpc_props(stack)
    PrivateVpc(
        stack,
        "vpc",
        VpcProps(
            context=other,
            name="v",
            cidr="10.0.0.0/16",
            tiers=TIERS,
            flow_log_group=group_key_props.flow_log_group,
            nat_subnet="10.0.9.0/24",
        ),
    )
    document = synthesized(stack)
    vpc_resources = [
        config
        for type_, items in document["resource"].items()
        if type_ not in ("aws_kms_key", "aws_kms_alias", "aws_cloudwatch_log_group")
        for config in items.values()
    ]
    assert len(vpc_resources) > 10
    assert {r.get("provider") for r in vpc_resources} == {"aws.use2analytics"}
    trust = only(document, "aws_iam_role")["assume_role_policy"]
    assert '"aws:SourceAccount": "210987654321"' in trust
    endpoint = next(iter(resources(document, "aws_vpc_endpoint").values()))
    assert statements(endpoint)[0]["Condition"]["StringEquals"]["aws:PrincipalAccount"] == "210987654321"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nat_subnet": "10.1.0.0/24"}, "nat_subnet 10.1.0.0/24 must lie inside 10.0.0.0/16"),
        ({"nat_subnet": "10.0.0.0/25"}, "overlap no tier's subnet"),
        (
            {
                "adopt": AdoptedVpc(
                    vpc_id="vpc-1", subnet_ids={"app": ["s-1"]}, route_table_ids={"app": ["r-1", "r-2"]}
                ),
            },
            "adopt.subnet_ids of tier 'app' needs 2 ids",
        ),
        (
            {
                "adopt": AdoptedVpc(
                    vpc_id="vpc-1", subnet_ids={"app": ["a", "b"]}, route_table_ids={"app": ["c", "d"]}
                ),
                "nat_subnet": "10.0.9.0/24",
            },
            "an adopted VPC keeps its own egress",
        ),
        ({"flow_log_interval": 300}, "must be 60 or 600 seconds"),
    ],
)
def test_fails_on_vpc_props_that_cannot_work(stack, changes, message):
    with pytest.raises(ValueError, match=message):
        PrivateVpc(stack, "vpc", vpc_props(stack, **changes))


@pytest.mark.parametrize(
    ("zones", "message"),
    [(["us-east-1a"], "need 2 availability zones"), (["eu-west-1a", "eu-west-1b"], "need 2 availability zones")],
)
def test_fails_on_zones_that_do_not_fit(stack, zones, message):
    with pytest.raises(ValueError, match=message):
        vpc_props(stack, availability_zones=zones).zones()
