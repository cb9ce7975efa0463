"""Integration tests on the emulator: the deployed wiring of the payment path (stream mapping,
failover rule, buses, topics, buckets, replication, DNS). The payment itself runs through the
deployed roles in test_handlers_as_role.py. Event routing is checked with EventBridge's own
pattern matcher.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_tooling.testing.emulator import Deployment

pytestmark = [
    pytest.mark.emulator,
    # A write to the deployed table makes moto's server thread try to run the stream's Lambda in
    # Docker, which is absent here; the sockets and processes it leaves are moto's, not ours.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PRIMARY = "us-east-1"


@pytest.fixture(scope="module")
def outputs(deployment: Deployment) -> dict[str, Any]:
    assert not deployment.drift, "planned changes after apply:\n" + "\n".join(deployment.drift)
    return deployment.outputs


def test_no_drift_after_apply(deployment: Deployment) -> None:
    assert deployment.drift == []


def test_stream_feeds_the_cdc_function_with_partial_batch_retries(
    deployment: Deployment, outputs: dict[str, Any]
) -> None:
    """The receipt write itself is covered in-process (tests/handlers): moto evaluates only
    StringEquals conditions in bucket policies, so the bucket's conditional Deny statements refuse
    every object write on the emulator, which AWS would allow over TLS with the KMS header."""
    lam = deployment.client("lambda", PRIMARY)
    table = deployment.client("dynamodb", PRIMARY).describe_table(TableName=outputs["table_name"])["Table"]
    mappings = lam.list_event_source_mappings(EventSourceArn=table["LatestStreamArn"])["EventSourceMappings"]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["FunctionArn"].endswith(":function:payments-cdc-use1-dev")
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":payments-cdc-failures-use1-dev")
    env = lam.get_function_configuration(FunctionName="payments-cdc-use1-dev")["Environment"]["Variables"]
    assert env["RECEIPTS_BUCKET"] == outputs["receipts_bucket_use1"]
    assert env["RECEIPTS_KEY_ARN"] == outputs["data_key_arn_use1"]
    assert env["EVENT_BUS_NAME"] == outputs["event_bus_name_use1"]


def _event(origin: str) -> str:
    return json.dumps(
        {
            "id": "1",
            "account": "123456789012",
            "source": "payments.transactions",
            "time": "2026-11-22T00:00:00Z",
            "region": origin,
            "resources": [],
            "detail-type": "PaymentAccepted",
            "detail": {"payment_id": "p-1", "origin_region": origin},
        }
    )


def matches(events: Any, pattern: str, event: str) -> bool:
    """EventBridge's TestEventPattern; moto answers it empty, so then its own routing matcher decides."""
    answer = events.test_event_pattern(EventPattern=pattern, Event=event)
    if "Result" in answer:
        return bool(answer["Result"])
    from moto.events.models import EventPattern

    return EventPattern.load(pattern).matches_event(json.loads(event))


@pytest.mark.parametrize(("origin", "forwarded"), [(PRIMARY, True), ("eu-west-1", False)])
def test_event_on_the_bus_matches_the_failover_rule(
    deployment: Deployment, outputs: dict[str, Any], origin: str, forwarded: bool
) -> None:
    events = deployment.client("events", PRIMARY)
    rule = events.describe_rule(Name=outputs["failover_rule_name_use1"], EventBusName=outputs["event_bus_name_use1"])
    assert matches(events, rule["EventPattern"], _event(origin)) is forwarded
    put = events.put_events(
        Entries=[
            {
                "Source": "payments.transactions",
                "DetailType": "PaymentAccepted",
                "Detail": json.dumps({"origin_region": origin}),
                "EventBusName": outputs["event_bus_name_use1"],
            }
        ]
    )
    assert put["FailedEntryCount"] == 0


def test_failover_rule_targets_the_other_regions_buses(deployment: Deployment, outputs: dict[str, Any]) -> None:
    targets = deployment.client("events", PRIMARY).list_targets_by_rule(
        Rule=outputs["failover_rule_name_use1"], EventBusName=outputs["event_bus_name_use1"]
    )["Targets"]
    assert sorted(t["Arn"] for t in targets) == sorted([outputs["event_bus_arn_apse1"], outputs["event_bus_arn_euw1"]])
    assert all(t["RoleArn"] and t["DeadLetterConfig"]["Arn"] for t in targets)


