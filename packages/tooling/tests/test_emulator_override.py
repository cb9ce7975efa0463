"""What the emulator target adds to a stack: a value for each variable that has no default."""

from __future__ import annotations

from pathlib import Path

from platform_tooling.deploy.workspace import emulator_override, emulator_variable_value


def test_variables_without_a_default_get_the_emulator_value(tmp_path: Path) -> None:
    stack = {
        "variable": {
            "analytics_external_id": {"type": "string", "sensitive": True},
            "chosen": {"type": "string", "default": "kept"},
        }
    }
    override = emulator_override(stack, tmp_path)
    assert override["variable"] == {"analytics_external_id": {"default": "emulator-analytics_external_id"}}
    assert emulator_variable_value("analytics_external_id") == "emulator-analytics_external_id"


def test_no_variable_block_for_a_stack_without_variables(tmp_path: Path) -> None:
    assert "variable" not in emulator_override({"provider": {"aws": [{"region": "us-east-1"}]}}, tmp_path)
