"""The emulator rung's order: each package's tests once it is deployed, the packages deployed
first tested first, and a package destroyed once every test that may use it has run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from platform_tooling.testing import emulator


@dataclass
class Item:
    path: Path
    nodeid: str


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``base`` is declared in the folders ``base`` and ``top`` (whose tests read it), ``top``,
    which requires ``base``, in ``top``."""
    monkeypatch.setattr(emulator, "_DECLARED", {"base": ((), None), "top": (("base",), None)})
    monkeypatch.setattr(
        emulator, "_DECLARED_IN", {"base": {tmp_path / "base", tmp_path / "top"}, "top": {tmp_path / "top"}}
    )
    monkeypatch.setattr(emulator, "_USERS", {})
    monkeypatch.setattr(emulator, "_TESTS_DONE", {})
    return tmp_path


def _item(root: Path, folder: str, name: str) -> Item:
    return Item(root / folder / "integration" / f"test_{name}.py", f"{folder}/test_{name}.py::test")


def test_the_packages_deployed_last_are_tested_last(declared: Path) -> None:
    items = [
        _item(declared, "top", "a"),
        _item(declared, "base", "b"),
        _item(declared, "other", "c"),
        _item(declared, "top", "d"),
    ]
    emulator.order_tests(items)  # type: ignore[arg-type]
    assert [item.nodeid for item in items] == [
        "other/test_c.py::test",
        "base/test_b.py::test",
        "top/test_a.py::test",
        "top/test_d.py::test",
    ]


def test_a_package_may_be_destroyed_once_every_test_that_may_use_it_ran(declared: Path) -> None:
    items = [_item(declared, "base", "b"), _item(declared, "top", "a")]
    emulator.track_tests(items)  # type: ignore[arg-type]
    done = emulator._TESTS_DONE
    assert not done["base"].is_set()
    assert not done["top"].is_set()
    emulator.test_finished("base/test_b.py::test")
    assert not done["base"].is_set()  # the tests of top read base too
    emulator.test_finished("top/test_a.py::test")
    assert done["base"].is_set()
    assert done["top"].is_set()


def test_a_package_no_selected_test_uses_may_be_destroyed_at_once(declared: Path) -> None:
    emulator.track_tests([_item(declared, "base", "b")])  # type: ignore[list-item]
    assert emulator._TESTS_DONE["top"].is_set()
    assert not emulator._TESTS_DONE["base"].is_set()
