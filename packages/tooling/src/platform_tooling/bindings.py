"""Import the CDKTF and AWS provider bindings once per process, without the collector's cost.

Importing ``cdktf_cdktf_provider_aws`` creates about a million long-lived objects (classes,
functions, jsii metadata). While they are created, Python's cyclic garbage collector runs full
collections over all of them again and again: ``nox -s bench`` measured close to half of the
import's CPU time in the collector, and every later full collection of a synthesis process
walks the same objects again. Nothing created by the import is garbage, so :func:`load` pauses
the collector for the import and then freezes what exists (``gc.freeze``): the frozen objects
are never examined again, and later collections only see what synthesis itself creates.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

CORE = ("constructs", "cdktf")
"""The CDKTF core: about a second to import."""
MODULES = (*CORE, "cdktf_cdktf_provider_aws")
"""The binding packages whose import dominates a synthesis process's start."""


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the collector paused, then freeze every object alive.

    Safe around any import: freezing only exempts existing objects from future collections; it
    frees nothing and keeps nothing alive that was not alive already.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def load(modules: Sequence[str] = MODULES) -> None:
    """Import ``modules`` (default :data:`MODULES`) with the collector paused, then freeze.

    Idempotent and cheap once the modules are imported.
    """
    if all(name in sys.modules for name in modules):
        return
    with paused():
        for name in modules:
            importlib.import_module(name)
