"""Terraform slots: a freed slot goes to the highest-priority waiter, and each stack's priority is
the heaviest chain of work after it; the Terraform processes off the heaviest chain run at a lower
scheduling priority."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from platform_tooling.deploy.engine import StackId, critical_chain
from platform_tooling.deploy.slots import Slots, chain_weights
from platform_tooling.deploy.terraform import _spawn


def test_a_freed_slot_goes_to_the_highest_priority_waiter_not_the_first():
    slots = Slots(1)
    started: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with slots.hold():
            release.wait(5)

    def waiter(name: str, priority: float) -> None:
        with slots.hold(priority):
            started.append(name)

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.1)
    waiters = [threading.Thread(target=waiter, args=(n, p)) for n, p in (("low", 1.0), ("high", 50.0), ("mid", 5.0))]
    for thread in waiters:
        thread.start()
        time.sleep(0.05)  # queued in this order: low, high, mid
    release.set()
    for thread in [first, *waiters]:
        thread.join(5)
    assert started == ["high", "mid", "low"]


def test_never_more_holders_than_slots():
    slots = Slots(2)
    inside: list[int] = []
    peak: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        with slots.hold():
            with lock:
                inside.append(1)
                peak.append(len(inside))
            time.sleep(0.02)
            with lock:
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(peak) == 8
    assert max(peak) == 2


def test_rejects_no_slot_at_all():
    with pytest.raises(ValueError, match="slots: size must be at least 1, got 0"):
        Slots(0)


def test_chain_weight_is_own_work_plus_the_heaviest_chain_after_it():
    weights = {"regional": 140.0, "links": 14.0, "global": 23.0, "alone": 200.0, "tail": 5.0}
    deps = {"links": ["regional"], "global": ["regional"], "tail": ["global"]}
    found = chain_weights(weights, deps)
    assert found == {"regional": 168.0, "links": 14.0, "global": 28.0, "alone": 200.0, "tail": 5.0}


def test_chain_weight_names_a_cycle():
    with pytest.raises(RuntimeError, match="dependency cycle through"):
        chain_weights({"a": 1.0, "b": 1.0}, {"a": ["b"], "b": ["a"]})


def test_the_critical_chain_follows_the_heaviest_dependent_from_the_heaviest_start():
    base, network, data, app, report = (StackId("p", n) for n in ("base", "network", "data", "app", "report"))
    weights = {base: 10.0, network: 5.0, data: 40.0, app: 30.0, report: 1.0}
    deps = {network: [base], data: [base], app: [data, network], report: [network]}
    priority = chain_weights(weights, deps)
    assert critical_chain(priority, deps) == {base, data, app}


def test_off_the_chain_terraform_runs_at_a_lower_priority():
    probe = [sys.executable, "-c", "import os, time; time.sleep(0.5); print(os.nice(0))"]
    code, out, _, _ = _spawn(probe, os.environ, 30, nice=5)
    assert code == 0
    assert int(out) == os.nice(0) + 5
    code, out, _, _ = _spawn(probe, os.environ, 30)
    assert int(out) == os.nice(0)
