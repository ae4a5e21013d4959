"""`zorgsleutel app`: the reference Zorgsleutel app client — what a phone app does.

    zorgsleutel app enrol QR --state FILE [--pin 123456] [--yes] [--name "My phone"]
    zorgsleutel app login QR --state FILE [--pin 123456] [--yes]
    zorgsleutel app devices --state FILE
    (each with [--language nl|en]; default from LANG and the like: clients/i18n.py)

QR is the code's URL (zorgsleutel://…) or an image (PNG, screenshot) that holds it. The state
file (mode 0600) keeps, per linked account, the device key (apart from the PIN, as a phone's
keystore would) and the app secret protected by the PIN without a check value (appprotocol.py).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from zorgsleutel import appprotocol as proto
from zorgsleutel.clients import common, i18n
from zorgsleutel.clients.i18n import gettext as _
from zorgsleutel.clients.i18n import ngettext

ClientError = common.ClientError
_http = common.http_json


def read_qr(value: str) -> str:
    """The URL in a QR code: given as text, or decoded from an image file."""
    return common.read_qr(value, proto.SCHEME)


def _api(server: str, path: str) -> str:
    return server.rstrip("/") + "/api/app/v1" + path


class State:
    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {"accounts": []}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.data, handle, indent=2)
        os.chmod(self.path, 0o600)

    def remember(self, account: dict) -> None:
        others = [a for a in self.data["accounts"] if a["server"] != account["server"]]
        self.data["accounts"] = [*others, account]
        self.save()

    def account_for(self, server: str) -> dict:
        for account in self.data["accounts"]:
            if account["server"] == server:
                return account
        raise ClientError(
            _("this app is not linked to %(server)s; link it first (zorgsleutel app enrol)")
            % {"server": server}
        )


class DeviceMaterial:
    """What a phone makes when it is linked: a device key pair and a 256-bit secret."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, secret: bytes):
        self.key = key
        self.secret = secret
        self.public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def generate(cls) -> DeviceMaterial:
        return cls(ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(proto.SECRET_BYTES))

    def account(self, *, server: str, device: str, display_name: str, pin: str) -> dict:
        salt = secrets.token_bytes(16)
        return {
            "server": server,
            "device": device,
            "display_name": display_name,
            # The device key stays apart from the PIN (a phone keeps it in its keystore).
            "device_key": self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "salt": proto.b64(salt),
            "protected_secret": proto.b64(proto.protect_secret(self.secret, pin, salt)),
        }


def _pin(given: str | None, prompt: str) -> str:
    pin = given if given is not None else getpass.getpass(prompt)
    if len(pin) != proto.PIN_LENGTH or not pin.isdigit():
        raise ClientError(_("the PIN has 6 digits"))
    return pin


def _confirm(text: str, yes: bool, out) -> None:
    print(text, file=out)
    if not yes and input(_("Approve? [y/N] ")).strip().lower() not in ("y", "yes", "j", "ja"):
        raise ClientError(_("not approved"))


def enrol(qr: str, *, state: State, pin: str | None, yes: bool, name: str, out=sys.stdout) -> dict:
    kind, params = proto.parse_url(read_qr(qr))
    if kind != "enrol":
        raise ClientError(_("this QR code is for logging in, not for linking an app"))
    server, code = params["server"], params.get("code", "")
    status, info = _http("GET", _api(server, f"/enrolments/{urllib.parse.quote(code)}"))
    if status != 200:
        raise ClientError(
            info.get("message", _("linking refused (%(status)s)") % {"status": status})
        )
    _confirm(
        _("Link this app to %(service)s at %(host)s for %(name)s?")
        % {"service": info["service"], "host": info["host"], "name": info["display_name"]},
        yes,
        out,
    )
    pin = _pin(pin, _("Choose a new 6-digit PIN: "))
    key = ec.generate_private_key(ec.SECP256R1())
    secret, salt = secrets.token_bytes(proto.SECRET_BYTES), secrets.token_bytes(16)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    status, answer = _http(
        "POST",
        _api(server, f"/enrolments/{urllib.parse.quote(code)}"),
        {"public_key": proto.b64(public_der), "secret": proto.b64(secret), "name": name},
    )
    if status != 201:
        raise ClientError(
            answer.get("message", _("linking refused (%(status)s)") % {"status": status})
        )
    account = {
        "server": server,
        "device": answer["device"],
        "display_name": info["display_name"],
        # The device key stays apart from the PIN (a phone keeps it in its keystore).
        "device_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "salt": proto.b64(salt),
        "protected_secret": proto.b64(proto.protect_secret(secret, pin, salt)),
    }
    state.data["accounts"] = [a for a in state.data["accounts"] if a["server"] != server] + [
        account
    ]
    state.save()
    print(
        _("Linked: app ID %(device)s for %(name)s.")
        % {"device": answer["device"], "name": info["display_name"]},
        file=out,
    )
    return account


