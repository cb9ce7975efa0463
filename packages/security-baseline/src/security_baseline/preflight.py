"""Preflight: which account singletons exist already, read-only, before the baseline is applied.

``nox -s preflight -- security-baseline --env prod`` (``python -m security_baseline.preflight --env
prod``) reads every account and region of the configuration, as the deployment would reach it (the
deployer's credentials, or the account's ``assume_role_arn``): GuardDuty ListDetectors (and
GetDetector), Config DescribeConfigurationRecorders and DescribeDeliveryChannels, Security Hub
DescribeHub, CloudTrail DescribeTrails. It writes what it found to ``config/<env>.preflight.json``
and prints the adopt settings for each singleton this package did not create. Synthesis, given that
file (setting ``preflight``), refuses ``create`` where a singleton exists (:func:`check`).

What the package itself created is not in the way: a detector tagged ``App = security-baseline``,
the recorder, delivery channel and trail by the names this package gives them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import SettingsError, Strict, env_overrides, load_settings
from shared_constructs.tagging import APP_TAG

from security_baseline.settings import Settings

PACKAGE = "security-baseline"
CONFIG = Path(__file__).resolve().parents[2] / "config"


class Found(Strict):
    """The singletons of one account in one region that this package did not create."""

    detector_id: str | None = None
    recorder_name: str | None = None
    delivery_channel: str | None = None
    hub: bool = False
    trail_name: str | None = None
    """A multi-region trail whose home is this region."""
    trail_log_group: str | None = None
    """The log group that trail delivers to (``None``: none, the CIS alarms need one)."""


class AccountResult(Strict):
    """What preflight found in one account, by region."""

    id: str
    regions: dict[str, Found]


class PreflightResult(Strict):
    """The file preflight writes and synthesis reads: account label -> what was found."""

    accounts: dict[str, AccountResult]


def read(path: Path) -> PreflightResult:
    """The preflight result at ``path``; :class:`SettingsError` (one line) when missing or malformed."""
    if not path.is_file():
        raise SettingsError([f"{path.name}: preflight result not found (run nox -s preflight -- {PACKAGE})"])
    try:
        return PreflightResult.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise SettingsError([f"{path.name}: not a preflight result: {exc.errors()[0]['msg']}"]) from None


def check(settings: Settings, result: PreflightResult) -> None:
    """Raise :class:`SettingsError`, one line per singleton, where the configuration would create one
    that exists or adopts one that does not; also when the result is of other accounts."""
    problems: list[str] = []
    for label, account in settings.covered.items():
        found = result.accounts.get(label)
        if found is None or found.id != account.id:
            problems.append(f"preflight: account {label} ({account.id}) was not checked; run preflight again")
            continue
        for region in settings.account_regions(label):
            here = found.regions.get(region)
            if here is None:
                problems.append(f"preflight: {label} {region} was not checked; run preflight again")
                continue
            problems.extend(_conflicts(settings, label, region, here))
    if problems:
        raise SettingsError(problems)


def _conflicts(settings: Settings, label: str, region: str, found: Found) -> list[str]:
    where = f"accounts.{label}.region_overrides.{region}"
    regional = settings.for_account(label, region)
    problems = []
    if found.detector_id and regional.guardduty.mode == "create":
        problems.append(f"{where}.guardduty: detector {found.detector_id} exists; set mode = 'adopt' and detector_id")
    if regional.guardduty.mode == "adopt" and regional.guardduty.detector_id != found.detector_id:
        problems.append(f"{where}.guardduty.detector_id: {regional.guardduty.detector_id} is not the detector found")
    existing = found.recorder_name or found.delivery_channel
    if existing and regional.config_recorder.mode == "create":
        problems.append(f"{where}.config_recorder: {existing} exists; set mode = 'adopt' and recorder_name")
    if regional.config_recorder.mode == "adopt" and regional.config_recorder.recorder_name != found.recorder_name:
        problems.append(f"{where}.config_recorder.recorder_name: no recorder of that name was found")
    if found.hub and regional.security_hub.mode == "create":
        problems.append(f"{where}.security_hub: Security Hub is enabled; set mode = 'adopt'")
    if regional.security_hub.mode == "adopt" and not found.hub:
        problems.append(f"{where}.security_hub: mode 'adopt' but Security Hub is not enabled")
    if region == settings.home_region(label):
        trail = settings.trail_for(label)
        if found.trail_name and trail.mode == "create":
            problems.append(f"accounts.{label}.trail: trail {found.trail_name} exists; set mode = 'adopt'")
        if trail.mode == "adopt" and trail.trail_name != found.trail_name:
            problems.append(f"accounts.{label}.trail.trail_name: no multi-region trail of that name was found")
    return problems


Session = Callable[[str, str | None], Any]
"""(region, role ARN or None) -> a boto3 session acting in that account."""


def scan(settings: Settings, session: Session) -> PreflightResult:
    """Read every account and region of ``settings`` (read-only calls only)."""
    accounts = {}
    for label, account in settings.covered.items():
        qualifier = settings.qualifier(label)
        namer = Namer(f"baseline-{qualifier}" if qualifier else PACKAGE, settings.environment_suffix)
        regions = {}
        for region in settings.account_regions(label):
            aws = session(region, account.assume_role_arn)
            regions[region] = _scan_region(aws, region, namer)
        accounts[label] = AccountResult(id=account.id, regions=regions)
    return PreflightResult(accounts=accounts)


def _scan_region(aws: Any, region: str, namer: Namer) -> Found:
    guardduty, config, hub, trails = (aws.client(s) for s in ("guardduty", "config", "securityhub", "cloudtrail"))
    detector = None
    for detector_id in guardduty.list_detectors()["DetectorIds"]:
        if guardduty.get_detector(DetectorId=detector_id).get("Tags", {}).get(APP_TAG) != PACKAGE:
            detector = detector_id
    ours = {namer.name(Kind.GENERIC, "recorder", region=region), namer.name(Kind.GENERIC, "delivery", region=region)}
    recorders = [r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]]
    channels = [c["name"] for c in config.describe_delivery_channels()["DeliveryChannels"]]
    try:
        hub.describe_hub()
        enabled = True
    except hub.exceptions.ClientError as exc:  # InvalidAccessException: not subscribed
        if exc.response["Error"]["Code"] not in ("InvalidAccessException", "ResourceNotFoundException"):
            raise
        enabled = False
    own_trail = namer.name(Kind.TRAIL, "account")
    found_trail = next(
        (
            t
            for t in trails.describe_trails(includeShadowTrails=False)["trailList"]
            if t.get("IsMultiRegionTrail") and t.get("HomeRegion") == region and t["Name"] != own_trail
        ),
        None,
    )
    log_group = (found_trail or {}).get("CloudWatchLogsLogGroupArn", "")
    return Found(
        detector_id=detector,
        recorder_name=next((r for r in recorders if r not in ours), None),
        delivery_channel=next((c for c in channels if c not in ours), None),
        hub=enabled,
        trail_name=found_trail["Name"] if found_trail else None,
        trail_log_group=log_group.split(":log-group:")[-1].removesuffix(":*") or None,
    )


def adopt_settings(result: PreflightResult) -> str:
    """The TOML that adopts every singleton found (to paste into ``config/<env>.toml``)."""
    lines: list[str] = []
    for label, account in result.accounts.items():
        for region, found in account.regions.items():
            section = f"accounts.{label}.region_overrides.{region}"
            if found.detector_id:
                lines += [f"[{section}.guardduty]", 'mode = "adopt"', f'detector_id = "{found.detector_id}"', ""]
            if found.recorder_name:
                lines += [f"[{section}.config_recorder]", 'mode = "adopt"', f'recorder_name = "{found.recorder_name}"']
                lines.append("")
            if found.hub:
                lines += [f"[{section}.security_hub]", 'mode = "adopt"', ""]
            if found.trail_name:
                lines += [f"[accounts.{label}.trail]", 'mode = "adopt"', f'trail_name = "{found.trail_name}"']
                lines += [f'log_group_name = "{found.trail_log_group or "<the trail has no log group: add one>"}"', ""]
    return "\n".join(lines)


def boto3_session(region: str, role_arn: str | None) -> Any:
    """The deployer's session in ``region``, or the session of ``role_arn`` (AssumeRole)."""
    import boto3

    base = boto3.Session(region_name=region)
    if role_arn is None:
        return base
    creds = base.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="security-baseline-preflight")
    return boto3.Session(
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
        region_name=region,
    )


def main(argv: Sequence[str] | None = None, session: Session = boto3_session) -> int:
    """Scan, write ``config/<env>.preflight.json`` (or ``--out``), print the adopt settings."""
    parser = argparse.ArgumentParser(prog="preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="environment file config/<env>.toml (default dev)")
    parser.add_argument("--config", type=Path, help="read this environment file instead")
    parser.add_argument("--out", type=Path, help="where to write the result (default config/<env>.preflight.json)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(Settings, args.config or CONFIG / f"{args.env}.toml", env_overrides(os.environ))
    except SettingsError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    result = scan(settings, session)
    out = args.out or CONFIG / f"{args.env}.preflight.json"
    out.write_text(json.dumps(result.model_dump(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    adopt = adopt_settings(result)
    print(f"wrote {out}; set preflight = {out.name!r} so that synthesis checks it")
    print(adopt if adopt else "no existing singletons: every one can be created")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
