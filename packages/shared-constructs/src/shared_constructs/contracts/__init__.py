"""Typed contracts between packages: what a producer publishes, in code both sides import.

A producer package declares, in a module of this package (one module per producer), the name of
each stack it publishes from (per region or account) and each output of that stack with its type.
The producer publishes through the declaration (:meth:`PlatformStack.publish`); a consumer reads
through it (:class:`shared_constructs.state.RemoteOutputs`), so a stack name or an output name is
written once, and reading an output the producer does not declare fails at synthesis.

Contracts live in the library rather than in the producer's package
(docs/decisions/0012-state-outputs-and-contracts.md): a consumer then depends on nothing but the
library it already builds with, never on another app (its code, its dependencies, its release).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T", str, list[str])


@dataclass(frozen=True)
class Output(Generic[T]):
    """One published output: its name (the key in ``flat-outputs.json``), what it holds, its type."""

    name: str
    description: str
    kind: Literal["string", "list"]


def string_output(name: str, description: str) -> Output[str]:
    """An output holding one string (an ARN, a name, an id)."""
    return Output(name, description, "string")


def list_output(name: str, description: str) -> Output[list[str]]:
    """An output holding a list of strings."""
    return Output(name, description, "list")


@dataclass(frozen=True, kw_only=True)
class StackContract:
    """One stack of a producer: its package, its stack name and the outputs it publishes."""

    package: str
    stack: str
    outputs: tuple[Output[Any], ...]

    def __post_init__(self) -> None:
        names = [o.name for o in self.outputs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stack {self.stack!r} declares outputs more than once: {', '.join(repeated)}")

    def declares(self, output: Output[Any]) -> bool:
        """True when ``output`` is one of this stack's outputs."""
        return output in self.outputs

    def check(self, output: Output[Any]) -> None:
        """Raise ``ValueError`` unless this stack declares ``output``."""
        if not self.declares(output):
            declared = ", ".join(o.name for o in self.outputs)
            raise ValueError(
                f"{self.package} stack {self.stack!r} does not publish {output.name!r}; it publishes {declared}"
            )
