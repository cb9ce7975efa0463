"""How fast a failed region leaves DNS, computed from configuration: the RTO the README states.

Each region's Route 53 health check watches a CloudWatch alarm on the canary metric that the
region's health function publishes every minute (a canary item written to and read back from the
table, an event put on the bus). Nothing outside the account can reach or load that check: Route 53
reads the alarm state, no checker calls an endpoint (see the README's failover section).

Worst case from the first failed canary to the last resolver dropping the region's answer:

- the alarm period in progress when the failure starts (its datapoint is already healthy),
- ``failure_threshold`` breaching periods of the alarm (a canary that stops publishing breaches
  too: missing data is treated as breaching),
- the lag of Route 53 reading the alarm's state (not published by AWS; the runbook's failover
  test measures it),
- the TTL of the alias answer (API Gateway's regional domain names are answered with 60 s).

A canary run cannot outlast its period: the health function's timeout is below the schedule
interval, and its AWS calls have their own short timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

CANARY_INTERVAL_S = 60
"""The canary runs every minute, EventBridge's finest schedule."""
CANARY_SCHEDULE = "rate(1 minute)"
ALARM_PERIOD_S = 60
"""Standard resolution: Route 53 cannot use alarms on high-resolution metrics."""
ROUTE53_ALARM_LAG_S = 30
"""Allowance for Route 53 to see an alarm's state change (AWS publishes no figure)."""
ALIAS_TTL_S = 60
"""TTL of the alias answer: the TTL of API Gateway's regional domain name records."""
HEALTH_TIMEOUT_S = 20
"""The health function's timeout: a hanging dependency ends the run inside its minute."""
RTO_LIMIT_S = 300
"""The disaster-recovery document's failover target: 5 minutes."""
RPO_S = 60
"""The recovery point objective: replication latency above this pages (DynamoDB global table)."""


@dataclass(frozen=True)
class FailoverTime:
    """The parts of the worst-case failover time, in seconds."""

    period_in_progress_s: int
    alarm_s: int
    route53_lag_s: int
    ttl_s: int

    @property
    def detection_s(self) -> int:
        """From the failure to Route 53 marking the region unhealthy."""
        return self.period_in_progress_s + self.alarm_s + self.route53_lag_s

    @property
    def total_s(self) -> int:
        """From the failure to the last resolver answering with another region (the RTO)."""
        return self.detection_s + self.ttl_s


def failover_time(failure_threshold: int) -> FailoverTime:
    """The worst-case failover time with ``failure_threshold`` consecutive failed canary minutes."""
    if failure_threshold < 1:
        raise ValueError(f"failure_threshold: expected at least 1 failed canary period, got {failure_threshold}")
    return FailoverTime(
        period_in_progress_s=ALARM_PERIOD_S,
        alarm_s=failure_threshold * ALARM_PERIOD_S,
        route53_lag_s=ROUTE53_ALARM_LAG_S,
        ttl_s=ALIAS_TTL_S,
    )


def check_failover_time(failure_threshold: int) -> FailoverTime:
    """:func:`failover_time`, or a ``ValueError`` with the sum when it exceeds the 5-minute target."""
    time = failover_time(failure_threshold)
    if time.total_s > RTO_LIMIT_S:
        raise ValueError(
            f"dns.health_check_failure_threshold {failure_threshold}: failover takes {time.total_s} s "
            f"({time.period_in_progress_s} + {failure_threshold} x {ALARM_PERIOD_S} + {time.route53_lag_s} + "
            f"{time.ttl_s} TTL), expected at most {RTO_LIMIT_S} s"
        )
    return time


def canary_key(region: str) -> str:
    """The table key of ``region``'s canary item. The '.' after the last '#' keeps it out of the
    client key space (the API accepts only ``[A-Za-z0-9_-]`` in an idempotency key)."""
    return f"health#canary.{region}"
