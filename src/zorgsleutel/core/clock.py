"""The one clock of the portal. Tests move it with `frozen(...)` instead of patching datetime."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone

_state = threading.local()


def now() -> datetime:
    fixed = getattr(_state, "fixed", None)
    return fixed if fixed is not None else timezone.now()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze `now()` for this thread at `at` (an aware datetime)."""
    previous = getattr(_state, "fixed", None)
    _state.fixed = at
    try:
        yield
    finally:
        _state.fixed = previous


def advance(delta: timedelta) -> None:
    """Move the frozen clock forward (only inside `frozen`)."""
    if getattr(_state, "fixed", None) is None:
        raise RuntimeError("advance() only works inside clock.frozen()")
    _state.fixed = _state.fixed + delta
