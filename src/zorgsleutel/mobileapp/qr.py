"""QR codes as inline SVG (segno; no external calls). White background so scanners and
screenshots on any page decode it."""

from __future__ import annotations

import segno
from django.utils.safestring import mark_safe


def svg(text: str, *, title: str) -> str:
    code = segno.make(text, error="m")
    markup = code.svg_inline(
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="qr",
        lineclass=None,
        omitsize=False,
    )
    return mark_safe(markup)  # noqa: S308 (segno's own SVG; the title is escaped by segno)
