"""QR codes as inline SVG (segno; no external calls). White background so scanners and
screenshots on any page decode it.

One fixed mask pattern (ISO/IEC 18004 7.8): each of the eight masks makes a valid code that
every reader decodes. Trying all eight and keeping the one with the lowest penalty score
(segno's default) only avoids patterns that might trouble a poor scan, and it was three quarters
of the CPU of every page with a QR code (docs/benchmarks.md, "Smartcards: complete logins per
second"). A code on a screen, black on white at five pixels a module, is not a poor scan.
"""

from __future__ import annotations

import io

import segno
from django.utils.safestring import mark_safe

MASK = 1  # the one segno's search picks most often for our URLs; 0..7 are all valid


def code(text: str) -> segno.QRCode:
    """The QR code of `text`: error correction level M, the fixed mask."""
    return segno.make(text, error="m", mask=MASK)


def svg_document(text: str, *, title: str) -> bytes:
    """The same code as a stand-alone SVG document (an image of its own URL)."""
    buffer = io.BytesIO()
    code(text).save(buffer, kind="svg", scale=5, border=4, dark="#000", light="#fff", title=title)
    return buffer.getvalue()


def svg(text: str, *, title: str) -> str:
    markup = code(text).svg_inline(
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
