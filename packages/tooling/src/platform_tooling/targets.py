"""Deployment targets: what a target cannot create, taken out of the synthesized Terraform JSON.

The product synthesizes one configuration, the one AWS runs; it never asks where it is deployed.
A :class:`Target` other than :data:`AWS` (the emulator's, in
:mod:`platform_tooling.testing.emulator_tables`) lists what it cannot create, each with its reason.
:func:`apply_target` removes those resources, blocks or attributes from the synthesized stacks,
together with everything that refers to what was removed: resources, data sources, locals and
outputs of the same stack, and, through the outputs a stack publishes, what other stacks read
from it. ``depends_on`` entries on removed resources are dropped; attributes named in an
exclusion's ``detach`` are dropped instead of their resource. Policy rules run on the product's
configuration before a target is applied.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Stacks = Mapping[str, Mapping[str, Any]]
Address = tuple[str, str]
"""(stack name, address): ``type.name``, ``data.type.name``, ``local.name`` or ``output.name``."""


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    """Something a target cannot create, and why.

    ``type``: the resource type. ``block``: drop only this block or attribute of it (the resource
    stays). ``where``: top-level attribute values a resource must have to be excluded. Default:
    every resource of the type. ``detach``: attributes of dependents that are dropped instead of
    the dependent (an optional reference, such as a record's ``health_check_id``).
    ``companions``: finds what stands for the excluded part without referring to it (a lookup by
    name in a region where the excluded block would have created the thing looked up).
    """

    type: str
    reason: str
    block: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    detach: tuple[str, ...] = ()
    companions: Callable[[Stacks], set[Address]] | None = None

    @property
    def label(self) -> str:
        return f"{self.type}.{self.block}" if self.block else self.type

    def matches(self, type_: str, config: Mapping[str, Any]) -> bool:
        return type_ == self.type and all(config.get(k) == v for k, v in self.where.items())


@dataclass(frozen=True)
class Target:
    """Where stacks are deployed; ``exclusions``: what that place cannot create."""

    name: str
    exclusions: tuple[Exclusion, ...] = ()


AWS = Target("aws")
"""Real AWS: the product's configuration, unchanged."""


@dataclass
class Applied:
    """The stacks for a target, and what was taken out of each (address -> reason)."""

    stacks: dict[str, dict[str, Any]]
    removed: dict[str, dict[str, str]]

    def report(self) -> dict[str, Any]:
        return {stack: dict(sorted(items.items())) for stack, items in sorted(self.removed.items()) if items}


def _elements(doc: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every addressable element of a stack document with its address."""
    for type_, items in doc.get("resource", {}).items():
        for name, config in items.items():
            yield f"{type_}.{name}", config
    for type_, items in doc.get("data", {}).items():
        for name, config in items.items():
            yield f"data.{type_}.{name}", config
    for name, value in doc.get("locals", {}).items():
        yield f"local.{name}", value
    for name, config in doc.get("output", {}).items():
        yield f"output.{name}", config


def _pattern(addresses: set[str]) -> re.Pattern[str] | None:
    if not addresses:
        return None
    alternatives = "|".join(re.escape(a) for a in sorted(addresses, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])")


def _producer(config: Mapping[str, Any]) -> str | None:
    """The stack whose state a ``terraform_remote_state`` data source reads (``.../<stack>.tfstate``)."""
    settings = config.get("config", {})
    location = str(settings.get("path") or settings.get("key") or "")
    match = re.search(r"([^/]+)\.tfstate$", location)
    return match.group(1) if match else None


def _remote_references(doc: Mapping[str, Any], removed_outputs: Mapping[str, set[str]]) -> set[str]:
    """``data.terraform_remote_state.<id>.outputs.<name>`` for every removed output this stack reads."""
    found = set()
    for name, config in doc.get("data", {}).get("terraform_remote_state", {}).items():
        producer = _producer(config)
        for output in removed_outputs.get(producer or "", set()):
            found.add(f"data.terraform_remote_state.{name}.outputs.{output}")
    return found


def _scan(value: Any) -> str:
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if k not in ("//", "depends_on")}
    return json.dumps(value)


class _Pass:
    """One application of a target to a set of stacks."""

    def __init__(self, target: Target, stacks: Stacks) -> None:
        self.target = target
        self.original = stacks
        self.stacks = {name: copy.deepcopy(dict(doc)) for name, doc in stacks.items()}
        self.removed: dict[str, dict[str, str]] = {name: {} for name in stacks}
        self.detach: dict[str, tuple[str, ...]] = {}

    def run(self) -> Applied:
        for exclusion in self.target.exclusions:
            if exclusion.companions is not None:
                for stack, address in exclusion.companions(self.original):
                    self.removed[stack][address] = f"stands for {exclusion.label}: {exclusion.reason}"
        for exclusion in self.target.exclusions:
            self._seed(exclusion)
        while self._propagate():
            pass
        for stack, addresses in self.removed.items():
            self._delete(self.stacks[stack], addresses)
        return Applied(self.stacks, self.removed)

    def _seed(self, exclusion: Exclusion) -> None:
        for stack, doc in self.stacks.items():
            for name, config in doc.get("resource", {}).get(exclusion.type, {}).items():
                if not exclusion.matches(exclusion.type, config):
                    continue
                address = f"{exclusion.type}.{name}"
                if exclusion.block is None:
                    self.removed[stack][address] = exclusion.reason
                    self.detach[address] = exclusion.detach
                elif exclusion.block in config:
                    del config[exclusion.block]
                    self.removed[stack][f"{address}.{exclusion.block}"] = exclusion.reason

    def _propagate(self) -> bool:
        """Remove what refers to something removed; True when anything new was removed."""
        changed = False
        removed_outputs = {
            stack: {a.removeprefix("output.") for a in items if a.startswith("output.")}
            for stack, items in self.removed.items()
        }
        for stack, doc in self.stacks.items():
            # Removed resources, data sources and locals (not outputs, not blocks of kept resources).
            gone = {
                a
                for a in self.removed[stack]
                if not a.startswith("output.") and (a.count(".") == 1 or a.startswith("data."))
            }
            pattern = _pattern(gone | _remote_references(doc, removed_outputs))
            if pattern is None:
                continue
            for address, config in _elements(doc):
                if address in self.removed[stack]:
                    continue
                self._detach(config, gone)
                match = pattern.search(_scan(config))
                if match:
                    self.removed[stack][address] = f"refers to {match.group(0)}"
                    changed = True
        return changed

    def _detach(self, config: Any, gone: set[str]) -> None:
        if not isinstance(config, dict):
            return
        for attribute in {a for address in gone for a in self.detach.get(address, ())}:
            value = config.get(attribute)
            if isinstance(value, str) and any(address in value for address in gone):
                del config[attribute]

    @staticmethod
    def _delete(doc: dict[str, Any], addresses: Mapping[str, str]) -> None:
        for address in addresses:
            parts = address.split(".")
            if parts[0] == "output":
                doc.get("output", {}).pop(parts[1], None)
            elif parts[0] == "local":
                doc.get("locals", {}).pop(parts[1], None)
            elif parts[0] == "data":
                doc.get("data", {}).get(parts[1], {}).pop(parts[2], None)
            elif len(parts) == 2:
                doc.get("resource", {}).get(parts[0], {}).pop(parts[1], None)
        for section in ("resource", "data"):
            for type_ in [t for t, items in doc.get(section, {}).items() if not items]:
                del doc[section][type_]
        for _, config in _elements(doc):
            if isinstance(config, dict) and isinstance(config.get("depends_on"), list):
                kept = [d for d in config["depends_on"] if d not in addresses]
                if kept:
                    config["depends_on"] = kept
                else:
                    del config["depends_on"]


def apply_target(target: Target, stacks: Stacks) -> Applied:
    """The stacks as ``target`` can create them, and what was removed from each with the reason."""
    return _Pass(target, stacks).run()
