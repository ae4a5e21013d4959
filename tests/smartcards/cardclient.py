"""What the card client's tests share: a throwaway software CA, a stand-in portal that speaks the
card protocol's smartcard part over real HTTP, and the client run in a real terminal.

The stand-in portal implements the two endpoints `card init` calls as docs/card-protocol.md
("Making a smartcard") specifies and checks what the client sends (the CSR's signature, its
challengePassword, the card's serial); it stands in for no portal code: the portal's own endpoint
is tested with the portal.
"""

from __future__ import annotations

import http.server
import json
import os
import pty
import secrets
import select
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AttributeOID, ExtendedKeyUsageOID, NameOID

from support import free_port
from zorgsleutel import cardprotocol as proto


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class SoftwareCa:
    """A root and an issuing CA with their keys in memory, for one test."""

    def __init__(self):
        now = datetime.now(UTC) - timedelta(minutes=5)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.issuing_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._certificate(
            _name("Throwaway Root"),
            self.root_key.public_key(),
            self.root_key,
            _name("Throwaway Root"),
            now,
        )
        self.issuing = self._certificate(
            _name("Throwaway CA"),
            self.issuing_key.public_key(),
            self.root_key,
            self.root.subject,
            now,
        )

    @staticmethod
    def _certificate(subject, public_key, signer, issuer, now) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer, hashes.SHA256())
        )

    def issue(self, public_key, name: str = "Mila Medewerker") -> x509.Certificate:
        """A card certificate as the profile's: digitalSignature only, clientAuth, not a CA."""
        now = datetime.now(UTC) - timedelta(minutes=5)
        return (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.issuing.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.issuing_key, hashes.SHA256())
        )

    def chain_pem(self, leaf: x509.Certificate) -> list[str]:
        return [
            c.public_bytes(serialization.Encoding.PEM).decode()
            for c in (leaf, self.issuing, self.root)
        ]


@dataclass
class StandInPortal:
    """Challenges by code; a CSR answered with a certificate, or refused when `refuse` is set."""

    ca: SoftwareCa
    port: int = field(default_factory=free_port)
    challenges: dict = field(default_factory=dict)
    received: list = field(default_factory=list)  # (challenge id, CSR, card serial)
    refuse: tuple[int, dict] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open_challenge(
        self,
        purpose: str = proto.SMARTCARD_CREATE,
        description: str = "Smartcard aanmaken voor Mila Medewerker (Demozorg)",
    ) -> str:
        code = "".join(secrets.choice(proto.CODE_ALPHABET) for _ in range(proto.CODE_LENGTH))
        self.challenges[code] = {
            "id": secrets.token_urlsafe(16),
            "challenge": proto.b64(secrets.token_bytes(32)),
            "host": f"127.0.0.1:{self.port}",
            "purpose": purpose,
            "description": description,
            "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }
        return code

    def read(self, code: str) -> tuple[int, dict]:
        found = self.challenges.get(code)
        if found is None:
            return 404, {"error": "unknown_challenge", "message": "Unknown or expired code."}
        return 200, found

    def answer_csr(self, challenge_id: str, body: dict) -> tuple[int, dict]:
        found = next((c for c in self.challenges.values() if c["id"] == challenge_id), None)
        if found is None:
            return 404, {"error": "unknown_challenge", "message": "Unknown or expired code."}
        csr = x509.load_pem_x509_csr(body["csr"].encode())
        self.received.append((challenge_id, csr, body["card_serial"]))
        if self.refuse:
            return self.refuse
        password = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
        if not csr.is_signature_valid or password.decode() != found["challenge"]:
            return 400, {"error": "bad_csr", "message": "Not this challenge's request."}
        leaf = self.ca.issue(csr.public_key())
        return 200, {
            "status": "accepted",
            "message": "Uw smartcard is klaar.",
            "certificates": self.ca.chain_pem(leaf),
        }


@pytest.fixture
def portal():
    """The stand-in portal on a real HTTP server, with its throwaway CA."""
    state = StandInPortal(ca=SoftwareCa())
    server = _serve(state)
    yield state
    server.shutdown()
    server.server_close()


def _serve(portal: StandInPortal):
    prefix = proto.API_PREFIX + "/challenges/"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.reply(*portal.read(self.path.removeprefix(prefix)))

        def do_POST(self):
            challenge_id = self.path.removeprefix(prefix).removesuffix("/csr")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.reply(*portal.answer_csr(challenge_id, body))

        def reply(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", portal.port), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


CLIENT = "import sys; from zorgsleutel.clients.card import main; sys.exit(main(sys.argv[1:]))"


def _acquire_terminal():  # in the child: the pty becomes its controlling terminal (/dev/tty)
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_terminal(args: list[str], answers: list[tuple[str, str]], *, conf) -> tuple[int, str]:
    """`zorgsleutel card ARGS` in a real terminal: each (prompt, typed) pair waits for the
    prompt, then types the answer (getpass reads /dev/tty without echo). (exit code, screen)."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT, *args],
        stdin=child,
        stdout=child,
        stderr=child,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        start_new_session=True,
        preexec_fn=_acquire_terminal,
    )
    os.close(child)
    screen = ""
    pending = list(answers)
    while True:
        ready, _, _ = select.select([main], [], [], 10)
        if not ready:
            process.kill()
            raise AssertionError(f"the client hangs; screen so far:\n{screen}")
        try:
            chunk = os.read(main, 4096).decode()
        except OSError:  # the child closed the terminal: it exited
            break
        if not chunk:
            break
        screen += chunk
        if pending and pending[0][0] in screen.rsplit("\n", 1)[-1]:
            os.write(main, pending.pop(0)[1].encode() + b"\n")
    os.close(main)
    return process.wait(timeout=30), screen.replace("\r\n", "\n")
