"""The portal's QR codes: one fixed mask (no search over eight), and every reader still decodes
them (the app's and the card client's reader: zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from zorgsleutel import appprotocol, cardprotocol
from zorgsleutel.mobileapp import qr

URLS = [
    cardprotocol.present_url(server="https://portal.zorgsleutel.nl", code="K7QM2XDA"),
    cardprotocol.present_url(server="https://127.0.0.1:8000", code="EEWYHGUV"),
    cardprotocol.present_url(server="https://zorgsleutel.example", code="22222222"),
    appprotocol.login_url(
        server="https://portal.zorgsleutel.nl",
        challenge_id="qr_" + "A" * 22,
        challenge=b"\x07" * 32,
    ),
]


def _decoded(url: str) -> list[str]:
    buffer = io.BytesIO()
    qr.code(url).save(buffer, kind="png", scale=5, border=4, dark="#000", light="#fff")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    return [found.text for found in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("url", URLS)
def test_a_qr_code_uses_mask_1_and_decodes(url):
    assert qr.code(url).mask == 1
    assert _decoded(url) == [url]


def test_the_page_shows_the_same_code_as_svg():
    markup = qr.svg(URLS[0], title="QR-code")
    assert markup.startswith("<svg")
    assert 'class="qr"' in markup
    assert "<title>QR-code</title>" in markup
