"""Destroyable by default, protectable by choice: the platform lifecycle policy."""

from __future__ import annotations

from cdktf import TerraformResource, TerraformResourceLifecycle

from shared_constructs.settings import BaseSettings


def protect(resource: TerraformResource, settings: BaseSettings) -> None:
    """Add ``prevent_destroy`` to a stateful resource when ``settings.protect_stateful`` is on."""
    if settings.protect_stateful:
        resource.lifecycle = TerraformResourceLifecycle(prevent_destroy=True)
