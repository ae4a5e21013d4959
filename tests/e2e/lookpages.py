"""The look checks of test_look.py (axe with WCAG 2.2 AA, no sideways scrolling, 44 px controls,
a screenshot) for a page a walk has reached: at 1280×900 and at 390×844, then back to the size
the walk had, so the walk goes on as before."""

from __future__ import annotations

from .test_look import SIZES, _looked_at


def at_both_widths(page, name: str) -> None:
    before = page.viewport_size
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": SIZES[width]})
        _looked_at(page, name, width)
    page.set_viewport_size(before)