def login(qr: str, *, state: State, pin: str | None, yes: bool, out=sys.stdout) -> dict:
    kind, params = proto.parse_url(read_qr(qr))
    if kind != "login":
        raise ClientError(_("this QR code is for linking an app, not for logging in"))
    server, challenge_id = params["server"], params.get("id", "")
    account = state.account_for(server)
    status, info = _http("GET", _api(server, f"/logins/{urllib.parse.quote(challenge_id)}"))
    if status != 200:
        raise ClientError(info.get("message", _("login refused (%(status)s)") % {"status": status}))
    _confirm(
        _("Log in as %(name)s at %(service)s (%(host)s)")
        % {"name": account["display_name"], "service": info["service"], "host": info["host"]}
        + "\n  "
        + _("browser: %(browser)s") % {"browser": info["browser"] or _("unknown")}
        + "\n  "
        + _("asked at: %(time)s") % {"time": info["requested_at"]},
        yes,
        out,
    )
    pin = _pin(pin, _("PIN: "))
    secret = proto.unprotect_secret(
        proto.unb64(account["protected_secret"]), pin, proto.unb64(account["salt"])
    )
    message = proto.login_message(
        challenge_id=challenge_id, challenge=proto.unb64(params["c"]), host=info["host"]
    )
    response = proto.response(secret, message)
    key = serialization.load_pem_private_key(account["device_key"].encode(), password=None)
    signature = key.sign(message + response.encode(), ec.ECDSA(hashes.SHA256()))
    status, answer = _http(
        "POST",
        _api(server, f"/logins/{urllib.parse.quote(challenge_id)}"),
        {"device": account["device"], "response": response, "signature": proto.b64(signature)},
    )
    if status != 200:
        raise ClientError(
            answer.get("message", _("login refused (%(status)s)") % {"status": status})
        )
    print(_result(answer), file=out)
    return answer


def _result(answer: dict) -> str:
    """The portal's verdict on a login, for the person holding the phone."""
    if answer["result"] == "ok":
        return _("Approved: the browser continues logged in.")
    if answer["result"] == "wrong_pin":
        left = answer["attempts_left"]
        return ngettext(
            "Wrong PIN: %(left)s attempt left.", "Wrong PIN: %(left)s attempts left.", left
        ) % {"left": left}
    if answer["result"] == "blocked":
        return _(
            "Wrong PIN: this app is now blocked. Ask a manager or administrator of your "
            "organisation to unblock it."
        )
    return answer["result"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="zorgsleutel app", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("enrol", "login"):
        command = sub.add_parser(name)
        command.add_argument("qr", help="the QR code's URL, or an image of it")
        command.add_argument("--state", required=True, type=Path)
        command.add_argument("--pin")
        command.add_argument("--yes", action="store_true", help="approve without asking")
        if name == "enrol":
            command.add_argument("--name", default="Reference client")
    devices = sub.add_parser("devices")
    devices.add_argument("--state", required=True, type=Path)
    for command in sub.choices.values():
        i18n.add_language_option(command)
    options = parser.parse_args(argv)
    i18n.activate(options.language)
    try:
        state = State(options.state)
        if options.command == "enrol":
            enrol(options.qr, state=state, pin=options.pin, yes=options.yes, name=options.name)
        elif options.command == "login":
            answer = login(options.qr, state=state, pin=options.pin, yes=options.yes)
            return 0 if answer["result"] == "ok" else 3
        else:
            for account in state.data["accounts"]:
                print(f"{account['device']}  {account['display_name']}  {account['server']}")
    except (ClientError, ValueError, KeyError, json.JSONDecodeError) as exc:
        message = common.protocol_message(exc)
        print(_("error: %(message)s") % {"message": message}, file=sys.stderr)
        return 2
    return 0
