"""Keeping Terraform addresses when constructs move (docs/decisions/0014-construct-ids-are-addresses.md).

A resource's Terraform address is ``<type>.<logical id>``, and CDKTF derives the logical id from
the construct path below the stack. When a refactoring moves a resource to another path (a library
construct takes over what an app built by hand), :func:`moved_from` records a ``moved`` block from
the address the old path had, so Terraform moves the state instead of replacing the resource.
"""

from __future__ import annotations

import hashlib
import re

from shared_constructs.cdk import Construct, TerraformResource, TerraformStack

_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"
_MAX_HUMAN_LEN = 240
_MAX_ID_LEN = 255


def _allowed(component: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", component)


def logical_id(path: str) -> str:
    """The logical id CDKTF gives the construct path ``path`` below a stack (``a/b/c``).

    The same algorithm as CDKTF's ``makeUniqueId``: one component stands as it is; several are
    joined with ``_`` (a component the previous one ends with is left out) and followed by the
    first 8 hex digits of the MD5 of the ``/``-joined path.
    """
    components = [c for c in path.split("/") if c and c != _HIDDEN]
    if not components:
        raise ValueError(f"expected a construct path such as 'network/vpc', got {path!r}")
    if len(components) == 1 and len(_allowed(components[0])) <= _MAX_ID_LEN:
        return _allowed(components[0])
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "_".join(_allowed(c) for c in human if c != _HIDDEN_FROM_HUMAN)[:_MAX_HUMAN_LEN]
    return f"{readable}_{digest}"


def moved_from(resource: TerraformResource, old_path: str) -> None:
    """Record that ``resource`` was at construct path ``old_path`` (below its stack) before."""
    resource.move_from_id(f"{resource.terraform_resource_type}.{logical_id(old_path)}")


def path_in_stack(construct: Construct) -> str:
    """The path of ``construct`` below its stack (``network/vpc``): what :func:`logical_id` reads."""
    stack_path = TerraformStack.of(construct).node.path
    return construct.node.path.removeprefix(stack_path).strip("/")
