"""The emulator rung's end-of-run report: one line per package, then the notes (a kept log)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from platform_tooling.testing import emulator_timings


@pytest.fixture
def report() -> Iterator[None]:
    saved = dict(emulator_timings.TIMINGS), list(emulator_timings.NOTES)
    emulator_timings.TIMINGS.clear()
    emulator_timings.NOTES.clear()
    yield
    emulator_timings.TIMINGS.clear()
    emulator_timings.TIMINGS.update(saved[0])
    emulator_timings.NOTES[:] = saved[1]


def test_a_kept_server_log_is_named_after_the_timings(report: None) -> None:
    emulator_timings.TIMINGS["pci-platform"] = {"apply_s": 61.4, "tests_s": 9.6, "emulator_s": 3.0}
    emulator_timings.NOTES.append(
        "emulator: pci-platform failed to deploy; the server's log is kept: /tmp/x/server.log"
    )
    assert emulator_timings.lines() == [
        "emulator pci-platform: apply 61 s, tests 10 s, emulator 3 s",
        "emulator: pci-platform failed to deploy; the server's log is kept: /tmp/x/server.log",
    ]


def test_without_notes_only_the_timings_are_reported(report: None) -> None:
    emulator_timings.TIMINGS["network-peering"] = {"destroy_s": 20.0}
    assert emulator_timings.lines() == ["emulator network-peering: destroy 20 s"]
