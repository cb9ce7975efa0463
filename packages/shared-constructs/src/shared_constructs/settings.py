"""Validated settings: an environment file plus environment-variable overrides.

An app's settings are a pydantic model derived from :class:`BaseSettings`. They are read from
``config/<environment>.toml`` of the app package, then the overrides the app entry point collected
from the process environment are laid over them (see :func:`env_overrides`). Every problem is
reported at once, one line each, naming the file, the key, the value received and what was
expected; :class:`SettingsError` carries those lines.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared_constructs.naming import SUFFIX_PATTERN
from shared_constructs.regions import AWS_REGIONS

ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SettingsError(Exception):
    """Raised when configuration is invalid; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"expected an AWS region code such as us-east-1, got {value!r}")
    return value


def _check_account(value: str) -> str:
    if not ACCOUNT_PATTERN.fullmatch(value):
        raise ValueError(f"expected a 12-digit AWS account id, got {value!r}")
    return value


def _check_suffix(value: str) -> str:
    if not SUFFIX_PATTERN.fullmatch(value):
        raise ValueError(
            "expected 1-16 lowercase letters, digits or inner hyphens "
            f"(pattern {SUFFIX_PATTERN.pattern}), got {value!r}"
        )
    return value


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"expected an IPv4 network in CIDR notation, got {value!r} ({exc})") from None
    if network.version != 4:
        raise ValueError(f"expected an IPv4 network, got {value!r}")
    return value


def _check_role_arn(value: str) -> str:
    if not ROLE_ARN_PATTERN.fullmatch(value):
        raise ValueError(f"expected an IAM role ARN arn:aws:iam::<12 digits>:role/<name>, got {value!r}")
    return value


def _check_email(value: str) -> str:
    if not EMAIL_PATTERN.fullmatch(value):
        raise ValueError(f"expected an e-mail address, got {value!r}")
    return value


Region = Annotated[str, AfterValidator(_check_region)]
"""An AWS region code that exists (see :data:`shared_constructs.regions.AWS_REGIONS`)."""
AccountId = Annotated[str, AfterValidator(_check_account)]
"""A 12-digit AWS account id, as a string."""
Suffix = Annotated[str, AfterValidator(_check_suffix)]
"""The environment suffix carried by every resource name."""
Cidr = Annotated[str, AfterValidator(_check_cidr)]
"""An IPv4 network in strict CIDR notation (host bits zero)."""
RoleArn = Annotated[str, AfterValidator(_check_role_arn)]
"""An IAM role ARN."""
Email = Annotated[str, AfterValidator(_check_email)]
"""An e-mail address for SNS subscriptions."""
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


def overlapping(cidrs: Iterable[str]) -> list[tuple[str, str]]:
    """Return every pair of networks in ``cidrs`` that overlap."""
    nets = [ipaddress.ip_network(c) for c in cidrs]
    pairs = []
    for i, first in enumerate(nets):
        for second in nets[i + 1 :]:
            if first.overlaps(second):
                pairs.append((str(first), str(second)))
    return pairs


def within(cidr: str, parent: str) -> bool:
    """True when network ``cidr`` lies inside network ``parent``."""
    return ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(parent))  # type: ignore[arg-type]


class Problems:
    """Collects the problems a settings model finds across its fields, each at its own key.

    The one way settings check what spans several fields: a ``model_validator(mode="after")``
    adds every problem with :meth:`add` and ends with :meth:`raise_if_any`, so a bad file is
    reported in full, one line per problem (``config/dev.toml: trading.vpc_cidr: got ...; expected ...``).
    """

    def __init__(self) -> None:
        self.items: list[InitErrorDetails] = []

    def add(self, loc: tuple[str | int, ...], value: Any, message: str) -> None:
        """Report ``value`` at key ``loc`` (relative to the model being validated) with ``message``."""
        error = PydanticCustomError("settings", "{message}", {"message": message})
        self.items.append(InitErrorDetails(type=error, loc=loc, input=value))

    def extend(self, prefix: tuple[str | int, ...], error: ValidationError) -> None:
        """Report every problem of ``error`` (raised validating a part of the settings) under ``prefix``."""
        for item in error.errors(include_url=False):
            message = str(item["msg"]).removeprefix("Value error, ")
            self.add((*prefix, *item["loc"]), item["input"], message)

    def raise_if_any(self, title: str) -> None:
        """Raise all collected problems as one validation error (nothing when there are none)."""
        if self.items:
            raise ValidationError.from_exception_data(title, self.items)


