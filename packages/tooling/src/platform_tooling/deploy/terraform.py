"""Run Terraform on synthesized stacks, offline from a provider mirror when one is configured.

``TF_PROVIDER_MIRROR``: a Terraform filesystem-mirror folder (``<host>/<namespace>/<type>/...``)
holding the pinned provider. When set, a CLI configuration is written that installs hashicorp
providers from it only; otherwise providers come from the public registry. Either way a shared
plugin cache links the provider into every stack instead of copying it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tooling.synth import repo_root

MIRROR_VARIABLE = "TF_PROVIDER_MIRROR"

GO_RUNTIME = {"GOGC": "400", "GOMEMLIMIT": "1GiB"}
"""Go's collector settings for Terraform and the provider plugins it starts (unless the caller's
environment sets them): each process builds the AWS provider's whole schema, and with Go's
default (``GOGC=100``) much of a short call's CPU is collection. Collecting at four times the
live heap instead took 18 % less CPU per plan (measured: 6.3 s -> 5.2 s CPU for a plan that
only starts the provider); ``GOMEMLIMIT`` makes the collector work harder again before a
process passes 1 GiB."""


@dataclass(frozen=True)
class Call:
    """One Terraform process: its tag (appended to the provider's User-Agent), folder, command, span."""

    tag: str
    workdir: Path
    command: str
    started: float
    ended: float
    cpu_s: float = 0.0
    slowest: tuple[tuple[str, float], ...] = ()
    """The resources that took longest to create, change or destroy: (address, seconds)."""


_COMPLETE = re.compile(r"^(\S+): (?:Creation|Modifications|Destruction) complete after (?:(\d+)h)?(?:(\d+)m)?(\d+)s")


def slowest(output: str, count: int = 5) -> tuple[tuple[str, float], ...]:
    """The ``count`` slowest resources of an apply or destroy, from Terraform's output (plain, or
    the ``@message`` of each ``-json`` line): where the provider waited."""
    found: list[tuple[str, float]] = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                line = str(json.loads(line).get("@message", ""))
            except ValueError:  # a policy document in an error message, not a -json line
                continue
        match = _COMPLETE.match(line)
        if match:
            hours, minutes, seconds = (int(part or 0) for part in match.groups()[1:])
            found.append((match.group(1), float(3600 * hours + 60 * minutes + seconds)))
    return tuple(sorted(found, key=lambda item: -item[1])[:count])


CALLS: list[Call] = []
"""Every Terraform call of this process, for the emulator's time split and the benchmark."""
_CALLS_LOCK = threading.Lock()
_NUMBERS = itertools.count(1)


class TerraformError(RuntimeError):
    """A Terraform command failed or timed out; the message holds its output's tail."""


def tool_dir() -> Path:
    """The git-ignored folder for generated tool files (``<repository>/.platform``)."""
    path = repo_root(Path(__file__)) / ".platform"
    path.mkdir(exist_ok=True)
    return path


def cli_config(mirror: str | None = None) -> Path:
    """Write the Terraform CLI configuration for ``mirror`` (default: ``$TF_PROVIDER_MIRROR``)."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_VARIABLE, "")
    cache = tool_dir() / "plugin-cache"
    cache.mkdir(exist_ok=True)
    lines = [
        f"plugin_cache_dir = {json.dumps(str(cache))}",
        "plugin_cache_may_break_dependency_lock_file = true",
    ]
    if mirror:
        if not Path(mirror).is_dir():
            raise TerraformError(f"{MIRROR_VARIABLE}={mirror!r} is not a folder")
        lines += [
            "provider_installation {",
            f"  filesystem_mirror {{\n    path    = {json.dumps(mirror)}\n"
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }',
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }',
            "}",
        ]
    path = tool_dir() / ("terraform-mirror.rc" if mirror else "terraform.rc")
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Terraform: this process's, the CLI config, no prompts or telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config()),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    for name, value in GO_RUNTIME.items():
        env.setdefault(name, value)
    env.update(extra or {})
    return env


def _spawn(command: list[str], env: Mapping[str, str], timeout_s: float, nice: int = 0) -> tuple[int, str, str, float]:
    """Run ``command`` (``nice``: that much lower a scheduling priority, for it and the provider
    plugins it starts); its exit code, output, error output and CPU seconds (its own and those of
    the processes it waited for: the provider plugins). Raises ``TimeoutExpired`` (after a kill)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=dict(env), stdout=out, stderr=err)
        if nice and hasattr(os, "setpriority"):
            # Set from here, not in the child before exec: this process runs threads. Terraform
            # starts its provider plugins later, and they inherit it.
            with contextlib.suppress(OSError):  # the process may already be gone
                os.setpriority(os.PRIO_PROCESS, process.pid, os.getpriority(os.PRIO_PROCESS, 0) + nice)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            process.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
        if expired.is_set():
            raise subprocess.TimeoutExpired(command, timeout_s)
        out.seek(0)
        err.seek(0)
        text = (out.read().decode(errors="replace"), err.read().decode(errors="replace"))
        return process.returncode, text[0], text[1], usage.ru_utime + usage.ru_stime


