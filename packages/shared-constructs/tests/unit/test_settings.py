from __future__ import annotations

from pathlib import Path

import pytest
from shared_constructs.settings import (
    BaseSettings,
    Cidr,
    SettingsError,
    Strict,
    apply_overrides,
    env_overrides,
    load_settings,
    overlapping,
    within,
)

VALID = """
environment = "dev"
environment_suffix = "dev"
cost_center = "payments"
owner = "platform"
account_id = "123456789012"
deployer_role_arn = "arn:aws:iam::123456789012:role/deployer"
"""


class Regional(Strict):
    memory_mb: int = 256
    cidr: Cidr = "10.0.0.0/16"


class AppSettings(BaseSettings):
    regional: Regional = Regional()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "dev.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_loads_a_valid_file_with_secure_defaults(tmp_path):
    settings = load_settings(AppSettings, write(tmp_path, VALID))
    assert settings.environment_suffix == "dev"
    assert settings.protect_stateful is False
    assert settings.state.backend == "local"
    assert settings.log_retention_days == 365
    # Product settings know nothing of deployment targets (the emulator's profile lives in tooling).
    assert not any("exclu" in name for name in type(settings).model_fields)


@pytest.mark.requirement("DEP-9")
def test_environment_overrides_win_over_the_file(tmp_path):
    overrides = env_overrides(
        {
            "ENVIRONMENT_SUFFIX": "pr42",
            "STATE_BACKEND": "s3",
            "STATE_BUCKET": "tf-state",
            "STATE_REGION": "eu-west-1",
            "UNRELATED": "x",
        }
    )
    settings = load_settings(AppSettings, write(tmp_path, VALID), overrides)
    assert settings.environment_suffix == "pr42"
    assert (settings.state.backend, settings.state.bucket, settings.state.region) == ("s3", "tf-state", "eu-west-1")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('environment_suffix = "Dev_1"', "config/dev.toml: environment_suffix: got 'Dev_1'; expected 1-16 lowercase"),
        ("cost_center = 5", "config/dev.toml: cost_center: got 5;"),
        ("colour = 'blue'", "config/dev.toml: colour: unknown key"),
        ("[state]\nbackend = 's3'", "config/dev.toml: state: got"),
        ("[state]\nregion = 'us-east-9'", "config/dev.toml: state.region: got 'us-east-9'; expected an AWS region"),
        ("[regional]\ncidr = '10.0.0.1/16'", "config/dev.toml: regional.cidr: got '10.0.0.1/16'; expected an IPv4"),
        ("log_retention_days = 7", "config/dev.toml: log_retention_days: got 7;"),
        (
            'account_id = "12345678901"',
            "config/dev.toml: account_id: got '12345678901'; expected a 12-digit AWS account id",
        ),
        ("account_id = 123456789012", "config/dev.toml: account_id: got 123456789012; Input should be a valid string"),
        (
            'deployer_role_arn = "arn:aws:iam::123:user/x"',
            "config/dev.toml: deployer_role_arn: got 'arn:aws:iam::123:user/x'; expected an IAM role ARN",
        ),
    ],
)
def test_fails_on_bad_values_with_one_line_naming_file_key_and_value(tmp_path, extra, expected):
    key = extra.split("=")[0].strip()
    text = "\n".join(line for line in VALID.splitlines() if not line.startswith(f"{key} "))
    with pytest.raises(SettingsError) as caught:
        load_settings(AppSettings, write(tmp_path, text + "\n" + extra + "\n"))
    assert any(line.startswith(expected) for line in caught.value.problems), caught.value.problems


def test_fails_listing_every_problem_at_once(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings(AppSettings, write(tmp_path, 'environment = "dev"\nenvironment_suffix = "UPPER"\nextra = 1\n'))
    problems = caught.value.problems
    assert len(problems) == 6  # bad suffix, unknown key, four missing keys
    assert "config/dev.toml: cost_center: required key is missing" in problems
    assert "config/dev.toml: account_id: required key is missing" in problems
    assert "config/dev.toml: deployer_role_arn: required key is missing" in problems


@pytest.mark.parametrize(("text", "expected"), [("not toml = = ", "not valid TOML"), (None, "file not found")])
def test_fails_on_unreadable_files(tmp_path, text, expected):
    path = tmp_path / "config" / "dev.toml"
    if text is not None:
        write(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        load_settings(AppSettings, path)
    assert expected in caught.value.problems[0]


def test_region_override_changes_only_the_given_fields():
    defaults = Regional()
    overridden = apply_overrides(defaults, {"memory_mb": 1024})
    assert (overridden.memory_mb, overridden.cidr) == (1024, "10.0.0.0/16")
    assert defaults.memory_mb == 256


def test_fails_when_an_override_is_invalid():
    with pytest.raises(ValueError, match="memory_mb"):
        apply_overrides(Regional(), {"memory_mb": "lots"})


def test_cidr_helpers():
    assert overlapping(["10.0.0.0/16", "10.1.0.0/16", "10.0.128.0/17"]) == [("10.0.0.0/16", "10.0.128.0/17")]
    assert within("10.0.1.0/24", "10.0.0.0/16")
    assert not within("10.1.1.0/24", "10.0.0.0/16")
