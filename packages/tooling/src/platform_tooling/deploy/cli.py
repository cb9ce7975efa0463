"""``nox -s plan|deploy -- PACKAGE ... --env ENV [--target emulator] [--yes]``.

``plan`` synthesizes the packages (the synthesis cache is reused) and plans every stack against
the configured backend; ``deploy`` plans and applies them in dependency order, showing each
stack's plan summary and asking before applying it unless told ``--yes``. A stack whose
producer has not published an output it reads stops the run before anything is applied, with
the producer, the stack and the output named (exit 3).

``--target emulator`` starts a local emulator for the run (moto, as the emulator rung runs it)
and keeps all state in a throwaway folder, never in the real backend: name the producers too
(``nox -s deploy -- security-baseline network-peering --target emulator``), or no package at
all for the whole platform. ``deploy`` then plans every stack again after its apply and fails
when anything is left to change; ``--hold`` keeps the emulator up until Enter is pressed.

Exit status: 0 done, 1 failed (Terraform, drift, a declined plan), 2 bad input, 3 refused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from platform_tooling.deploy import summary
from platform_tooling.deploy.engine import Refused, Run
from platform_tooling.deploy.workspace import Workspace
from platform_tooling.synth import DEFAULT_ENVIRONMENT, discover, repo_root, reported

_PROMPT = threading.Lock()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["plan", "deploy"])
    parser.add_argument("packages", nargs="*", help="app packages (emulator target: default every app)")
    parser.add_argument("--env", default=os.environ.get("PLATFORM_ENV", DEFAULT_ENVIRONMENT), help="config/<env>.toml")
    parser.add_argument("--target", choices=["aws", "emulator"], default="aws")
    parser.add_argument("--yes", action="store_true", help="apply without asking")
    parser.add_argument("--verify", action="store_true", help="plan again after each apply (on with the emulator)")
    parser.add_argument("--markdown", type=Path, help="also write the plan summary as Markdown to this file")
    parser.add_argument("--stack", action="append", default=[], help="only this stack (repeatable; pipelines)")
    parser.add_argument("--hold", action="store_true", help="emulator: keep it up until Enter is pressed")
    return parser


def _ask(plan: summary.StackPlan) -> bool:
    with _PROMPT:
        print(summary.text([plan]), end="", flush=True)
        try:
            answer = input(f"Apply {plan.label}? [y/N] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")


def _approve(args: argparse.Namespace) -> Any:
    if args.yes:

        def shown(plan: summary.StackPlan) -> bool:
            with _PROMPT:
                print(summary.text([plan]), end="", flush=True)
            return True

        return shown
    if not sys.stdin.isatty():
        raise SystemExit("error: deploy asks before applying and there is no terminal; pass --yes to apply unasked")
    return _ask


def _report(run: Run, args: argparse.Namespace, plans: list[summary.StackPlan], title: str) -> None:
    print(summary.text(plans), end="")
    if args.markdown:
        args.markdown.write_text(summary.markdown(plans, title=title), encoding="utf-8")
        print(f"markdown summary: {args.markdown}")


def _deploy(run: Run, args: argparse.Namespace, verify: bool) -> int:
    results = run.deploy(_approve(args), verify=verify)
    failed = {node: r for node, r in results.items() if isinstance(r, BaseException)}
    for node in run.order():
        if node in failed:
            print(f"FAILED {node}: {failed[node]}", file=sys.stderr)
    for package in run.workspaces:
        if not any(n.package == package for n in failed):
            run.write_outputs(package)
            print(f"{package}: outputs in {run.workspaces[package].directory / 'cfn-outputs' / 'flat-outputs.json'}")
    drift = 0
    if verify:
        checked = [run.outcomes[n].verified for n in run.order() if run.outcomes[n].verified is not None]
        print("\nplan after apply:")
        _report(run, args, [p for p in checked if p is not None], "Plan after apply")
        drift = sum(1 for p in checked if p is not None and not p.no_changes)
    return 1 if failed or drift else 0


def _run(args: argparse.Namespace, env: dict[str, str] | None, state_root: Path | None) -> int:
    root = repo_root()
    packages = discover(root, args.packages)
    if state_root is None:
        workspaces = [Workspace.for_aws(p, environment=args.env) for p in packages]
    else:
        workspaces = [Workspace.for_emulator(p, environment=args.env, state_root=state_root) for p in packages]
    if args.stack:
        if len(workspaces) != 1:
            raise ValueError("--stack needs exactly one package")
        workspaces = [workspaces[0].only(args.stack)]
    tolerated = None
    if args.target == "emulator":
        from platform_tooling.testing.emulator_tables import is_tolerated

        tolerated = is_tolerated
    run = Run(workspaces, env=env, tolerated=tolerated)
    print("order: " + ", ".join(str(n) for n in run.order()), flush=True)
    try:
        if args.command == "plan":
            plans = run.plan()
            _report(run, args, plans, f"Plan: {', '.join(run.workspaces)} ({args.env})")
            return 3 if any(p.refused for p in plans) else 0
        return _deploy(run, args, verify=args.verify or args.target == "emulator")
    finally:
        for workspace in workspaces:
            workspace.discard()


def _on_emulator(args: argparse.Namespace) -> int:
    from platform_tooling.deploy.emulator import Emulator

    state_root = Path(tempfile.mkdtemp(prefix="emulator-state-"))
    server = Emulator()
    print(f"emulator: {server.endpoint} (state in {state_root}, thrown away at the end)", flush=True)
    try:
        code = _run(args, server.env(), state_root)
        if args.hold:
            print(f"emulator up at {server.endpoint} (AWS_ENDPOINT_URL); press Enter to stop it", flush=True)
            input()
        return code
    finally:
        server.stop()
        shutil.rmtree(state_root, ignore_errors=True)
        shutil.rmtree(server.log.parent, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if args.target == "aws" and not args.packages:
        print("error: name the packages to plan or deploy (every app needs --target emulator)", file=sys.stderr)
        return 2

    def command() -> int:
        try:
            return _on_emulator(args) if args.target == "emulator" else _run(args, None, None)
        except Refused as exc:
            print("refused: producers have not published what these stacks read:", file=sys.stderr)
            for line in exc.problems:
                print(f"  {line}", file=sys.stderr)
            return 3

    return reported(command)
