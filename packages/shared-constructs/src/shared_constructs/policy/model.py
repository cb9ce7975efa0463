"""The rule model: small pure functions over one synthesized resource."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


class Outcome(Enum):
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Result:
    """A rule's verdict on one resource; ``detail`` says what is wrong when non-compliant."""

    outcome: Outcome
    detail: str = ""


COMPLIANT = Result(Outcome.COMPLIANT)
NOT_APPLICABLE = Result(Outcome.NOT_APPLICABLE)


def non_compliant(detail: str) -> Result:
    return Result(Outcome.NON_COMPLIANT, detail)


@dataclass(frozen=True)
class Context:
    """What rules know beyond the resource: the environment suffix and the protection switch."""

    suffix: str
    protect_stateful: bool = False
    required_tags: tuple[str, ...] = ()
    deployer: str = ""
    """ARN of the role that deploys (``settings.deployer_role_arn``): keys must let it read back
    what Terraform reads back. Empty: nothing is checked for the deployer."""


_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_.\[\]*-]+)?\}")


@dataclass(frozen=True)
class Resource:
    """One resource (or provider block) of a synthesized stack."""

    type: str
    name: str
    config: Mapping[str, Any]
    stack: StackView = field(repr=False, compare=False)

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def refers_to(self, key: str) -> str | None:
        """The address ``type.name`` a ``${...}`` reference in attribute ``key`` points at."""
        value = self.config.get(key)
        if isinstance(value, str):
            match = _REF.search(value)
            if match:
                return f"{match.group(1)}.{match.group(2)}"
        return None


class StackView:
    """Read access to one synthesized ``cdk.tf.json``."""

    def __init__(self, name: str, document: Mapping[str, Any]) -> None:
        self.name = name
        self.document = document
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed once per stack: indexes that rules over many resources share."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]

    def data_sources(self, type_: str | None = None) -> Iterator[Resource]:
        """Data sources, as resources whose type is ``data.<type>``."""
        for dtype, items in sorted(self.document.get("data", {}).items()):
            if type_ is not None and dtype != type_:
                continue
            for dname, config in sorted(items.items()):
                yield Resource(f"data.{dtype}", dname, config, self)

    def get(self, address: str) -> Resource | None:
        """The resource (or ``data.`` source) at ``address``, ``type.name``."""
        index = self.memo("addresses", lambda: {r.address: r for r in [*self.resources(), *self.data_sources()]})
        return index.get(address)

    def resources(self, type_: str | None = None) -> Iterator[Resource]:
        for rtype, items in sorted(self.document.get("resource", {}).items()):
            if type_ is not None and rtype != type_:
                continue
            for rname, config in sorted(items.items()):
                yield Resource(rtype, rname, config, self)

    def providers(self) -> Iterator[Resource]:
        for ptype, blocks in sorted(self.document.get("provider", {}).items()):
            for index, config in enumerate(blocks if isinstance(blocks, list) else [blocks]):
                yield Resource(f"provider.{ptype}", config.get("alias", str(index)), config, self)

    def referencing(self, type_: str, key: str, target: Resource) -> list[Resource]:
        """Resources of ``type_`` whose attribute ``key`` refers to ``target``."""
        return [r for r in self.resources(type_) if r.refers_to(key) == target.address]


def policy_documents(value: Any) -> list[dict[str, Any]]:
    """Parse a policy attribute (a JSON string) into documents; ignore what is not JSON."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return []
        return [parsed] if isinstance(parsed, dict) else []
    return []


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Check = Callable[[Resource, Context], Result]


@dataclass(frozen=True)
class Rule:
    """A rule: an id, the control it enforces, a message, the resource types it reads, a check."""

    id: str
    control: str
    severity: str
    message: str
    types: tuple[str, ...]
    check: Check


@dataclass(frozen=True)
class Finding:
    rule: Rule
    stack: str
    address: str
    result: Result
    reason: str = ""

    def line(self) -> str:
        extra = f" ({self.result.detail})" if self.result.detail else ""
        return f"[{self.rule.id}] {self.stack}/{self.address}: {self.rule.message}{extra} - {self.rule.control}"
