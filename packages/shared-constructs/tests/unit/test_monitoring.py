"""Metrics handed out by constructs, metric filters and alarms (on the reference example)."""

from __future__ import annotations

import pytest
from platform_tooling.testing.query import only, resources
from shared_constructs.monitoring import Alarm, AlarmProps, AnomalyBand, Metric

TOPIC = "${aws_sns_topic.alerts_topic_3313844B.arn}"


def alarm(reference, name):
    return only(reference, "aws_cloudwatch_metric_alarm", alarm_name=f"ref-{name}-use1-dev")


def test_metric_filter_counts_matching_lines_of_an_encrypted_log_group(reference):
    found = only(reference, "aws_cloudwatch_log_metric_filter", name="ref-app-errors-use1-dev")
    assert found["log_group_name"] == "${aws_cloudwatch_log_group.echo_logs_group_8F1066DF.name}"
    assert found["pattern"] == '{ $.level = "ERROR" }'
    assert found["metric_transformation"] == {
        "name": "AppErrors",
        "namespace": "Reference/dev",
        "value": "1",
        "default_value": "0",
    }


def test_alarm_on_a_filtered_metric_waits_for_its_filter_and_notifies_both_ways(reference):
    found = alarm(reference, "app-errors")
    assert (found["namespace"], found["metric_name"], found["statistic"], found["period"]) == (
        "Reference/dev",
        "AppErrors",
        "Sum",
        300,
    )
    assert found["depends_on"] == ["aws_cloudwatch_log_metric_filter.app_errors_filter"]
    assert found["alarm_actions"] == found["ok_actions"] == [TOPIC]
    assert (found["comparison_operator"], found["threshold"], found["treat_missing_data"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
        "notBreaching",
    )


def test_failure_rate_is_metric_math_over_the_functions_metrics(reference):
    rate, failed, total = alarm(reference, "echo-failure-rate")["metric_query"]
    assert rate == {
        "id": "rate",
        "expression": "IF(total > 0, 100 * failed / total, 0)",
        "label": "failure rate (%)",
        "return_data": True,
    }
    for query, metric in ((failed, "Errors"), (total, "Invocations")):
        assert query["return_data"] is False
        assert query["metric"] == {
            "namespace": "AWS/Lambda",
            "metric_name": metric,
            "dimensions": {"FunctionName": "ref-echo-use1-dev"},
            "period": 60,
            "stat": "Sum",
        }


def test_anomaly_band_alarm_has_no_threshold_and_compares_with_the_band(reference):
    found = alarm(reference, "echo-invocations-band")
    assert "threshold" not in found
    assert (found["comparison_operator"], found["threshold_metric_id"]) == ("GreaterThanUpperThreshold", "band")
    assert found["metric_query"][1]["expression"] == "ANOMALY_DETECTION_BAND(invocations, 3)"


def test_queue_and_topic_hand_out_their_metrics(reference):
    dead_letters = alarm(reference, "jobs-dead-letters")
    assert (dead_letters["namespace"], dead_letters["dimensions"], dead_letters["statistic"]) == (
        "AWS/SQS",
        {"QueueName": "ref-jobs-dlq-use1-dev"},
        "Maximum",
    )
    deliveries = alarm(reference, "alert-deliveries-failed")
    assert (deliveries["metric_name"], deliveries["dimensions"]) == (
        "NumberOfNotificationsFailed",
        {"TopicName": "ref-alerts-dev"},
    )
    assert len(resources(reference, "aws_cloudwatch_metric_alarm")) == 5


@pytest.mark.parametrize(
    ("watch", "threshold"),
    [(Metric(namespace="N", name="M"), None), (AnomalyBand(metric=Metric(namespace="N", name="M")), 1.0)],
)
def test_fails_on_a_threshold_that_does_not_fit_what_is_watched(stack, watch, threshold):
    props = AlarmProps(context=stack.context, name="a", description="d", watch=watch, threshold=threshold)
    with pytest.raises(ValueError, match="give a threshold, except for an anomaly band"):
        Alarm(stack, "a", props)


def test_fails_on_the_dead_letter_metric_of_a_queue_without_one(stack):
    from shared_constructs.kms import Key, KeyProps
    from shared_constructs.messaging import EncryptedQueue, QueueProps

    key = Key(stack, "k", KeyProps(context=stack.context, name="k", description="k", regional_name=False))
    queue = EncryptedQueue(
        stack,
        "q",
        QueueProps(context=stack.context, name="q", key=key, dead_letter=False),
    )
    assert queue.metric_visible_messages().dimensions == {"QueueName": "t-q-use1-dev"}
    with pytest.raises(ValueError, match="has no dead-letter queue"):
        queue.metric_visible_messages(dead_letter=True)
