"""Queries over synthesized stack JSON for unit tests."""

from __future__ import annotations

import json
from typing import Any


def resources(stack: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Every resource of ``type_`` in ``stack``, by its Terraform name."""
    return dict(stack.get("resource", {}).get(type_, {}))


def data_sources(stack: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Every data source of ``type_`` in ``stack``, by its Terraform name."""
    return dict(stack.get("data", {}).get(type_, {}))


def only(stack: dict[str, Any], type_: str, **match: Any) -> dict[str, Any]:
    """The single resource of ``type_`` whose attributes equal ``match``; fails otherwise."""
    found = [r for r in resources(stack, type_).values() if all(r.get(k) == v for k, v in match.items())]
    if len(found) != 1:
        raise AssertionError(f"expected exactly one {type_} matching {match}, found {len(found)}")
    return found[0]


def where(stack: dict[str, Any], type_: str, **match: Any) -> list[dict[str, Any]]:
    """The resources of ``type_`` whose attributes equal ``match``."""
    return [r for r in resources(stack, type_).values() if all(r.get(k) == v for k, v in match.items())]


def policy(resource: dict[str, Any], attribute: str = "policy") -> dict[str, Any]:
    """A resource's policy document attribute, parsed."""
    return json.loads(resource[attribute])  # type: ignore[no-any-return]


def statements(resource: dict[str, Any], attribute: str = "policy") -> list[dict[str, Any]]:
    """The statements of a resource's policy document."""
    found = policy(resource, attribute)["Statement"]
    return found if isinstance(found, list) else [found]


def statement(resource: dict[str, Any], sid: str, attribute: str = "policy") -> dict[str, Any]:
    """The statement with ``sid`` in a resource's policy document."""
    for item in statements(resource, attribute):
        if item.get("Sid") == sid:
            return item
    raise AssertionError(f"no statement {sid!r} in {attribute}")


def ref(type_: str, name: str, attribute: str) -> str:
    """The Terraform reference string ``${type.name.attribute}``."""
    return f"${{{type_}.{name}.{attribute}}}"


def name_of(stack: dict[str, Any], type_: str, **match: Any) -> str:
    """The Terraform name of the single resource of ``type_`` matching ``match``."""
    found = [n for n, r in resources(stack, type_).items() if all(r.get(k) == v for k, v in match.items())]
    if len(found) != 1:
        raise AssertionError(f"expected exactly one {type_} matching {match}, found {len(found)}")
    return found[0]
