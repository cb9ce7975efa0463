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


def order_served(slots: Slots, waiters: list[tuple[str, float, bool]]) -> list[str]:
    """The order in which ``waiters`` (name, priority, background), queued one after the other
    while one call holds the only slot, got it once the slot was freed."""
    started: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with slots.hold():
            release.wait(5)

    def waiter(name: str, priority: float, background: bool) -> None:
        with slots.hold(priority, background=background):
            started.append(name)

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.1)
    threads = [threading.Thread(target=waiter, args=item) for item in waiters]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # queued in the order given
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    return started


def test_a_freed_slot_goes_to_the_highest_priority_waiter_not_the_first():
    served = order_served(Slots(1), [("low", 1.0, False), ("high", 50.0, False), ("mid", 5.0, False)])
    assert served == ["high", "mid", "low"]


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


def test_a_background_call_keeps_its_priority_when_no_call_is_expected():
    served = order_served(Slots(1), [("apply", 1.0, False), ("re-plan", 500.0, True)])
    assert served == ["re-plan", "apply"]


def expected_against(
    slots: Slots, queued: tuple[str, float, bool], dependent_priority: float, queued_for: float = 0.1
) -> list[str]:
    """Who gets the only slot, freed while ``queued`` waits (for ``queued_for`` s already) and a
    dependent of ``dependent_priority``, expected, is still preparing before it asks."""
    started: list[str] = []
    release = threading.Event()
    name, priority, background = queued
    holding = threading.Event()

    def holder() -> None:
        with slots.hold():
            holding.set()
            release.wait(5)
        # The apply ended: its dependent is announced as the slot is freed.

    def waiter() -> None:
        with slots.hold(priority, background=background):
            started.append(name)

    def dependent() -> None:
        time.sleep(0.3)  # preparing its package before it asks
        with slots.hold(dependent_priority, arriving=True):
            started.append("dependent")
            time.sleep(0.1)

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(5)
    queued_thread = threading.Thread(target=waiter)
    queued_thread.start()
    time.sleep(queued_for)
    slots.expect(dependent_priority)
    release.set()
    arriving = threading.Thread(target=dependent)
    arriving.start()
    for thread in (first, queued_thread, arriving):
        thread.join(5)
    return started


def test_a_free_slot_is_left_to_an_expected_call_not_taken_by_a_background_one():
    assert expected_against(Slots(1), ("re-plan", 500.0, True), 1.0) == ["dependent", "re-plan"]


def test_a_free_slot_is_left_to_an_expected_call_of_a_higher_priority_not_taken_by_a_lower_one():
    assert expected_against(Slots(1), ("apply", 10.0, False), 300.0) == ["dependent", "apply"]


def test_a_waiter_queued_long_before_the_announcement_still_yields_to_it(monkeypatch):
    monkeypatch.setattr(Slots, "PATIENCE_S", 1.0)
    served = expected_against(Slots(1), ("apply", 10.0, False), 300.0, queued_for=1.5)
    assert served == ["dependent", "apply"]


def test_an_expected_call_of_a_lower_priority_waits_its_turn():
    assert expected_against(Slots(1), ("apply", 300.0, False), 10.0) == ["apply", "dependent"]


def test_a_cancelled_or_late_expected_call_does_not_hold_a_background_one_for_good(monkeypatch):
    slots = Slots(1)
    slots.expect()
    done = threading.Event()

    def replan() -> None:
        with slots.hold(background=True):
            done.set()

    thread = threading.Thread(target=replan)
    thread.start()
    assert not done.wait(0.3)  # still left to the expected call
    slots.cancel()
    assert done.wait(2)
    thread.join(5)
    monkeypatch.setattr(Slots, "PATIENCE_S", 0.2)
    late = Slots(1)
    late.expect()  # never arrives, never cancelled
    began = time.monotonic()
    with late.hold(background=True):
        waited = time.monotonic() - began
    assert 0.15 <= waited < 2


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
