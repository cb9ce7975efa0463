"""Pytest plugin of the platform: markers and session-scoped fixtures shared by every package."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from platform_tooling.synth import SynthResult
from platform_tooling.testing import emulator as emulator_rung
from platform_tooling.testing import emulator_timings, moto_answers
from platform_tooling.testing.emulator import emulator
from platform_tooling.testing.synthesis import synthesize

__all__ = ["emulator", "synth"]

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


SYNTH_FIRST = "PLATFORM_SYNTH_FIRST"
"""Synthesis handed over by ``nox -s synth`` (the synthesis CLI's arguments, as JSON): run once
the tests are collected, in this process, so the provider bindings are imported once."""
_SYNTH_FIRST = pytest.StashKey[list[str]]()
_SYNTH_STATUS = pytest.StashKey[int]()


def share_botocore_loaders() -> None:
    """Every botocore session of this process reads its service models through one loader (per
    data path), as the clients of one session always do. moto gives each mocked test a new
    default boto3 session, and each new session read and parsed the models again: 829 model
    files for pci-platform's 34 processor handler tests, 7 of their 24 s."""
    import botocore.session
    from botocore.loaders import create_loader

    if getattr(botocore.session.create_loader, "shared", False):
        return
    loaders: dict[str | None, Any] = {}

    def shared(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    shared.shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = shared


def keep_default_boto3_session() -> None:
    """moto's mocks keep boto3's default session instead of making a new one each (moto's
    ``reset_boto3_session`` setting). A new session registers botocore's built-in event handlers
    again (about 130): 15 ms per mocked test, 1.3-1.8 s of pci-platform's handler tests. Each mock still
    starts with empty backends; clients are still created per test; the tests' credentials are
    fake either way. Code that needs a session of its own (:mod:`.roles`) still makes one."""
    from moto.core.config import default_user_config

    default_user_config["core"]["reset_boto3_session"] = False


def pytest_configure(config: pytest.Config) -> None:
    share_botocore_loaders()
    keep_default_boto3_session()
    moto_answers.defer_kms_key_pairs()
    config.addinivalue_line("markers", "emulator: deploys to the local AWS emulator (nox -s emulator)")
    handed = os.environ.pop(SYNTH_FIRST, None)  # not for the processes the tests start
    if handed and not hasattr(config, "workerinput"):
        config.stash[_SYNTH_FIRST] = [str(argument) for argument in json.loads(handed)]
    # Test modules import the provider bindings while they are collected: pause the cyclic
    # collector until collection is done, then freeze what it created (platform_tooling.bindings).
    gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()
    gc.enable()
    if _SYNTH_FIRST in session.config.stash:
        session.config.stash[_SYNTH_STATUS] = _synthesize_first(session.config, session.config.stash[_SYNTH_FIRST])
    if any(item.get_closest_marker("emulator") for item in session.items):
        emulator_rung.track_tests(session.items)


def _synthesize_first(config: pytest.Config, argv: list[str]) -> int:
    """``python -m platform_tooling.synth ARGV`` in this process, its output shown as it comes;
    its exit status."""
    from platform_tooling.synth import main as synthesis

    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print(f"\nsynth {' '.join(argv)} (handed over by nox -s synth):", flush=True)
        try:
            return synthesis(argv)
        except SystemExit as exc:  # bad arguments: argparse's exit
            return exc.code if isinstance(exc.code, int) else 2
        except Exception:  # what would have been the synth session's traceback and exit status 1
            traceback.print_exc()
            return 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A failed synthesis fails the run, as ``nox -s synth`` would have, whatever the tests did."""
    passed = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    if session.config.stash.get(_SYNTH_STATUS, 0) and session.exitstatus in passed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_runtest_logfinish(nodeid: str) -> None:
    emulator_rung.test_finished(nodeid)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Emulator tests deploy for minutes: they run only when selected with ``-m emulator``, the
    tests of the packages deployed first first (:func:`.emulator.order_tests`). Otherwise they
    are deselected (not skipped), so a plain ``pytest`` run reports what it ran."""
    if "emulator" in (config.option.markexpr or ""):
        if any(item.get_closest_marker("emulator") for item in items):
            emulator_rung.order_tests(items)
        return
    kept = [item for item in items if item.get_closest_marker("emulator") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up how long each package's emulator tests ran (their calls, not the deployment)."""
    if report.when == "call" and "emulator" in report.keywords:
        parts = report.nodeid.split("/")
        package = parts[parts.index("packages") + 1] if "packages" in parts else parts[0]
        emulator_timings.TEST_SECONDS[package] = emulator_timings.TEST_SECONDS.get(package, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print where each package's time went on the emulator, and a failed handed-over synthesis."""
    for line in emulator_timings.lines():
        terminalreporter.write_line(line)
    status = terminalreporter.config.stash.get(_SYNTH_STATUS, 0)
    if status:
        terminalreporter.write_line(f"synthesis (handed over by nox -s synth) failed: exit status {status}", red=True)


@pytest.fixture(scope="session")
def synth() -> Callable[..., SynthResult]:
    """``synth("security-baseline", overrides={...})``: synthesized once per session and inputs."""

    def _synth(name: str, *, environment: str = "dev", overrides: dict[str, Any] | None = None) -> SynthResult:
        return synthesize(name, environment=environment, overrides=overrides)

    return _synth
