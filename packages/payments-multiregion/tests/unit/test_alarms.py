"""The alarms of every region: what each watches, its threshold, and who it notifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from platform_tooling.synth import SynthResult
from platform_tooling.testing.query import name_of, only, ref, resources, where

from ..conftest import REGIONS, SHORT


def topic(stack: dict[str, Any], region: str) -> str:
    return ref("aws_sns_topic", name_of(stack, "aws_sns_topic", name=f"payments-alerts-{SHORT[region]}-dev"), "arn")


def queries(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {q["id"]: q for q in alarm["metric_query"]}
    assert found, "expected a metric-math alarm"
    return found


def metric_names(alarm: dict[str, Any]) -> dict[str, str]:
    return {id: q["metric"]["metric_name"] for id, q in queries(alarm).items() if "metric" in q}


@pytest.mark.requirement("PAY-11")
@pytest.mark.parametrize("region", REGIONS)
def test_payment_failure_rate_is_failed_payments_over_payments(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-payment-failure-rate-{SHORT[region]}-dev")
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0.1)
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (5, 3)
    found = queries(alarm)
    assert found["rate"]["expression"] == (
        "IF(payments > 0, 100 * (failed + timedout + aborted + sfnthrottled + apithrottled) / payments, 0)"
    )
    assert found["rate"]["return_data"] is True
    assert metric_names(alarm) == {
        "failed": "ExecutionsFailed",
        "timedout": "ExecutionsTimedOut",
        "aborted": "ExecutionsAborted",
        "sfnthrottled": "ExecutionThrottled",
        "apithrottled": "ThrottledRequests",
        "payments": "PaymentRequests",
    }
    machine = ref(
        "aws_sfn_state_machine",
        name_of(stack, "aws_sfn_state_machine", name=f"payments-workflow-{SHORT[region]}-dev"),
        "arn",
    )
    assert found["failed"]["metric"]["dimensions"] == {"StateMachineArn": machine}
    assert all(q["metric"]["period"] == 60 and q["metric"]["stat"] == "Sum" for q in found.values() if "metric" in q)
    assert alarm["alarm_actions"] == [topic(stack, region)]


@pytest.mark.parametrize("region", REGIONS)
def test_throttles_and_payments_are_counted_from_the_api_access_log(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    filters = {
        f["metric_transformation"]["name"]: f for f in resources(stack, "aws_cloudwatch_log_metric_filter").values()
    }
    assert filters["ThrottledRequests"]["pattern"] == '{ $.status = "429" }'
    assert filters["PaymentRequests"]["pattern"] == '{ $.httpMethod = "POST" && $.resourcePath = "/payments" }'
    access_log = name_of(
        stack, "aws_cloudwatch_log_group", name=f"/payments/dev/api-access/payments-api-{SHORT[region]}-dev"
    )
    for metric in ("ThrottledRequests", "PaymentRequests", "Requests"):
        assert filters[metric]["log_group_name"] == ref("aws_cloudwatch_log_group", access_log, "name")
        assert filters[metric]["metric_transformation"]["namespace"] == "Payments/Api"


def test_no_alarm_counts_declines_or_lambda_errors(stacks: dict[str, Any]) -> None:
    """Declines are outcomes, not failures: nothing pages on them (issue 13, a storm at 10,000 TPS)."""
    alarms = [a for r in REGIONS for a in resources(stacks[f"payments-{r}"], "aws_cloudwatch_metric_alarm").values()]
    assert len(alarms) > 10
    watched = [a.get("metric_name", "") for a in alarms] + [
        q.get("metric", {}).get("metric_name", "") + q.get("expression", "")
        for a in alarms
        for q in a.get("metric_query", [])
    ]
    assert not [w for w in watched if "declin" in w.lower()]
    # Not the old Lambda errors / invocations ratio (three invocations per payment).
    lambda_metrics = [
        q["metric"]["metric_name"]
        for a in alarms
        for q in a.get("metric_query", [])
        if q.get("metric", {}).get("namespace") == "AWS/Lambda"
    ]
    assert lambda_metrics == []


@pytest.mark.parametrize(
    ("name", "expression", "metrics"),
    [
        (
            "workflow-failure-rate",
            "IF(started > 0, 100 * (failed + timedout + aborted) / started, 0)",
            "ExecutionsStarted",
        ),
        ("api-5xx-rate", "IF(requests > 0, 100 * errors / requests, 0)", "5XXError"),
        ("api-throttle-rate", "IF(requests > 0, 100 * throttled / requests, 0)", "ThrottledRequests"),
    ],
)
def test_rate_alarms(stacks: dict[str, Any], name: str, expression: str, metrics: str) -> None:
    stack = stacks["payments-eu-west-1"]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-{name}-euw1-dev")
    assert queries(alarm)["rate"]["expression"] == expression
    assert metrics in metric_names(alarm).values()
    assert alarm["threshold"] == 0.1
    assert alarm["alarm_actions"] == [topic(stack, "eu-west-1")]


def test_api_5xx_alarm_reads_the_stage_metrics(stacks: dict[str, Any]) -> None:
    alarm = only(
        stacks["payments-us-east-1"], "aws_cloudwatch_metric_alarm", alarm_name="payments-api-5xx-rate-use1-dev"
    )
    assert queries(alarm)["errors"]["metric"]["dimensions"] == {"ApiName": "payments-api-use1-dev", "Stage": "v1"}


@pytest.mark.parametrize("region", REGIONS)
def test_replication_latency_per_replica_against_the_rpo(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    others = [r for r in REGIONS if r != region]
    for other in others:
        alarm = only(
            stack,
            "aws_cloudwatch_metric_alarm",
            alarm_name=f"payments-replication-latency-{SHORT[other]}-{SHORT[region]}-dev",
        )
        assert (alarm["metric_name"], alarm["namespace"]) == ("ReplicationLatency", "AWS/DynamoDB")
        assert alarm["dimensions"] == {"TableName": "payments-transactions-dev", "ReceivingRegion": other}
        assert (alarm["statistic"], alarm["threshold"]) == ("Maximum", 60000)
        assert alarm["alarm_actions"] == [topic(stack, region)]


@pytest.mark.parametrize("region", REGIONS)
def test_every_dead_letter_queue_and_the_stream_age_alarm(stacks: dict[str, Any], region: str) -> None:
    stack, short = stacks[f"payments-{region}"], SHORT[region]
    for name, queue in (("cdc-failures", "cdc-failures"), ("events-dlq", "events-dlq")):
        alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-{name}-{short}-dev")
        assert alarm["metric_name"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["dimensions"] == {"QueueName": f"payments-{queue}-{short}-dev"}
        assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    age = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-cdc-iterator-age-{short}-dev")
    assert (age["metric_name"], age["statistic"], age["threshold"]) == ("IteratorAge", "Maximum", 120000)
    assert age["dimensions"] == {"FunctionName": f"payments-cdc-{short}-dev"}


@pytest.mark.requirement("DR-C14")
@pytest.mark.parametrize("region", REGIONS)
def test_region_unhealthy_alarm_fires_when_the_canary_fails_or_stops(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-region-unhealthy-{SHORT[region]}-dev")
    assert (alarm["metric_name"], alarm["dimensions"]) == ("RegionHealthy", {"Region": region})
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == ("Minimum", "LessThanThreshold", 1)
    # Route 53 accepts only standard-resolution alarms; dev keeps the default threshold of 2 minutes.
    assert (alarm["period"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (60, 2, 2)
    assert alarm["treat_missing_data"] == "breaching"
    assert alarm["alarm_actions"] == [topic(stack, region)]


@pytest.mark.parametrize("region", REGIONS)
def test_route53_health_check_alarm_lives_in_us_east_1(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-route53-health-{SHORT[region]}-dev")
    check = name_of(stack, "aws_route53_health_check", type="CLOUDWATCH_METRIC")
    assert alarm["dimensions"] == {"HealthCheckId": ref("aws_route53_health_check", check, "id")}
    assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"]) == ("AWS/Route53", "HealthCheckStatus", 1)
    if region == "us-east-1":
        assert "provider" not in alarm
        assert alarm["alarm_actions"] == [topic(stack, region)]
    else:
        assert alarm["provider"] == "aws.use1"
        assert len(alarm["alarm_actions"]) == 1
        assert alarm["alarm_actions"][0].startswith("arn:aws:sns:us-east-1:")
        assert alarm["alarm_actions"][0].endswith(":payments-alerts-use1-dev")


@pytest.mark.parametrize("region", REGIONS)
def test_on_call_is_paged_by_every_region_directly(synth: Callable[..., SynthResult], region: str) -> None:
    """Losing any one region (the primary included) must not silence the others' alerts: the prod
    example's on-call address is subscribed to every region's topic."""
    stack = synth("payments-multiregion", environment="prod").stacks[f"payments-{region}"]
    subscriptions = where(stack, "aws_sns_topic_subscription", protocol="email")
    assert [s["endpoint"] for s in subscriptions] == ["payments-oncall@example.com"]
    assert subscriptions[0]["topic_arn"] == ref(
        "aws_sns_topic", name_of(stack, "aws_sns_topic", name=f"payments-alerts-{SHORT[region]}-prod"), "arn"
    )


@pytest.mark.requirement("PAY-8")
def test_dashboard_shows_every_region(stacks: dict[str, Any]) -> None:
    dashboard = only(stacks["payments-global"], "aws_cloudwatch_dashboard", dashboard_name="payments-operations-dev")
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    assert sorted({w["properties"]["region"] for w in widgets}) == sorted(REGIONS)
    rates = [w for w in widgets if w["properties"]["title"].endswith("failure rate (%)")]
    assert len(rates) == 3
    assert rates[0]["properties"]["metrics"][0][0]["expression"].startswith("IF(payments > 0, 100 * (failed")
