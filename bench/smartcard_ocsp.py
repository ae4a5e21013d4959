"""Benchmark: OCSP answers per second from the portal's smartcard responder, beside `openssl
ocsp` as a responder, in one run on the same cores (not a test).

Setup (not timed): a fresh portal database (bench/_common.py) and a smartcard CA on a SoftHSM2
token of the run's own (`zorgsleutel smartcard-ca init`); --cards card certificates issued by it
(software P-256 keys' CSRs, smartcards/profile.py) and their rows: 80 % active, 10 % blocked
(certificateHold), 10 % revoked (keyCompromise). For `openssl ocsp` the same cards in an index
file, and a responder made as the portal's processes make theirs (smartcards/responder.py: a
P-256 key, certified by the issuing CA through the token for two days), its key written to a
file, since openssl signs only with a key it can read; the portal's key never leaves memory.

Requests: with a nonce, --requests distinct ones (every card, 16 random bytes each) POSTed;
without a nonce, one GET per card (RFC 6960 appendix A.1, base64 in the path). Every answer in the
timed phases is checked by wrk (status 200, responseStatus successful); before each phase one
answer per kind of card is read in full (signature by the responder, CertID, nonce echoed, the
card's status and reason).

Servers, one at a time, each measured for --seconds after --warmup:
  portal       gunicorn as `zorgsleutel run` starts it (2 gthread workers, 4 threads), DEBUG off,
               the status endpoints through Django's views and middleware
               (bench/smartcard_ocsp_wsgi.py: Django's WSGI application alone);
  status app   the same gunicorn serving zorgsleutel.wsgi: smartcards/status_app.py answers the
               status paths in front of Django;
  responder    `zorgsleutel smartcard-ca serve`: granian (2 workers, --responder-threads
               blocking threads each) serving the status app alone (zorgsleutel/status_wsgi.py);
  nginx        the shipped nginx site's plain-HTTP server in front of that responder (its OCSP
               cache: GET answers kept 5 s, then revalidated; POST passed through);
  openssl      `openssl ocsp -index … -multi 2` (two responder processes: as many as cores).
CPU is measured per process group from /proc: the server's processes, wrk, and everything else.

    .venv/bin/python bench/smartcard_ocsp.py                       # database cache
    .venv/bin/python bench/smartcard_ocsp.py --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/smartcard_ocsp.py --json

Needs wrk and openssl (Debian: apt-get install wrk openssl). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import getpass
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    BenchError,
    CpuSnapshot,
    Scratch,
    add_database_options,
    children,
    free_port,
    listening_pids,
    model,
    new_report,
    parse_options,
    run_main,
    speaker,
    stop_process,
)

PIN = "24681357"
CHECKS_LUA = r"""
-- Cycles through the requests of a file (one per line: "POST <hex body>" or "GET <path>") and
-- checks every answer: HTTP 200 and an OCSPResponse whose responseStatus is successful.
local requests, count, index = {}, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function unhex(text)
  return (text:gsub("..", function(pair) return string.char(tonumber(pair, 16)) end))
end

function init(args)
  for line in io.lines(args[1]) do
    local method, value = line:match("^(%u+) (.+)$")
    if method == "POST" then
      table.insert(requests, wrk.format("POST", wrk.path,
        {["Content-Type"] = "application/ocsp-request", ["X-Forwarded-Proto"] = "https"},
        unhex(value)))
    else
      table.insert(requests, wrk.format("GET", value, {["X-Forwarded-Proto"] = "https"}))
    end
  end
  count = #requests
  index = math.random(count) - 1
  bad_status, bad_body, checked = 0, 0, 0
end

function request()
  index = index % count + 1
  return requests[index]
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body:sub(5, 7) ~= "\10\1\0" then  -- 30 82 LL LL, then ENUMERATED successful (0)
    bad_body = bad_body + 1
  end
end

function done(summary, latency, requests)
  local totals = {checked = 0, bad_status = 0, bad_body = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format("CHECKED %d BAD_STATUS %d BAD_BODY %d\n",
    totals.checked, totals.bad_status, totals.bad_body))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("LATENCY_P%d %d\n", p, latency:percentile(p)))
  end
