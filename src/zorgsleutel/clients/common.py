"""What the reference clients share: reading a QR code's URL from text or an image, and JSON over
HTTP with the standard library (no dependencies beyond the portal's own)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path


class ClientError(Exception):
    """Usage, network or device problem (the clients exit 2)."""


def read_qr(value: str, scheme: str, what: str) -> str:
    """The `scheme://` URL in a QR code: given as text, or decoded from an image file; `what`
    names the kind of QR code in messages ("Zorgsleutel", "Zorgsleutel card")."""
    if value.startswith(scheme + "://"):
        return value
    path = Path(value)
    if not path.is_file():
        raise ClientError(f"{value!r} is neither a {what} URL nor an image file")
    import zxingcpp
    from PIL import Image

    try:
        image = Image.open(path)
        image.load()
    except OSError as exc:
        raise ClientError(f"cannot read the image {value}: {exc}") from None
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        if barcode.text.startswith(scheme + "://"):
            return barcode.text
    raise ClientError(f"no {what} QR code found in {value}")


def http_json(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    """(status, JSON answer); an error status is an answer too, an unreachable server is not."""
    if not url.startswith(("http://", "https://")):
        raise ClientError("the server URL must be http(s)")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (checked above: http(s) only)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (http(s) only)
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {"error": "http_error", "message": f"HTTP {exc.code}"}
    except (urllib.error.URLError, OSError) as exc:
        raise ClientError(f"cannot reach the server: {exc}") from None
    except ValueError:
        raise ClientError("the server's answer is not JSON") from None