class Strict(BaseModel):
    """Base for every settings section: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StateSettings(Strict):
    """Where Terraform state lives."""

    backend: Literal["local", "s3"] = "local"
    """``local`` (default): state under ``.state/`` at the repository root. ``s3``: a team bucket."""
    local_dir: str | None = None
    """Absolute folder for local state. Default: ``<repository>/.state``, written relative to the
    stack folder so synthesized output carries no machine path."""
    bucket: str | None = None
    """S3 state bucket (required with ``backend = "s3"``)."""
    region: Region | None = None
    """Region of the S3 state bucket (required with ``backend = "s3"``)."""
    kms_key_id: str | None = None
    """KMS key for state encryption. Default: the bucket's default encryption (SSE-S3 or SSE-KMS)."""

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> StateSettings:
        if self.backend == "s3":
            missing = [k for k in ("bucket", "region") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"backend 's3' needs {', '.join(missing)}")
        return self


class BaseSettings(Strict):
    """Settings every app shares. Apps subclass it and add their own sections."""

    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    """Environment name, used for the ``Environment`` tag only (never in resource names)."""
    environment_suffix: Suffix
    """Suffix of every resource name; overridden by ``ENVIRONMENT_SUFFIX``."""
    cost_center: str = Field(min_length=1, max_length=64)
    owner: str = Field(min_length=1, max_length=64)
    data_classification: Literal["public", "internal", "confidential", "restricted", "cardholder"] = "confidential"
    protect_stateful: bool = False
    """Turn on deletion protection and ``prevent_destroy`` for tables, buckets, keys and databases."""
    log_retention_days: Literal[
        30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
    ] = 365
    """Retention of CloudWatch log groups (an allowed CloudWatch value; 365 by default for PCI DSS 10.5.1)."""
    extra_tags: dict[str, str] = Field(default_factory=dict)
    """Tags added to the required set on every resource."""
    state: StateSettings = StateSettings()
    account_id: AccountId
    """The AWS account the app deploys into (12 digits). Every AWS provider of the app is limited to
    it (``allowed_account_ids``; another account's providers to that account), so credentials of
    the wrong account fail at plan time instead of changing that account."""
    deployer_role_arn: RoleArn
    """The role that runs Terraform for this app. Keys that keep the account root away from their data
    name it where Terraform reads back what it wrote (SSM SecureString values, secret versions), and
    the policy rules check that every key lets it do what applying needs."""


