"""The synthesis cache: what changes its key, and what does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_tooling import cache


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A minimal repository: one app, the library, the tooling's modules and a lock file."""
    for path, text in {
        "poetry.lock": "lock 1",
        "packages/shared-constructs/pyproject.toml": "[project]",
        "packages/shared-constructs/src/shared_constructs/naming.py": "LIMIT = 63",
        "packages/tooling/src/platform_tooling/synth.py": "# synth",
        "packages/tooling/src/platform_tooling/testing/emulator.py": "# harness",
        "packages/app/cdktf.json": "{}",
        "packages/app/config/dev.toml": 'environment = "dev"',
        "packages/app/config/prod.toml": 'environment = "prod"',
        "packages/app/src/app/stack.py": "# stack",
        "packages/app/lambdas/fn/handler.py": "# handler",
        "packages/app/tests/test_stack.py": "# a test",
        "packages/app/README.md": "# readme",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def digest(repo: Path, environment: str = "dev", overrides: dict[str, object] | None = None) -> str:
    return cache.inputs_digest(repo, repo / "packages" / "app", environment, overrides or {})


@pytest.mark.parametrize(
    "changed",
    [
        "poetry.lock",
        "packages/shared-constructs/src/shared_constructs/naming.py",
        "packages/tooling/src/platform_tooling/synth.py",
        "packages/app/config/dev.toml",
        "packages/app/src/app/stack.py",
        "packages/app/lambdas/fn/handler.py",
    ],
)
def test_a_changed_input_changes_the_key(repo: Path, changed: str) -> None:
    before = digest(repo)
    (repo / changed).write_text((repo / changed).read_text() + "\n# changed")
    assert digest(repo) != before


@pytest.mark.parametrize(
    "changed",
    [
        "packages/app/tests/test_stack.py",
        "packages/app/README.md",
        "packages/tooling/src/platform_tooling/testing/emulator.py",
    ],
)
def test_what_synthesis_does_not_read_leaves_the_key(repo: Path, changed: str) -> None:
    before = digest(repo)
    (repo / changed).write_text("# changed")
    assert digest(repo) == before


def test_environment_and_overrides_are_part_of_the_key(repo: Path) -> None:
    keys = {digest(repo), digest(repo, "prod"), digest(repo, overrides={"environment_suffix": "pr7"})}
    assert len(keys) == 3


def test_lookup_accepts_only_the_same_digest(tmp_path: Path) -> None:
    assert cache.lookup(tmp_path, "abc") is None
    (tmp_path / cache.STAMP).write_text(json.dumps(cache.stamp("app", "dev", "abc")))
    assert cache.lookup(tmp_path, "abc") == tmp_path
    assert cache.lookup(tmp_path, "abd") is None


def test_environments_are_the_config_files(repo: Path) -> None:
    assert cache.environments(repo / "packages" / "app") == ["dev", "prod"]


def test_writers_of_one_entry_take_turns_with_the_lock_beside_the_entry(tmp_path: Path):
    import threading
    import time

    folder = tmp_path / "cache" / "app" / "dev"
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with cache.writing(folder):
            order.append("first in")
            inside.set()
            time.sleep(0.3)
            order.append("first out")

    def second() -> None:
        inside.wait(5)
        with cache.writing(folder):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]
    assert (folder.parent / ".dev.lock").is_file()
    assert not folder.exists()  # the lock sits beside the entry, not in it
