"""Failure-rate alarms: metric math on errors over invocations above 0.1%, to the alert topic."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing.query import name_of, only, ref

from ..conftest import REGIONS, SHORT


@pytest.mark.requirement("PAY-11")
@pytest.mark.parametrize("region", REGIONS)
def test_transaction_failure_rate_alarm(stacks: dict[str, Any], region: str) -> None:
    stack = stacks[f"payments-{region}"]
    short = SHORT[region]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-transaction-failure-rate-{short}-dev")
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["threshold"] == 0.1
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (5, 3)
    assert alarm["treat_missing_data"] == "notBreaching"
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["rate"] == {
        "id": "rate",
        "label": "failure rate (%)",
        "return_data": True,
        "expression": "IF(total > 0, 100 * failed / total, 0)",
    }
    function = f"payments-transaction-{short}-dev"
    assert queries["failed"]["metric"] == {
        "namespace": "AWS/Lambda",
        "metric_name": "Errors",
        "period": 60,
        "stat": "Sum",
        "dimensions": {"FunctionName": function},
    }
    assert queries["total"]["metric"]["metric_name"] == "Invocations"
    assert queries["total"]["metric"]["dimensions"] == {"FunctionName": function}
    assert queries["failed"]["return_data"] is False
    topic = ref("aws_sns_topic", name_of(stack, "aws_sns_topic", name=f"payments-alerts-{short}-dev"), "arn")
    assert alarm["alarm_actions"] == [topic]
    assert alarm["ok_actions"] == [topic]


def test_workflow_failure_rate_alarm_uses_the_same_expression(stacks: dict[str, Any]) -> None:
    alarm = only(
        stacks["payments-eu-west-1"],
        "aws_cloudwatch_metric_alarm",
        alarm_name="payments-workflow-failure-rate-euw1-dev",
    )
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["rate"]["expression"] == "IF(total > 0, 100 * failed / total, 0)"
    assert (queries["failed"]["metric"]["metric_name"], queries["total"]["metric"]["metric_name"]) == (
        "ExecutionsFailed",
        "ExecutionsStarted",
    )
    assert alarm["threshold"] == 0.1


@pytest.mark.requirement("DR-C14")
@pytest.mark.parametrize("region", REGIONS)
def test_region_unhealthy_alarm_fires_when_the_health_metric_drops_or_stops(
    stacks: dict[str, Any], region: str
) -> None:
    stack = stacks[f"payments-{region}"]
    short = SHORT[region]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"payments-region-unhealthy-{short}-dev")
    assert (alarm["metric_name"], alarm["dimensions"]) == ("RegionHealthy", {"Region": region})
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == ("Minimum", "LessThanThreshold", 1)
    # A silent health check is as bad as a failing one.
    assert alarm["treat_missing_data"] == "breaching"
    topic = ref("aws_sns_topic", name_of(stack, "aws_sns_topic", name=f"payments-alerts-{short}-dev"), "arn")
    assert alarm["alarm_actions"] == [topic]


@pytest.mark.requirement("PAY-8")
def test_dashboard_shows_every_region(stacks: dict[str, Any]) -> None:
    import json

    dashboard = only(stacks["payments-global"], "aws_cloudwatch_dashboard", dashboard_name="payments-operations-dev")
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    assert sorted({w["properties"]["region"] for w in widgets}) == sorted(REGIONS)
    rates = [w for w in widgets if w["properties"]["title"].endswith("failure rate (%)")]
    assert len(rates) == 3
    assert rates[0]["properties"]["metrics"][0][0]["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