S = TypeVar("S", bound=BaseSettings)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base`` recursively; tables merge, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect the overrides the platform honours from a process environment.

    ``ENVIRONMENT_SUFFIX``; ``STATE_BACKEND``, ``STATE_BUCKET``, ``STATE_REGION``,
    ``STATE_KMS_KEY_ID``, ``STATE_DIR``. Only app entry points call this.
    """
    result: dict[str, Any] = {}
    if environ.get("ENVIRONMENT_SUFFIX"):
        result["environment_suffix"] = environ["ENVIRONMENT_SUFFIX"]
    state = {
        key: environ[var]
        for key, var in (
            ("backend", "STATE_BACKEND"),
            ("bucket", "STATE_BUCKET"),
            ("region", "STATE_REGION"),
            ("kms_key_id", "STATE_KMS_KEY_ID"),
            ("local_dir", "STATE_DIR"),
        )
        if environ.get(var)
    }
    if state:
        result["state"] = state
    return result


def _format_loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.startswith("function-after") or item.startswith("literal["):
            continue
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _value_at(data: Any, loc: tuple[int | str, ...]) -> Any:
    current = data
    for item in loc:
        try:
            current = current[item]
        except (KeyError, IndexError, TypeError):
            return None
    return current


def format_errors(source: str, error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    """One line per pydantic error: ``source: key: got value; expected ...``."""
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        key = _format_loc(loc)
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            lines.append(f"{source}: {key}: unknown key (remove it or check its spelling)")
        elif item["type"] == "missing":
            lines.append(f"{source}: {key}: required key is missing")
        else:
            lines.append(f"{source}: {key}: got {_value_at(data, loc)!r}; {message}")
    return lines


def load_settings(
    model: type[S],
    config_file: Path,
    overrides: Mapping[str, Any] | None = None,
) -> S:
    """Read ``config_file`` (TOML), lay ``overrides`` over it and validate against ``model``.

    Raises :class:`SettingsError` listing every problem when anything is wrong.
    """
    source = config_file.name if config_file.parent.name != "config" else f"config/{config_file.name}"
    if not config_file.is_file():
        raise SettingsError([f"{source}: file not found (expected an environment file in config/)"])
    try:
        data: dict[str, Any] = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{source}: not valid TOML: {exc}"]) from None
    merged = deep_merge(data, overrides or {})
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(format_errors(source, exc, merged)) from None


M = TypeVar("M", bound=Strict)


def apply_overrides(defaults: M, override: Mapping[str, Any]) -> M:
    """Return ``defaults`` with ``override`` merged over it, validated again.

    Used for per-region overrides: ``region_overrides = {"eu-west-1": {...}}`` in an app's
    settings resolves to a full regional section for that region only.
    """
    return type(defaults).model_validate(deep_merge(defaults.model_dump(), override))


R = TypeVar("R", bound=Strict)


class MultiRegionSettings(BaseSettings, Generic[R]):
    """Settings of an app that deploys to several regions: regional values with per-region overrides.

    ``regional`` holds the values every region gets; ``region_overrides`` changes some of them for
    one region (``[region_overrides.eu-west-1] api_rate_limit = 500``); :meth:`for_region` resolves
    a region. An app subclasses ``MultiRegionSettings[ItsRegionalSettings]`` and gives ``regions``
    and ``primary_region`` its defaults (from :mod:`shared_constructs.regions`).
    """

    regions: tuple[Region, ...]
    """Regions that get the app's regional stacks, in deployment order. At least one, none twice."""
    primary_region: Region
    """The region of what exists once (global stacks, account-wide resources); one of ``regions``."""
    regional: R
    """Values for every region. Default: the regional model's defaults."""
    region_overrides: dict[Region, dict[str, Any]] = Field(default_factory=dict)
    """Per region, values laid over ``regional`` (any of its keys). Default: none."""

    @model_validator(mode="before")
    @classmethod
    def _regional_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "regional" not in data:
            return {**data, "regional": {}}
        return data

    @model_validator(mode="after")
    def _regions_agree(self) -> MultiRegionSettings[R]:
        problems = Problems()
        repeated = sorted({r for r in self.regions if self.regions.count(r) > 1})
        if not self.regions or repeated:
            problems.add(("regions",), list(self.regions), "expected at least one region, none of them twice")
        if self.primary_region not in self.regions:
            problems.add(("primary_region",), self.primary_region, f"expected one of regions {list(self.regions)}")
        for region, override in self.region_overrides.items():
            if region not in self.regions:
                problems.add(("region_overrides", region), override, f"expected a region of {list(self.regions)}")
                continue
            try:
                apply_overrides(self.regional, override)
            except ValidationError as exc:
                problems.extend(("region_overrides", region), exc)
        problems.raise_if_any(type(self).__name__)
        return self

    def for_region(self, region: str) -> R:
        """The values of ``region``: ``regional`` with that region's override laid over it."""
        if region not in self.regions:
            raise ValueError(f"region {region!r} is not one of regions {list(self.regions)}")
        return apply_overrides(self.regional, self.region_overrides.get(region, {}))

    @property
    def secondary_regions(self) -> tuple[str, ...]:
        """``regions`` without the primary region, in order."""
        return tuple(r for r in self.regions if r != self.primary_region)
