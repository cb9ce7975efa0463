"""The snapshot tests every app package runs: one reviewed JSON snapshot per stack per environment.

An app's ``tests/test_snapshot.py`` binds the three tests this module makes to its own names, so
pytest collects them there and syrupy keeps their snapshots beside that module, one file per test
id (``test_stack_matches_snapshot[<environment>-<stack id>]``)::

    test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot = (
        snapshot_tests("pci-platform", __name__, __file__, {"pci-platform": "pci-platform"})
    )

Environments are the package's ``config/*.toml`` files (:func:`platform_tooling.cache.environments`);
``dev`` and ``prod`` must both be among them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from platform_tooling.cache import environments
from platform_tooling.synth import SynthResult

REQUIRED_ENVIRONMENTS = frozenset({"dev", "prod"})
"""Environment files every app has, so each is snapshotted."""

Synth = Callable[..., SynthResult]


def snapshot_tests(
    package: str,
    module: str,
    test_file: str,
    stacks: Mapping[str, str] | Callable[[str], Mapping[str, str]],
    *,
    only_in: Mapping[str, Collection[str]] | None = None,
) -> tuple[Callable[..., None], ...]:
    """The tests of ``package``, collected in ``module`` (its ``__name__``, file ``test_file``).

    ``stacks``: test id -> the stack's name; the id names the snapshot file, so it must not change
    for a stack that keeps its snapshot. A function of the environment name where the environments
    have different stacks (security-baseline: one per configured account and region). ``only_in``:
    test id -> the environments that have that stack (a stack a setting turns on). Default: every
    stack in every environment.
    """
    found = environments(Path(test_file).resolve().parents[1])
    listed = {e: stacks(e) if callable(stacks) else stacks for e in found}
    if not all(listed.values()):
        raise ValueError(f"{package}: snapshot_tests needs at least one stack")
    limited = dict(only_in or {})
    unknown = sorted(set(limited) - {key for names in listed.values() for key in names})
    if unknown:
        raise ValueError(f"{package}: only_in names stacks that are not listed: {', '.join(unknown)}")
    named = {
        e: {key: name for key, name in names.items() if key not in limited or e in limited[key]}
        for e, names in listed.items()
    }

    def test_every_environment_file_is_snapshotted() -> None:
        assert set(found) >= REQUIRED_ENVIRONMENTS

    @pytest.mark.parametrize("environment", found)
    def test_stack_names(synth: Synth, environment: str) -> None:
        assert sorted(synth(package, environment=environment).stacks) == sorted(named[environment].values())

    cases = [pytest.param(e, name, id=f"{e}-{key}") for e in found for key, name in named[e].items()]

    @pytest.mark.parametrize(("environment", "stack"), cases)
    def test_stack_matches_snapshot(synth: Synth, snapshot: SnapshotAssertion, environment: str, stack: str) -> None:
        received: dict[str, Any] = synth(package, environment=environment).stacks[stack]
        assert received == snapshot.use_extension(JSONSnapshotExtension)

    tests = (test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot)
    for test in tests:
        # syrupy and pytest's reports name the module that collects the test, not this one.
        test.__module__ = module
        test.__qualname__ = test.__name__
    return tests