def test_every_region_has_its_bus_topic_and_bucket(deployment: Deployment, outputs: dict[str, Any]) -> None:
    for region, short in (("us-east-1", "use1"), ("eu-west-1", "euw1"), ("ap-southeast-1", "apse1")):
        bus = deployment.client("events", region).describe_event_bus(Name=outputs[f"event_bus_name_{short}"])
        assert bus["KmsKeyIdentifier"] == outputs[f"data_key_arn_{short}"]
        topic = deployment.client("sns", region).get_topic_attributes(TopicArn=outputs[f"alert_topic_arn_{short}"])
        assert topic["Attributes"]["KmsMasterKeyId"] == outputs[f"data_key_arn_{short}"]
        versioning = deployment.client("s3", region).get_bucket_versioning(Bucket=outputs[f"receipts_bucket_{short}"])
        assert versioning["Status"] == "Enabled"


def test_receipts_replicate_to_the_other_regions(deployment: Deployment, outputs: dict[str, Any]) -> None:
    rules = deployment.client("s3", PRIMARY).get_bucket_replication(Bucket=outputs["receipts_bucket_use1"])[
        "ReplicationConfiguration"
    ]["Rules"]
    assert sorted(r["Destination"]["Bucket"] for r in rules) == sorted(
        f"arn:aws:s3:::{outputs[f'receipts_bucket_{s}']}" for s in ("euw1", "apse1")
    )


def test_latency_records_point_at_each_region(deployment: Deployment, outputs: dict[str, Any]) -> None:
    route53 = deployment.client("route53", PRIMARY)
    records = route53.list_resource_record_sets(HostedZoneId=outputs["hosted_zone_id"])["ResourceRecordSets"]
    latency = {r["SetIdentifier"]: r for r in records if r.get("Region")}
    assert sorted(latency) == ["ap-southeast-1", "eu-west-1", "us-east-1"]
    for region, record in latency.items():
        assert record["Name"].rstrip(".") == outputs["api_domain_name"]
        assert record["Region"] == region


@pytest.mark.parametrize(("origin", "lands"), [("eu-west-1", True), (PRIMARY, False)])
def test_forwarded_events_land_in_the_destination_queue(
    deployment: Deployment, outputs: dict[str, Any], origin: str, lands: bool
) -> None:
    events = deployment.client("events", PRIMARY)
    bus = outputs["event_bus_name_use1"]
    rule = events.describe_rule(Name="payments-forwarded-use1-dev", EventBusName=bus)
    assert matches(events, rule["EventPattern"], _event(origin)) is lands
    targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
    queue_url = outputs["forwarded_events_queue_url_use1"]
    sqs = deployment.client("sqs", PRIMARY)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert [t["Arn"] for t in targets] == [queue_arn]


@pytest.mark.parametrize(
    ("region", "short"), [("us-east-1", "use1"), ("eu-west-1", "euw1"), ("ap-southeast-1", "apse1")]
)
def test_functions_run_in_the_private_vpc_with_endpoints_only(
    deployment: Deployment, outputs: dict[str, Any], region: str, short: str
) -> None:
    vpc_id = outputs[f"vpc_id_{short}"]
    lam, ec2 = deployment.client("lambda", region), deployment.client("ec2", region)
    for function in ("intake", "transaction", "cdc", "health"):
        config = lam.get_function_configuration(FunctionName=f"payments-{function}-{short}-dev")
        # moto answers a fixed VpcId; the subnets say where the function runs.
        subnets = ec2.describe_subnets(SubnetIds=config["VpcConfig"]["SubnetIds"])["Subnets"]
        assert len(subnets) == 3, function
        assert {s["VpcId"] for s in subnets} == {vpc_id}, function
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    services = sorted(e["ServiceName"].rsplit(".", 1)[1] for e in endpoints)
    assert services == ["dynamodb", "events", "monitoring", "s3", "sns", "states"]
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    assert gateways["InternetGateways"] == []
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    assert nats == []
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    assert [f["TrafficType"] for f in flow_logs] == ["ALL"]
