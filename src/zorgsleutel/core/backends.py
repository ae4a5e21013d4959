"""Load pluggable parts from alias dicts, in the manner of Django's STORAGES and TASKS."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


@cache
def _load(setting: str, alias: str) -> Any:
    config = getattr(settings, setting, {}).get(alias)
    if config is None:
        raise ImproperlyConfigured(f"{setting} has no alias {alias!r}")
    cls = import_string(config["BACKEND"])
    return cls(alias=alias, **config.get("OPTIONS", {}))


def load_backend(setting: str, alias: str = "default") -> Any:
    """The configured backend instance for `setting[alias]` (cached per process)."""
    return _load(setting, alias)


def reset_backends() -> None:
    """Forget loaded backends (tests that override settings call this)."""
    _load.cache_clear()
