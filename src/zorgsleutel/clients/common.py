"""What the reference clients share: reading a QR code's URL from text or an image, and JSON over
HTTP with the standard library (no dependencies beyond the portal's own), in the user's language
(clients/i18n.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from zorgsleutel.clients import i18n
from zorgsleutel.clients.i18n import gettext as _
from zorgsleutel.clients.i18n import gettext_noop

# The protocols' own refusals (appprotocol.py, cardprotocol.py raise them in English: they import
# nothing), in the catalogue so that `protocol_message` shows them in the client's language.
PROTOCOL_MESSAGES = (
    gettext_noop("the PIN has 6 digits"),
    gettext_noop("this is not a Zorgsleutel QR code"),
    gettext_noop("the QR code names no valid server"),
    gettext_noop("this is not a Zorgsleutel card QR code"),
    gettext_noop("the QR code names no valid server or code"),
)


class ClientError(Exception):
    """Usage, network or device problem (the clients exit 2)."""


def protocol_message(exc: Exception) -> str:
    """A protocol's ValueError in the client's language (other errors as they are)."""
    return _(str(exc)) if isinstance(exc, ValueError) else str(exc)


def read_qr(value: str, scheme: str) -> str:
    """The `scheme://` URL in a QR code: given as text, or decoded from an image file."""
    if value.startswith(scheme + "://"):
        return value
    path = Path(value)
    if not path.is_file():
        raise ClientError(
            _("%(value)r is neither a QR code's %(scheme)s:// URL nor an image file")
            % {"value": value, "scheme": scheme}
        )
    import zxingcpp
    from PIL import Image

    try:
        image = Image.open(path)
        image.load()
    except OSError as exc:
        raise ClientError(
            _("cannot read the image %(file)s: %(error)s") % {"file": value, "error": exc}
        ) from None
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        if barcode.text.startswith(scheme + "://"):
            return barcode.text
    raise ClientError(
        _("no QR code with a %(scheme)s:// URL in %(file)s") % {"scheme": scheme, "file": value}
    )


def http_json(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    """(status, JSON answer); an error status is an answer too, an unreachable server is not.
    Asks the portal's messages in the client's language, once one is chosen."""
    if not url.startswith(("http://", "https://")):
        raise ClientError(_("the server URL must start with http:// or https://"))
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if i18n.language():
        headers["Accept-Language"] = i18n.language()
    request = urllib.request.Request(  # noqa: S310 (checked above: http(s) only)
        url, data=data, method=method, headers=headers
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
        raise ClientError(_("cannot reach the server: %(error)s") % {"error": exc}) from None
    except ValueError:
        raise ClientError(_("the server's answer is not JSON")) from None
