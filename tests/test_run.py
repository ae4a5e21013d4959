"""`zorgsleutel run` (what `make run` starts): everything up, demo loaded, Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from support import free_port
from zorgsleutel import demo

# The test session's own: its databases, and its SoftHSM2 tokens (not the demo's CA under var/).
NOT_PASSED = (
    "DATABASE_URL",
    "VAULT_DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SOFTHSM2_CONF",
)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_run_serves_portal_vault_and_worker_then_stops_on_ctrl_c(tmp_path):
    port, vault_port, rp_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    env.update(DEBUG="1", PORT=str(port), VAULT_PORT=str(vault_port), ZS_VAR_DIR=str(tmp_path))
    env.update(DEMO_RP_PORT=str(rp_port))
    env.update(PURGE_INTERVAL_SECONDS="5")  # instead of every 10 minutes (below)
    process = subprocess.Popen(
        [sys.executable, "-m", "zorgsleutel.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            output.append(line)
            if "Demo logins" in line:
                break
        banner = "".join(output)
        assert "Demo logins" in banner, banner
        for _ in demo.everyone():  # one banner line per demo person
            output.append(process.stdout.readline())
        banner = "".join(output)
        assert f"http://127.0.0.1:{port}/" in banner
        assert "admin@demozorg.nl" in banner and "Zorgsleutel-demo-2026" in banner
        assert f"  demo app     http://127.0.0.1:{rp_port}/" in banner

        # The demo relying party (tests/e2e/test_sso_demo.py logs in to it), its secret 0600.
        status, body = _get(f"http://127.0.0.1:{rp_port}/")
        assert status == 200 and "Inloggen met Zorgsleutel" in body.decode()
        registration = tmp_path / "demo" / "relyingparty.json"
        assert registration.stat().st_mode & 0o777 == 0o600
        secret = json.loads(registration.read_text())["client_secret"]
        assert len(secret) == 43 and secret not in banner

        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["vault"] == "ok"
        status, body = _get(f"http://127.0.0.1:{vault_port}/v1/health")
        assert status == 401
        status, body = _get(f"http://127.0.0.1:{port}/dev/mailbox.json")
        sms = [m for m in json.loads(body)["messages"] if m["kind"] == "sms"]
        assert len(sms) == 10 and all(m["to"].startswith("06 •• •• ••") for m in sms)

        # What a dead worker left behind goes out again: mail, and back-channel logouts.
        assert "· re-queueing stranded mail" in banner
        assert "· re-queueing stranded back-channel logouts\nqueued again: 0\n" in banner
        assert "· purging expired sessions and challenges" in banner
        assert _purged_while_running(tmp_path / "portal.sqlite3")
        _the_responder_answers_on_its_own(env, tmp_path)

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert _port_closed(port) and _port_closed(vault_port) and _port_closed(rp_port)


def _the_responder_answers_on_its_own(env: dict, var) -> None:
    """`zorgsleutel smartcard-ca serve` beside it, on the demo's CA: the CA certificate, an OCSP
    answer signed by a responder its issuing CA certified, and nothing of the portal."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "zorgsleutel.cli", "smartcard-ca", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        issuing = x509.load_pem_x509_certificate((var / "smartcard-ca/issuing.pem").read_bytes())
        deadline = time.monotonic() + 30
        while _port_closed(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        status, body = _get(f"http://127.0.0.1:{port}/smartcards/ca.cer")
        assert (status, body) == (200, issuing.public_bytes(serialization.Encoding.DER))
        asked = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(
                _name_hash(issuing),
                _key_hash(issuing),
                12345,
                hashes.SHA1(),  # noqa: S303 (RFC 5019's CertID)
            )
            .add_extension(x509.OCSPNonce(b"run-test-nonce-1"), critical=False)
            .build()
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/smartcards/ocsp",
            asked.public_bytes(serialization.Encoding.DER),
            {"Content-Type": "application/ocsp-request"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = ocsp.load_der_ocsp_response(response.read())
        assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.certificate_status == ocsp.OCSPCertStatus.UNKNOWN  # never issued
        (responder,) = answer.certificates
        responder.verify_directly_issued_by(issuing)
        assert _get(f"http://127.0.0.1:{port}/")[0] == 404  # the status addresses alone
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(30) is not None


def _name_hash(issuer) -> bytes:
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 (RFC 5019's CertID)
    digest.update(issuer.subject.public_bytes())
    return digest.finalize()


def _key_hash(issuer) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization

    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 (RFC 5019's CertID)
    digest.update(
        issuer.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return digest.finalize()


def _purged_while_running(database) -> bool:
    """An expired session row put in while everything runs is gone within seconds; a live one
    stays (the runner runs `zorgsleutel purge` every PURGE_INTERVAL_SECONDS)."""
    import sqlite3

    with sqlite3.connect(database, timeout=20) as db:
        db.executemany(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
            [("expiredbytest", "e30", "2000-01-01 00:00:00"), ("livebytest", "e30", "2999-01-01")],
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(database, timeout=20) as db:
            keys = {row[0] for row in db.execute("SELECT session_key FROM django_session")}
        if "expiredbytest" not in keys:
            return "livebytest" in keys
        time.sleep(0.5)
    return False


def _port_closed(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_run_purges_every_10_minutes_unless_told_otherwise(monkeypatch):
    """policies.PURGE_INTERVAL; the environment may set another (the test above: 5 seconds)."""
    from zorgsleutel import runner

    monkeypatch.delenv("PURGE_INTERVAL_SECONDS", raising=False)
    assert runner.purge_interval_seconds() == 600
    monkeypatch.setenv("PURGE_INTERVAL_SECONDS", "5")
    assert runner.purge_interval_seconds() == 5