end
"""
WRK_RATE = re.compile(r"^\s*([0-9]+) requests in ([0-9.]+)s", re.MULTILINE)
WRK_CHECKS = re.compile(r"CHECKED (\d+) BAD_STATUS (\d+) BAD_BODY (\d+)")
WRK_LATENCY = re.compile(r"LATENCY_P(\d+) (\d+)")
STATES = ("active", "blocked", "revoked")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cards", type=int, default=200, help="card certificates [200]")
    parser.add_argument("--requests", type=int, default=2000, help="distinct nonce requests")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds each [10]")
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds first [3]")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections [8]")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads [1]")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per gunicorn worker, as `zorgsleutel run` [4]; 1 = sync workers",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated servers: portal,status-app,responder,nginx,openssl [all]",
    )
    parser.add_argument(
        "--responder-threads",
        type=int,
        default=1,
        help="granian's blocking threads per worker for the responder [1]",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also run N answers of each kind in this process under cProfile and print where "
        "the time goes (the status app's code without the HTTP server)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_database_options(parser, redis=True)
    return parse_options(parser, argv)


# --- setup -------------------------------------------------------------------------------------


def issue_cards(count: int):
    """`count` card certificates of the CA the settings name, and their rows; returns
    [(certificate, state, reason)]."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from zorgsleutel.smartcards import profile, runtime

    organisation = model("organisations.Organisation").objects.create(
        name="Zorggroep Bench", kind="care_provider", ura="90000333"
    )
    user_model, smartcard = model("accounts.User"), model("smartcards.Smartcard")
    now = datetime.now(UTC).replace(microsecond=0)
    user_model.objects.bulk_create(
        [
            user_model(email=f"kaart{n}@bench.nl", name=f"Kaart {n}", state="active")
            for n in range(count)
        ]
    )
    users = list(user_model.objects.filter(email__endswith="@bench.nl").order_by("pk"))
    key = ec.generate_private_key(ec.SECP256R1())  # the card keys do not matter here
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")]))
        .sign(key, hashes.SHA256())
    )
    cards, rows = [], []
    for number, user in enumerate(users):
        holder = profile.Holder(
            name=user.name, public_id=str(user.public_id), organisation=organisation.name, ura="1"
        )
        issued = runtime.with_ca(lambda ca, holder=holder: profile.issue(ca, csr, holder))
        state = STATES[1] if number % 10 == 1 else STATES[2] if number % 10 == 2 else STATES[0]
        reason = "key_compromise" if state == "revoked" else ""
        cards.append((issued, state, reason))
        rows.append(
            smartcard(
                public_id=f"bench-{number}",
                user=user,
                organisation=organisation,
                serial=f"{issued.serial_number:x}",
                card_serial=f"bench-{number}",
                certificate=issued.public_bytes(serialization.Encoding.DER),
                fingerprint=issued.fingerprint(hashes.SHA256()).hex(),
                not_after=issued.not_valid_after_utc,
                issued_at=now,
                route="in_person",
                state=state,
                state_changed_at=now - timedelta(minutes=1),
                revocation_reason=reason,
            )
        )
    smartcard.objects.bulk_create(rows)
    return cards


