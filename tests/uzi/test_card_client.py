"""The reference card client: a real SoftHSM2 card, and the protocol against a real HTTP server.

The server below implements the card protocol's two endpoints as cardprotocol.py specifies and
checks answers with zorgsleutel.uzi: chain, URA and signature. It stands in for no portal code;
it tests that the client speaks the protocol and that what the card signs verifies.
"""

import http.server
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest

from support import free_port
from zorgsleutel import cardprotocol as proto
from zorgsleutel import uzi
from zorgsleutel.clients import card as client

URA = "90000001"


@pytest.fixture(scope="module")
def rsa_card(softhsm):
    return softhsm.make_card(label="client rsa card", ura=URA, name="Jan Test")


@pytest.fixture(scope="module")
def ec_card(softhsm):
    return softhsm.make_card(label="client ec card", ura=URA, key_type="ec", name="Eva Test")


class CardPortal:
    """Challenges by code; answers verified with the UZI library."""

    def __init__(self, trust, ura: str):
        self.trust, self.ura = trust, ura
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.challenges: dict[str, dict] = {}
        self.accepted: list[uzi.UziIdentity] = []

    def open_challenge(self, purpose="Validate Huisartsenpraktijk De Linde") -> str:
        code = "".join(secrets.choice(proto.CODE_ALPHABET) for _ in range(proto.CODE_LENGTH))
        self.challenges[code] = {
            "id": secrets.token_urlsafe(16),
            "challenge": secrets.token_bytes(32),
            "host": f"127.0.0.1:{self.port}",
            "purpose": purpose,
            "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }
        return code

    def read(self, code: str) -> tuple[int, dict]:
        found = self.challenges.get(proto.normalise_code(code))
        if found is None:
            return 404, {"error": "unknown_challenge", "message": "Unknown or expired code."}
        return 200, {**found, "challenge": proto.b64(found["challenge"])}

    def answer(self, challenge_id: str, body: dict) -> tuple[int, dict]:
        code, found = next(
            ((c, f) for c, f in self.challenges.items() if f["id"] == challenge_id), (None, None)
        )
        if found is None:
            return 404, {"error": "unknown_challenge", "message": "Unknown or expired code."}
        if body.get("algorithm") not in proto.SIGNATURE_ALGORITHMS:
            return 400, {"error": "bad_algorithm", "message": "Unknown algorithm."}
        try:
            identity, leaf = uzi.verify_presentation(
                body["certificates"], at=datetime.now(UTC), trust=self.trust
            )
        except uzi.UziError as error:
            return 400, {"error": error.code, "message": error.detail}
        if identity.ura != self.ura:
            return 403, {"error": "wrong_organisation", "message": f"URA {identity.ura}."}
        message = proto.message(
            challenge_id=found["id"], challenge=found["challenge"], host=found["host"]
        )
        signature = proto.unb64(body["signature"])
        if not uzi.verify_signature(leaf, message, signature, body["algorithm"]):
            return 400, {"error": "bad_signature", "message": "The signature does not verify."}
        del self.challenges[code]
        self.accepted.append(identity)
        return 200, {"status": "accepted", "message": f"Card of {identity.full_name} accepted."}


@pytest.fixture
def portal(softhsm):
    state = CardPortal(softhsm.ca.trust, URA)
    prefix = proto.API_PREFIX + "/challenges/"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.reply(*state.read(self.path.removeprefix(prefix)))

        def do_POST(self):
            challenge_id = self.path.removeprefix(prefix).removesuffix("/answer")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.reply(*state.answer(challenge_id, body))

        def reply(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def card_args(card) -> list[str]:
    return ["--module", card.module, "--token", card.token_label]


# --- The card side --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "algorithm"), [("rsa_card", "rsa-pkcs1-sha256"), ("ec_card", "ecdsa-sha256")]
)
def test_card_signature_verifies_with_its_certificate(request, fixture, algorithm):
    card = request.getfixturevalue(fixture)
    message = proto.message(challenge_id="c1", challenge=b"\x07" * 32, host="portal.test")
    with client.Card(card.module, card.token_label, card.pin) as opened:
        certificate, signature, used = opened.sign(message)
        cas = opened.ca_certificates()
    assert used == algorithm
    assert certificate == card.certificate
    assert uzi.verify_signature(certificate, message, signature, algorithm)
    assert not uzi.verify_signature(certificate, message + b"!", signature, algorithm)
    assert len(cas) == 3


def test_wrong_pin_is_a_clear_message(rsa_card, capsys):
    assert client.main(["info", *card_args(rsa_card), "--pin", "000000"]) == 2
    assert capsys.readouterr().err.strip() == "error: Wrong card PIN"


def test_info_lists_the_uzi_identity(rsa_card, capsys):
    assert client.main(["info", *card_args(rsa_card), "--pin", rsa_card.pin]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[authentication]")
    assert f"Jan Test: UZI number {rsa_card.identity.uzi_number}, URA {URA}, card type Z" in out
    assert out.count("[CA]") == 3


def test_several_cards_need_a_label(rsa_card, ec_card, capsys):
    assert client.main(["info", "--module", rsa_card.module, "--pin", "123456"]) == 2
    assert "several cards" in capsys.readouterr().err


def test_missing_module_is_a_clear_message(tmp_path, capsys):
    assert client.main(["info", "--module", str(tmp_path / "none.so"), "--pin", "1"]) == 2
    assert "PKCS#11 module not found" in capsys.readouterr().err


# --- The protocol ---------------------------------------------------------------------------------


def test_present_with_a_code(rsa_card, portal, capsys):
    code = portal.open_challenge()
    shown = proto.format_code(code)
    argv = ["present", "--code", shown, "--server", portal.url, *card_args(rsa_card)]
    assert client.main([*argv, "--pin", rsa_card.pin]) == 0
    out = capsys.readouterr().out
    assert f"127.0.0.1:{portal.port} asks for your card: Validate Huisartsenpraktijk" in out
    assert "Card of Jan Test accepted." in out
    assert [who.uzi_number for who in portal.accepted] == [rsa_card.identity.uzi_number]


def test_present_with_an_ec_card_and_the_qr_url(ec_card, portal, monkeypatch):
    monkeypatch.setenv("ZS_CARD_PIN", ec_card.pin)
    url = proto.present_url(server=portal.url, code=portal.open_challenge())
    assert client.main(["present", url, *card_args(ec_card)]) == 0
    assert portal.accepted[0].full_name == "Eva Test"


def test_present_from_a_qr_screenshot(rsa_card, portal, tmp_path, monkeypatch):
    import segno

    url = proto.present_url(server=portal.url, code=portal.open_challenge())
    image = tmp_path / "page.png"
    segno.make(url, error="m").save(image, scale=6, border=4, light="white")
    monkeypatch.setattr(client.getpass, "getpass", lambda prompt: rsa_card.pin)
    assert client.main(["present", str(image), *card_args(rsa_card)]) == 0
    assert len(portal.accepted) == 1


def test_refusal_prints_the_portals_code(softhsm, portal, capsys):
    other = softhsm.make_card(label="client other organisation", ura="90000999")
    code = portal.open_challenge()
    argv = ["present", "--code", code, "--server", portal.url, *card_args(other)]
    assert client.main([*argv, "--pin", other.pin]) == 1
    assert capsys.readouterr().err.strip() == "refused: wrong_organisation: URA 90000999."
    assert portal.accepted == []


def test_unknown_code_is_refused(rsa_card, portal, capsys):
    argv = ["present", "--code", "ABCD-EFGH", "--server", portal.url, *card_args(rsa_card)]
    assert client.main([*argv, "--pin", rsa_card.pin]) == 1
    assert "unknown_challenge" in capsys.readouterr().err


def test_unreachable_server_and_bad_input(rsa_card, capsys):
    argv = ["present", "--code", "ABCD-EFGH", "--server", "http://127.0.0.1:9", "--pin", "1"]
    assert client.main(argv) == 2
    assert "cannot reach the server" in capsys.readouterr().err
    assert client.main(["present", "--code", "AB", "--pin", "1"]) == 2
    assert "not a card code" in capsys.readouterr().err
    assert client.main(["present", "zorgsleutel://login?x=1", "--pin", "1"]) == 2
    assert (
        "neither a QR code's zorgsleutel-card:// URL nor an image file" in capsys.readouterr().err
    )
