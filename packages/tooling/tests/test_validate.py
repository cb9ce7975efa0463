"""The validate rung: every stack checked by one real Terraform process, each error charged to
its own stack (stacks of Terraform's built-in ``terraform_data``: nothing to install)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_tooling.deploy.terraform import base_env
from platform_tooling.testing.validate import root_document, validate_together


def _stack(root: Path, name: str, document: dict[str, Any]) -> Path:
    folder = root / "synth" / "app" / "dev" / "stacks" / name
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps(document))
    return folder


def _valid(name: str) -> dict[str, Any]:
    return {
        "terraform": {"backend": {"local": {"path": f"{name}.tfstate"}}},
        "resource": {"terraform_data": {"record": {"input": name}}},
        "output": {"value": {"value": "${terraform_data.record.output}"}},
    }


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[Path, str | None]]:
    root = tmp_path_factory.mktemp("validate")
    broken = _valid("broken")
    broken["output"]["value"]["value"] = "${terraform_data.missing.output}"
    with_variable = _valid("with-variable")
    with_variable["variable"] = {"external_id": {"type": "string"}, "count_of": {"type": "number", "default": 1}}
    with_variable["resource"]["terraform_data"]["record"]["input"] = "${var.external_id}"
    importing = _valid("importing")
    importing["import"] = [{"to": "terraform_data.record", "id": "x"}]
    folders = {
        "first": _stack(root, "first", _valid("first")),
        "broken": _stack(root, "broken", broken),
        "with-variable": _stack(root, "with-variable", with_variable),
        "importing": _stack(root, "importing", importing),
    }
    return folders, validate_together(list(folders.values()), root / "tool" / "validate" / "key", base_env())


def test_valid_stacks_pass_their_backend_and_required_variables_as_modules(validated) -> None:
    folders, results = validated
    assert results[folders["first"]] is None
    assert results[folders["with-variable"]] is None


def test_an_error_is_charged_to_its_own_stack_only(validated) -> None:
    folders, results = validated
    error = results[folders["broken"]]
    assert error is not None
    assert "Reference to undeclared resource" in error
    assert "terraform_data.missing" not in (results[folders["first"]] or "")


def test_a_stack_with_root_only_blocks_is_refused_with_the_reason(validated) -> None:
    folders, results = validated
    assert results[folders["importing"]] == (
        "error: import blocks are allowed in a root module only; validate cannot check this stack"
    )


def test_the_root_refers_to_each_stack_in_place_and_fills_variables_without_defaults(tmp_path: Path) -> None:
    document = {"variable": {"name": {"type": "string"}, "ids": {"type": "list(string)"}, "n": {"default": 1}}}
    folder = _stack(tmp_path, "one", document)
    root = root_document(tmp_path / "tool" / "validate", {"stack_0": folder}, {"aws": {"version": "5.100.0"}})
    assert root == {
        "terraform": {"required_providers": {"aws": {"version": "5.100.0"}}},
        "module": {"stack_0": {"source": "../../synth/app/dev/stacks/one", "name": "validate", "ids": []}},
    }