def openssl_responder_files(directory: Path, cards, certificates) -> None:
    """index.txt (the same cards, the same states), issuing.pem, and a P-256 responder key and
    certificate made as the portal's responder makes its own (smartcards/responder.py), issued
    by the issuing CA through the token: the same kind of key, in a file for openssl."""
    from cryptography.hazmat.primitives import serialization

    from zorgsleutel.smartcards import responder as ocsp_responder
    from zorgsleutel.smartcards import runtime

    directory.mkdir()
    issuing = certificates["issuing"]
    made = runtime.with_ca(lambda ca: ocsp_responder.certify(ca, datetime.now(UTC)))
    responder, key = made.certificate, made.signer.key
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    pem = serialization.Encoding.PEM
    (directory / "responder.pem").write_bytes(responder.public_bytes(pem))
    (directory / "responder.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / "issuing.pem").write_bytes(issuing.public_bytes(pem))
    revoked_at = (now - timedelta(minutes=1)).strftime("%y%m%d%H%M%SZ")
    reasons = {"blocked": "certificateHold", "revoked": "keyCompromise"}
    lines = []
    for issued, state, _ in cards:
        expiry = issued.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
        revocation = f"{revoked_at},{reasons[state]}" if state != "active" else ""
        flag = "V" if state == "active" else "R"
        lines.append(
            f"{flag}\t{expiry}\t{revocation}\t{issued.serial_number:X}\tunknown\t/CN=card\n"
        )
    (directory / "index.txt").write_text("".join(lines))
    (directory / "index.txt.attr").write_text("unique_subject = no\n")


def request_files(workdir: Path, cards, issuing, count: int) -> dict[str, Path]:
    """The requests wrk sends: POST with a nonce (hex bodies), GET without (paths: the
    portal's, and openssl's, which takes the request right after the first slash)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    sha1 = hashes.SHA1()  # noqa: S303 (RFC 5019's CertID)

    def der(issued, nonce: bytes | None) -> bytes:
        builder = ocsp.OCSPRequestBuilder().add_certificate(issued, issuing, sha1)
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.build().public_bytes(serialization.Encoding.DER)

    nonce_lines = [
        f"POST {der(cards[n % len(cards)][0], secrets.token_bytes(16)).hex()}\n"
        for n in range(count)
    ]
    encoded = [_quoted(der(issued, None)) for issued, _, _ in cards]
    files = {
        "nonce": workdir / "nonce.txt",
        "cached": workdir / "cached.txt",
        "cached-openssl": workdir / "cached-openssl.txt",
    }
    files["nonce"].write_text("".join(nonce_lines))
    files["cached"].write_text("".join(f"GET /smartcards/ocsp/{e}\n" for e in encoded))
    files["cached-openssl"].write_text("".join(f"GET /{e}\n" for e in encoded))
    return files


def _quoted(der: bytes) -> str:
    """base64, URL-encoded (RFC 6960 appendix A.1)."""
    return urllib.request.quote(base64.b64encode(der).decode(), safe="")


# --- checking answers in full ----------------------------------------------------------------


def check_answers(post_url: str, get_prefix: str, cards, certificates) -> list[str]:
    """One POST with a nonce and one GET without per kind of card, read in full: problems."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import ocsp

    issuing = certificates["issuing"]
    sha1 = hashes.SHA1()  # noqa: S303
    expected = {
        "active": (ocsp.OCSPCertStatus.GOOD, None),
        "blocked": (ocsp.OCSPCertStatus.REVOKED, x509.ReasonFlags.certificate_hold),
        "revoked": (ocsp.OCSPCertStatus.REVOKED, x509.ReasonFlags.key_compromise),
    }
    problems = []
    for state in STATES:
        issued = next(c for c, s, _ in cards if s == state)
        for nonce in (secrets.token_bytes(16), None):
            builder = ocsp.OCSPRequestBuilder().add_certificate(issued, issuing, sha1)
            if nonce:
                builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
            der = builder.build().public_bytes(serialization.Encoding.DER)
            if nonce:
                http = urllib.request.Request(
                    post_url, der, {"Content-Type": "application/ocsp-request"}
                )
            else:
                http = urllib.request.Request(get_prefix + _quoted(der))
            http.add_header("X-Forwarded-Proto", "https")
            with urllib.request.urlopen(http, timeout=10) as answer:
                read = ocsp.load_der_ocsp_response(answer.read())
            kind = f"{state} {'with' if nonce else 'without'} nonce"
            if read.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
                problems.append(f"{kind}: {read.response_status}")
                continue
            (signer,) = read.certificates  # the delegated responder, issued by our CA
            signer.verify_directly_issued_by(certificates["issuing"])
            signer.public_key().verify(
                read.signature, read.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
            )
            try:
                echoed = read.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            except x509.ExtensionNotFound:
                echoed = None
            got = (read.certificate_status, read.revocation_reason)
            if read.serial_number != issued.serial_number or got != expected[state]:
                problems.append(f"{kind}: {got}")
            if echoed != nonce:
                problems.append(f"{kind}: nonce {echoed!r}")
    return problems


# --- where the time goes ----------------------------------------------------------------------


def profile_in_process(files: dict[str, Path], count: int) -> dict:
    """The responder's application (status_wsgi: the status app, and on PostgreSQL the cards'
    states in memory) called in this process (the portal's settings, database and token; no
    HTTP server): µs per answer of each kind, and cProfile's top functions by own time."""
    import cProfile
    import io
    import pstats

    from zorgsleutel import status_wsgi
    from zorgsleutel.smartcards import runtime, statemirror

    def call(line: str) -> None:
        method, value = line.split(" ", 1)
        body = bytes.fromhex(value) if method == "POST" else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/smartcards/ocsp" if method == "POST" else urllib.request.unquote(value),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        status_wsgi.application(environ, lambda status, headers: None)

    found = {}
    for kind in ("nonce", "cached"):
        lines = files[kind].read_text().splitlines()
        for line in lines:  # warm: the token opened, the cache filled, the mirror started
            call(line)
        deadline = time.monotonic() + 10
        while statemirror.start() and not statemirror.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.perf_counter()
        for n in range(count):
            call(lines[n % len(lines)])
        found[f"{kind}_us"] = round((time.perf_counter() - started) / count * 1e6)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(count):
            call(lines[n % len(lines)])
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(os.environ.get("OCSP_PROFILE_SORT", "tottime")).print_stats(30)
        found[f"{kind}_profile"] = out.getvalue()
        print(f"--- {kind}: {found[f'{kind}_us']} µs per answer in-process\n{out.getvalue()}")
    statemirror.stop()
    runtime.reset()
    return found


# --- measuring -------------------------------------------------------------------------------


def wrk(url: str, script: Path, requests: Path, seconds: float, options) -> str:
    command = ["wrk", f"-t{options.wrk_threads}", f"-c{options.connections}", f"-d{seconds:g}s"]
    command += ["--timeout", "10s", "-s", str(script), url, "--", str(requests)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def measure(name: str, url: str, server, script: Path, requests: Path, options) -> dict:
    """One timed phase after a warm-up: rate, latency, checks and CPU per process group.
    `server.fresh()` comes before each run of wrk, `server.pids()` are its processes."""
    server.fresh()
    wrk(url, script, requests, options.warmup, options)
    server.fresh()
    pids = server.pids()
    before, client_before = CpuSnapshot.take(), _children_cpu()
    started = time.monotonic()
    out = wrk(url, script, requests, options.seconds, options)
    elapsed = time.monotonic() - started
    after, client_cpu = CpuSnapshot.take(), _children_cpu() - client_before
    rate, checks = WRK_RATE.search(out), WRK_CHECKS.search(out)
    if rate is None or checks is None:
        raise BenchError(f"wrk printed no request count for {name}:\n{out}")
    answered = int(rate.group(1))
    result = {
        "name": name,
        "answers": answered,
        "seconds": float(rate.group(2)),
        "per_second": round(answered / float(rate.group(2))),
        "checked": int(checks.group(1)),
        "bad_status": int(checks.group(2)),
        "bad_body": int(checks.group(3)),
        "latency_ms": {f"p{p}": round(int(us) / 1000, 2) for p, us in WRK_LATENCY.findall(out)},
    }
    if before is not None and after is not None:
        server_cpu = sum(after.used_since(before, pid) for pid in pids)
        busy = after.system["busy"] - before.system["busy"]
        idle = after.system["idle"] - before.system["idle"]
        result["cpu_seconds"] = {
            "server": round(server_cpu, 2),
            "wrk": round(client_cpu, 2),  # this process's children: wrk, which has exited
            "other": round(max(busy - server_cpu - client_cpu, 0), 2),
            "idle": round(idle, 2),
            "wall": round(elapsed, 2),
        }
        result["server_cpu_us_per_answer"] = round(server_cpu / answered * 1e6)
    return result


def _children_cpu() -> float:
    """CPU seconds of this process's children that have exited (wrk, once it returned)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class Gunicorn:
    """The portal's gunicorn (bench/_common.py's Portal), started once for its phases."""

    def __init__(self, portal, app: str, threads: int):
        self.portal, self.app, self.threads = portal, app, threads

    def __enter__(self) -> Gunicorn:
        self.portal.start(app=self.app, threads=self.threads)
        return self

    def __exit__(self, *exc) -> None:
        self.portal.stop()

    def fresh(self) -> None:
        pass

    def pids(self) -> set[int]:
        return self.portal.pids()


class Responder(Gunicorn):
    """`zorgsleutel smartcard-ca serve`'s server (granian, the status app alone) on the portal's
    port, as a deployment runs it behind the reverse proxy."""

    def __init__(self, portal, workers: int, threads: int):
        self.portal, self.workers, self.threads = portal, workers, threads

    def __enter__(self) -> Responder:
        command = [
            *(sys.executable, "-m", "zorgsleutel.cli", "smartcard-ca", "serve"),
            *("--port", str(self.portal.port), "--workers", str(self.workers)),
            *("--threads", str(self.threads)),
        ]
        self.portal.start(command=command, ready_path="/smartcards/ca.cer")
        return self


class NginxInFront:
    """The shipped nginx site's plain-HTTP server (deploy/nginx/zorgsleutel.conf: its OCSP cache
    for GET answers) on a free port, in front of a running Responder; its TLS servers left out
    (wrk speaks plain HTTP, as OCSP clients do). nginx's CPU is the server's, with the
    responder's."""

    def __init__(self, directory: Path, responder: Responder):
        self.directory, self.responder = directory, responder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def site(self) -> str:
        """The shipped file up to its first server (upstreams, the cache) and that server, the
        plain-HTTP one, on this port, in front of the responder."""
        shipped = (
            Path(__file__).resolve().parents[1] / "deploy/nginx/zorgsleutel.conf"
        ).read_text()
        text = "\n".join(line.split("#", 1)[0].rstrip() for line in shipped.splitlines())
        start = text.index("\nserver {") + 1
        depth, end = 0, start
        for end in range(text.index("{", start), len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        head, plain = text[:start], text[start : end + 1]
        if "listen 80;" not in plain:
            raise BenchError("the shipped nginx site no longer starts with its port-80 server")
        plain = plain.replace("listen [::]:80;", "").replace(
            "listen 80;", f"listen 127.0.0.1:{self.port};"
        )
        head = head.replace(
            "server 127.0.0.1:8003;", f"server 127.0.0.1:{self.responder.portal.port};"
        ).replace("/var/cache/nginx/zorgsleutel-ocsp", str(self.directory / "cache"))
        return head + plain

    def __enter__(self) -> NginxInFront:
        self.directory.mkdir(exist_ok=True)
        temp = "\n".join(
            f"  {kind}_temp_path {self.directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = self.directory / "nginx.conf"
        # Its workers run as this user: the scratch directory is this user's alone.
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        conf.write_text(
            user + f"daemon off;\nworker_processes 2;\npid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.directory / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log off;\n{temp}\n{self.site()}\n}}\n"
        )
        self.process = subprocess.Popen(
            [
                "nginx",
                "-p",
                str(self.directory),
                "-c",
                str(conf),
                "-e",
                str(self.directory / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if listening_pids(self.port):
                return self
            time.sleep(0.05)
        raise BenchError(f"nginx did not listen:\n{(self.directory / 'error.log').read_text()}")

    def __exit__(self, *exc) -> None:
        stop_process(self.process, seconds=5)

    def fresh(self) -> None:
        pass

    def pids(self) -> set[int]:
        return children(self.process.pid) | {self.process.pid} | self.responder.pids()


class OpenSslResponder:
    """`openssl ocsp -multi N` on a free port, started afresh before every run of wrk: its
    children stop answering for good once a client closes a kept-alive connection between
    requests, as wrk does at the end of a run (openssl/openssl#31129, #23934: the child spins
    on the closed connection; OpenSSL 3.0 here)."""

    def __init__(self, directory: Path, workers: int):
        self.directory, self.workers = directory, workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> OpenSslResponder:
        self.fresh()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def fresh(self) -> None:
        self.stop()
        command = [
            *("openssl", "ocsp", "-index", "index.txt", "-CA", "issuing.pem"),
            *("-rsigner", "responder.pem", "-rkey", "responder.key", "-resp_key_id"),
            *("-port", str(self.port), "-nmin", "60", "-multi", str(self.workers)),
        ]
        with (self.directory / "openssl.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            if len(self.pids()) > self.workers:  # the master and its children listen
                return
            time.sleep(0.05)
        log = (self.directory / "openssl.log").read_text()[-2000:]
        self.stop()
        raise BenchError(f"openssl ocsp did not listen:\n{log}")

    def pids(self) -> set[int]:
        return listening_pids(self.port)

    def stop(self) -> None:
        """The master and its children (a spinning child outlives its master)."""
        if self.process is None:
            return
        for pid in sorted(children(self.process.pid) - {self.process.pid}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stop_process(self.process, seconds=2)
        self.process = None


def run(options: argparse.Namespace) -> dict:
    for tool in ("wrk", "openssl"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} is not installed (apt-get install {tool})")
    say = speaker(options.json)
    only = set(filter(None, options.only.split(","))) or {
        "portal",
        "status-app",
        "responder",
        "nginx",
        "openssl",
    }
    report = new_report("smartcard_ocsp", load_before=True, options=vars(options))
    here = Path(__file__).resolve().parent
    with Scratch("zs-bench-ocsp-", options.database_url, options.redis_url) as scratch:
        portal = scratch.portal(scratch.database("portal"))
        ca_dir = scratch.workdir / "smartcard-ca"
        portal.env.update(
            SMARTCARD_CA_DIR=str(ca_dir),
            SMARTCARD_CA_PIN=PIN,
            PYTHONPATH=os.pathsep.join(filter(None, [str(here), os.environ.get("PYTHONPATH")])),
        )
        say("setup: database, smartcard CA on SoftHSM2, cards")
        portal.migrate()
        portal.manage(
            *("smartcard-ca", "init", "--dir", str(ca_dir)),
            *("--softhsm-dir", str(scratch.workdir / "softhsm"), "--url", portal.url),
        )
        portal.django()
        from zorgsleutel.smartcards import runtime

        cards = issue_cards(options.cards)
        certificates = runtime.with_ca(lambda ca: dict(ca.certificates))
        openssl_dir = scratch.workdir / "openssl"
        openssl_responder_files(openssl_dir, cards, certificates)
        runtime.reset()
        files = request_files(scratch.workdir, cards, certificates["issuing"], options.requests)
        script = scratch.workdir / "checks.lua"
        script.write_text(CHECKS_LUA)
        if options.profile:
            report["profile"] = profile_in_process(files, options.profile)
        report["setup"] = {
            "cards": {state: sum(1 for _, s, _ in cards if s == state) for state in STATES},
            "cache": scratch.describe_cache(),
            "database": scratch.describe(),
            "openssl": subprocess.run(
                ["openssl", "version"], capture_output=True, text=True
            ).stdout.strip(),
            "softhsm": _softhsm_version(),
        }
        phases, problems = [], []

        def phases_of(name: str, server, post_url: str, get_prefix: str, cached: str) -> None:
            checked = check_answers(post_url, get_prefix, cards, certificates)
            problems.extend(f"{name}: {problem}" for problem in checked)
            for kind, label in (("nonce", "POST with a nonce"), (cached, "GET without a nonce")):
                say(f"{name}: {label}")
                result = measure(f"{name}: {label}", post_url, server, script, files[kind], options)
                result["server"], result["kind"] = name, kind.split("-")[0]
                phases.append(result)
                cpu = result.get("server_cpu_us_per_answer")
                say(f"  {result['per_second']:,}/s, server {cpu} µs CPU each")

        for name, app in (("portal", "smartcard_ocsp_wsgi"), ("status-app", "zorgsleutel.wsgi")):
            if name in only:
                with Gunicorn(portal, app, options.threads) as server:
                    base = portal.url + "/smartcards/ocsp"
                    phases_of(name, server, base, base + "/", cached="cached")
        if "responder" in only or "nginx" in only:
            with Responder(portal, workers=2, threads=options.responder_threads) as server:
                base = portal.url + "/smartcards/ocsp"
                if "responder" in only:
                    phases_of("responder", server, base, base + "/", cached="cached")
                if "nginx" in only:
                    with NginxInFront(scratch.workdir / "nginx", server) as proxy:
                        base = f"http://127.0.0.1:{proxy.port}/smartcards/ocsp"
                        phases_of("nginx + responder", proxy, base, base + "/", cached="cached")
        if "openssl" in only:
            with OpenSslResponder(openssl_dir, workers=2) as server:
                # openssl answers a POST on any path, a GET right after the first slash
                base = f"http://127.0.0.1:{server.port}/"
                phases_of("openssl", server, base, base, cached="cached-openssl")
        report["phases"] = phases
        report["problems"] = problems
    return report


def _softhsm_version() -> str:
    try:
        return subprocess.run(
            ["softhsm2-util", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def print_summary(report: dict) -> None:
    print(f"cards: {report['setup']['cards']}; cache: {report['setup']['cache']}")
    print(
        f"{'phase':45} {'answers/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'server µs':>10} "
        f"{'wrk s':>6} {'other s':>7} {'idle s':>6} bad"
    )
    for phase in report["phases"]:
        cpu, latency = phase.get("cpu_seconds", {}), phase["latency_ms"]
        print(
            f"{phase['name']:45} {phase['per_second']:>10,} {latency.get('p50', 0):>7} "
            f"{latency.get('p99', 0):>7} {phase.get('server_cpu_us_per_answer', 0):>10} "
            f"{cpu.get('wrk', 0):>6} {cpu.get('other', 0):>7} {cpu.get('idle', 0):>6} "
            f"{phase['bad_status'] + phase['bad_body']}"
        )


def problems_of(report: dict) -> list[str]:
    found = list(report.get("problems", []))
    for phase in report["phases"]:
        if phase["bad_status"] or phase["bad_body"]:
            found.append(
                f"{phase['name']}: {phase['bad_status']} answers not 200, "
                f"{phase['bad_body']} not successful"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems_of)


if __name__ == "__main__":
    sys.exit(main())