@dataclass
class Terraform:
    """Terraform in one stack folder."""

    workdir: Path
    env: dict[str, str]
    timeout_s: int = 1800
    nice: int = 0
    """How much lower than this process's its scheduling priority is (0: the same)."""

    def run(
        self, *args: str, ok_codes: Sequence[int] = (0,), timeout_s: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``terraform <args>``; raise :class:`TerraformError` on another exit code or a timeout.

        The provider appends ``platform-call/<n>`` to its User-Agent, so that the emulator can
        tell which call each request belongs to; :data:`CALLS` records the call's span and the
        CPU time of Terraform and its provider processes.
        """
        command = ["terraform", f"-chdir={self.workdir}", *args]
        tag = f"{os.getpid()}.{next(_NUMBERS)}"
        env = {**self.env, "TF_APPEND_USER_AGENT": f"platform-call/{tag}"}
        started = time.time()
        cpu, stdout = 0.0, ""
        try:
            code, stdout, stderr, cpu = _spawn(command, env, timeout_s or self.timeout_s, self.nice)
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(
                f"terraform {args[0]} in {self.workdir.name} timed out after {exc.timeout} s"
            ) from None
        finally:
            waited = slowest(stdout) if args[0] in ("apply", "destroy") else ()
            with _CALLS_LOCK:
                CALLS.append(Call(tag, self.workdir, args[0], started, time.time(), cpu, waited))
        done = subprocess.CompletedProcess(command, code, stdout, stderr)
        if done.returncode not in ok_codes:
            tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-60:])
            raise TerraformError(f"terraform {' '.join(args)} in {self.workdir.name} exited {done.returncode}:\n{tail}")
        return done

    def init(self, *, backend: bool = True) -> None:
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        self.run(*args, timeout_s=600)

    def validate(self) -> dict[str, Any]:
        """``terraform validate -json``; raises with Terraform's diagnostics when invalid."""
        done = self.run("validate", "-json", "-no-color", ok_codes=(0, 1))
        result: dict[str, Any] = json.loads(done.stdout)
        if not result.get("valid"):
            messages = [
                f"{d.get('severity')}: {d.get('summary')}: {d.get('detail', '')} "
                f"({(d.get('range') or {}).get('filename', '')})"
                for d in result.get("diagnostics", [])
            ]
            raise TerraformError(f"{self.workdir.name} is not valid:\n" + "\n".join(messages))
        return result

    def apply(self, parallelism: int = 30) -> None:
        self.run("apply", "-auto-approve", "-no-color", "-input=false", f"-parallelism={parallelism}")

    def plan(self, plan_file: str, parallelism: int = 30, *, destroy: bool = False) -> bool:
        """``terraform plan -out=<plan_file>``; True when it would change anything."""
        args = ["plan", "-detailed-exitcode", "-no-color", "-input=false", f"-parallelism={parallelism}"]
        done = self.run(*args, *(["-destroy"] if destroy else []), f"-out={plan_file}", ok_codes=(0, 2))
        return done.returncode == 2

    def show(self, plan_file: str) -> dict[str, Any]:
        """The saved plan as JSON (``terraform show -json``)."""
        return json.loads(self.run("show", "-json", plan_file).stdout)  # type: ignore[no-any-return]

    def apply_plan(self, plan_file: str, parallelism: int = 30) -> None:
        """Apply a saved plan: exactly the changes that were shown, or nothing if the state moved."""
        self.run("apply", "-no-color", "-input=false", f"-parallelism={parallelism}", plan_file)

    def apply_now(self, parallelism: int = 30) -> list[dict[str, Any]]:
        """Plan and apply in one process (``apply -auto-approve -json``), for a run whose plans are
        approved in advance; Terraform's machine-readable messages, in order. On failure the
        error is Terraform's error diagnostics, one line each."""
        args = ["apply", "-auto-approve", "-json", "-input=false", f"-parallelism={parallelism}"]
        done = self.run(*args, ok_codes=(0, 1))
        messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0:
            errors = [m["diagnostic"] for m in messages if m.get("type") == "diagnostic" and m["@level"] == "error"]
            lines = [f"{d.get('address', '')}: {d.get('summary')}: {d.get('detail', '')}".lstrip(": ") for d in errors]
            tail = "\n".join(lines or done.stderr.strip().splitlines()[-60:])
            raise TerraformError(f"terraform apply in {self.workdir.name} exited {done.returncode}:\n{tail}")
        return messages

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs by name (``terraform output -json``)."""
        found = json.loads(self.run("output", "-json").stdout or "{}")
        return {name: item.get("value") for name, item in found.items()}

    def plan_changes(self, parallelism: int = 30) -> dict[str, Any] | None:
        """Plan with ``-detailed-exitcode``: ``None`` when nothing would change, else the JSON plan."""
        plan_file = "drift.tfplan"
        done = self.run(
            "plan",
            "-detailed-exitcode",
            "-no-color",
            "-input=false",
            f"-parallelism={parallelism}",
            f"-out={plan_file}",
            ok_codes=(0, 2),
        )
        if done.returncode == 0:
            return None
        shown = self.run("show", "-json", plan_file)
        return json.loads(shown.stdout)  # type: ignore[no-any-return]

    def destroy(self, parallelism: int = 30, *, refresh: bool = True) -> None:
        """``terraform destroy``; ``refresh=False`` when the state was just refreshed by a plan."""
        args = ["destroy", "-auto-approve", "-no-color", "-input=false", f"-parallelism={parallelism}"]
        if not refresh:
            args.append("-refresh=false")
        self.run(*args)

    def state_resources(self) -> list[str]:
        done = self.run("state", "list", ok_codes=(0, 1))
        return [line for line in done.stdout.splitlines() if line.strip()]
