"""What a synthesized stack reads from other stacks, and whether their producers published it.

A stack reads another stack's outputs through ``terraform_remote_state`` data sources
(``shared_constructs.state.RemoteOutputs``, and cdktf's cross-stack references): the data source
names the producer's state (``<package>/<suffix>/<stack>.tfstate``, a local path or an S3 key)
and the stack refers to ``data.terraform_remote_state.<source>.outputs.<output>``. This is what
the synthesized stack says it reads, whatever code wrote it, so the check holds for every way a
package declares what it consumes.

:func:`unpublished` looks into each producer's state (the local file, or the S3 object with the
caller's credentials) and names every output read that is not there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

_STATE = re.compile(r"(?:^|/)([a-z0-9][a-z0-9-]*)/[A-Za-z0-9_-]+/([A-Za-z0-9_.-]+)\.tfstate$")
_REFERENCE = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")


@dataclass(frozen=True, order=True)
class Read:
    """One output a stack reads from another stack's state."""

    producer: str
    """The producer's package."""
    stack: str
    """The producer's stack."""
    output: str
    source: str
    """The ``terraform_remote_state`` data source it is read through."""


def producer_of(config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(package, stack) of the state a remote-state data source's ``config`` names."""
    location = str(config.get("path") or config.get("key") or "")
    match = _STATE.search(location)
    return (match.group(1), match.group(2)) if match else None


def reads(stack: Mapping[str, Any]) -> list[Read]:
    """Every output ``stack`` (synthesized JSON) reads from another stack's state."""
    sources: dict[str, tuple[str, str]] = {}
    for name, source in stack.get("data", {}).get("terraform_remote_state", {}).items():
        found = producer_of(source.get("config", {}))
        if found is None:
            raise ValueError(f"remote state {name}: cannot tell the producer from {source.get('config')!r}")
        sources[name] = found
    text = json.dumps({k: v for k, v in stack.items() if k != "//"})
    found_reads = {Read(*sources[s], o, s) for s, o in _REFERENCE.findall(text) if s in sources}
    return sorted(found_reads)


def read_state(backend: str, config: Mapping[str, Any], *, base: Path) -> dict[str, Any] | None:
    """The state a remote-state data source points at, or ``None`` when it does not exist yet.

    A local path is relative to ``base`` (the stack's folder, where Terraform runs); an S3 state
    is read with the caller's credentials (``AWS_ENDPOINT_URL`` points boto3 at an emulator).
    """
    if backend == "local":
        path = base / str(config["path"])
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None  # type: ignore[no-any-return]
    if backend == "s3":
        import boto3
        from botocore.exceptions import ClientError

        client = boto3.client("s3", region_name=str(config.get("region") or "us-east-1"))
        try:
            body = client.get_object(Bucket=config["bucket"], Key=config["key"])["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)  # type: ignore[no-any-return]
    raise ValueError(f"remote state backend {backend!r} is not supported; expected local or s3")


def unpublished(
    consumer: str,
    stack: Mapping[str, Any],
    sources: Mapping[str, tuple[str, Mapping[str, Any]]],
    base: Path,
    *,
    skip: Callable[[Read], bool] | None = None,
) -> list[str]:
    """One line per output ``stack`` reads that its producer has not published.

    ``consumer``: ``<package>/<stack>`` for the messages. ``sources``: the effective backend and
    config of each remote-state data source (a target may move state elsewhere). ``skip``: reads
    not to check (those whose producer the same run deploys first).
    """
    problems = []
    states: dict[str, dict[str, Any] | None] = {}
    for read in reads(stack):
        if skip is not None and skip(read):
            continue
        backend, config = sources[read.source]
        if read.source not in states:
            states[read.source] = read_state(backend, config, base=base)
        state = states[read.source]
        where = str(config.get("path") or f"s3://{config.get('bucket')}/{config.get('key')}")
        if state is None:
            why = f"it has no state yet ({PurePosixPath(where).name})"
        elif read.output not in state.get("outputs", {}):
            why = "its state has no such output"
        else:
            continue
        problems.append(
            f"{consumer} reads output {read.output!r} of {read.producer} stack {read.stack!r}, which has not "
            f"published it ({why}): deploy {read.producer} first"
        )
    return problems
