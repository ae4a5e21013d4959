"""The look checks every browser test shares: `looked_at` a page at one width (a screenshot,
axe with WCAG 2.2 AA, no sideways scrolling, form controls of 44 px and more), and
`at_both_widths` for a page a walk has reached: at 1280×900 and at 390×844, then back to the size
the walk had, so the walk goes on as before."""

from __future__ import annotations

import os
from pathlib import Path

SCREENSHOTS = Path(os.environ.get("ZS_SCREENSHOTS", "var/screenshots"))
WCAG22AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {1280: 900, 390: 844}


def looked_at(page, name: str, width: int) -> None:
    """The page as it is now: a screenshot, axe with WCAG 2.2 AA, no sideways scrolling, form
    controls of 44 px and more."""
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    results = page.axe.run(page.page, options={"runOnly": {"type": "tag", "values": WCAG22AA}})
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert bad == [], f"{name} at {width}"
    assert page.evaluate("document.documentElement.scrollWidth") == width, f"{name} at {width}"
    low = page.evaluate(
        "[...document.querySelectorAll('main input, main select, main textarea, main button')]"
        ".filter(e => e.type !== 'hidden' && e.type !== 'checkbox' && e.type !== 'radio'"
        " && e.getClientRects().length > 0 && e.getBoundingClientRect().height < 44)"
        ".map(e => (e.name || e.id || e.textContent.trim()) + ': '"
        " + e.getBoundingClientRect().height)"
    )
    assert low == [], f"{name} at {width}"


def at_both_widths(page, name: str) -> None:
    before = page.viewport_size
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": SIZES[width]})
        looked_at(page, name, width)
    page.set_viewport_size(before)
