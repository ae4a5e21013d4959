"""`zorgsleutel run`: one foreground process group with portal, vault and mail worker.

Migrates both databases, starts the vault, loads the demo (DEBUG only), starts the portal
(gunicorn), the worker and, with the demo, the demo relying party (demo/relyingparty.py: an
application logging people in through the portal), prints URLs and demo logins, and stops
everything on Ctrl-C. While it runs it re-queues stranded mail and back-channel logouts (`mail
requeue`, `oidc requeue-logouts`: what a dead worker left behind) every SWEEP_SECONDS and purges
expired rows (`zorgsleutel purge`) and advances the single sign-on keys (`zorgsleutel oidc
rotate-keys`) every policies.PURGE_INTERVAL.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from zorgsleutel import policies
from zorgsleutel.envconfig import VAR_DIR, env_bool, env_int, load_dotenv

ZS = [sys.executable, "-m", "zorgsleutel.cli"]
SWEEP_SECONDS = 300
PURGE = [*ZS, "purge"]
ROTATE_KEYS = [*ZS, "oidc", "rotate-keys"]  # the single sign-on keys' schedule (oidc/keys.py)
REQUEUE_MAIL = [*ZS, "mail", "requeue"]
REQUEUE_LOGOUTS = [*ZS, "oidc", "requeue-logouts"]  # back-channel logouts (oidc/backchannel.py)


def _gunicorn(app: str, port: int, workers: int, threads: int = 1) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


def serve_vault(args: list[str]) -> int:
    """`zorgsleutel vault serve`: the vault alone, for deployments where it has its own host."""
    parser = argparse.ArgumentParser(prog="zorgsleutel vault serve")
    parser.add_argument("--port", type=int, default=env_int("VAULT_PORT", 8001))
    parser.add_argument("--workers", type=int, default=env_int("VAULT_WORKERS", 2))
    parser.add_argument("--threads", type=int, default=env_int("VAULT_THREADS", 4))
    options = parser.parse_args(args)
    command = _gunicorn("zorgsleutel.vault.wsgi", options.port, options.workers, options.threads)
    os.execv(sys.executable, command)  # noqa: S606 (replace this process by gunicorn)
    return 0  # pragma: no cover


def _granian(app: str, port: int, workers: int, threads: int) -> list[str]:
    """granian (its HTTP in Rust) serving a WSGI `app`: the OCSP responder's server, whose
    answers cost less than gunicorn's own handling of a request (docs/benchmarks.md, OCSP)."""
    return [
        *(sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(workers), "--blocking-threads", str(threads)),
        *("--log-level", "warning", "--workers-kill-timeout", "5"),
        app,
    ]


def serve_status(args: list[str]) -> int:
    """`zorgsleutel smartcard-ca serve`: the smartcard CA's status endpoints alone (OCSP, CRL,
    the CA certificate), for a reverse proxy to send them to (docs/deployment.md)."""
    parser = argparse.ArgumentParser(prog="zorgsleutel smartcard-ca serve")
    parser.add_argument("--port", type=int, default=env_int("STATUS_PORT", 8003))
    parser.add_argument("--workers", type=int, default=env_int("STATUS_WORKERS", 2))
    parser.add_argument("--threads", type=int, default=env_int("STATUS_THREADS", 1))
    options = parser.parse_args(args)
    # No connection ping per answer (settings.DATABASES): a third of an answer on PostgreSQL.
    os.environ.setdefault("DATABASE_HEALTH_CHECKS", "0")
    command = _granian(
        "zorgsleutel.status_wsgi:application", options.port, options.workers, options.threads
    )
    os.execv(sys.executable, command)  # noqa: S606 (replace this process by granian)
    return 0  # pragma: no cover


def demo_relying_party(port: int, config: Path) -> subprocess.Popen:
    """The demo relying party on 127.0.0.1:`port`, reading its registration from `config`. One
    worker: its sessions live in its memory."""
    command = _gunicorn("zorgsleutel.demo.relyingparty:application()", port, 1, 4)
    return subprocess.Popen(command, env={**os.environ, "DEMO_RP_CONFIG": str(config)})


def purge_interval_seconds() -> int:
    """How often `run` purges: PURGE_INTERVAL_SECONDS, else policies.PURGE_INTERVAL."""
    return env_int("PURGE_INTERVAL_SECONDS", int(policies.PURGE_INTERVAL.total_seconds()))


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _step(title: str, command: list[str]) -> None:
    print(f"· {title}", flush=True)
    subprocess.run(command, check=True)


def _banner(port: int, vault_port: int, demo: bool) -> str:
    from zorgsleutel.demo import banner, relying_party_url

    lines = [
        "",
        "Zorgsleutel is running. Ctrl-C stops everything.",
        f"  portal       http://127.0.0.1:{port}/",
        f"  health       http://127.0.0.1:{port}/healthz",
        f"  dev mailbox  http://127.0.0.1:{port}/dev/mailbox   (mails and SMS codes)",
        f"  vault        http://127.0.0.1:{vault_port}/   (signed requests only)",
    ]
    if demo:
        lines += [
            f"  demo app     {relying_party_url()}/   (single sign-on: log in, see the claims)",
            "",
            *banner(f"http://127.0.0.1:{port}"),
        ]
    return "\n".join(lines)


def main(args: list[str]) -> int:
    load_dotenv()
    parser = argparse.ArgumentParser(prog="zorgsleutel run")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    options = parser.parse_args(args)
    port = env_int("PORT", 8000)
    vault_port = env_int("VAULT_PORT", 8001)
    debug = env_bool("DEBUG", False)
    demo = debug and not options.no_demo
    VAR_DIR.mkdir(parents=True, exist_ok=True)

    try:
        _step("migrating the portal database", [*ZS, "migrate", "--noinput", "-v", "0"])
        _step("creating the cache table", [*ZS, "createcachetable"])
        _step("migrating the vault database", [*ZS, "vault", "migrate", "--noinput", "-v", "0"])
        _step("re-queueing stranded mail", REQUEUE_MAIL)
        _step("re-queueing stranded back-channel logouts", REQUEUE_LOGOUTS)
        _step("purging expired sessions and challenges", PURGE)
        _step("advancing the single sign-on keys", ROTATE_KEYS)
    except subprocess.CalledProcessError as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 1

    processes: dict[str, subprocess.Popen] = {}

    def stop_all() -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        processes["vault"] = subprocess.Popen(_gunicorn("zorgsleutel.vault.wsgi", vault_port, 2, 4))
        if not _wait_for_port(vault_port, processes["vault"]):
            print(f"the vault did not start on port {vault_port}", file=sys.stderr)
            return 1
        if demo:
            _step("loading the demo data", [*ZS, "demo"])
        processes["portal"] = subprocess.Popen(_gunicorn("zorgsleutel.wsgi", port, 2, 4))
        if demo:
            from zorgsleutel.demo import RELYING_PARTY_CONFIG

            rp_port = env_int("DEMO_RP_PORT", 8002)
            config = VAR_DIR / "demo" / RELYING_PARTY_CONFIG
            processes["demo relying party"] = demo_relying_party(rp_port, config)
        processes["worker"] = subprocess.Popen(
            [
                *ZS,
                "db_worker",
                "--queue-name",
                "*",
                "--interval",
                "0.5",
                "--no-startup-delay",
                "--no-reload",
            ]
        )
        if not _wait_for_port(port, processes["portal"]):
            print(f"the portal did not start on port {port}", file=sys.stderr)
            return 1
        if demo and not _wait_for_port(rp_port, processes["demo relying party"]):
            print(f"the demo relying party did not start on port {rp_port}", file=sys.stderr)
            return 1
        print(_banner(port, vault_port, demo), flush=True)
        next_sweep = time.monotonic() + SWEEP_SECONDS
        purge_every = purge_interval_seconds()
        next_purge = time.monotonic() + purge_every
        while True:
            if time.monotonic() >= next_sweep:  # what a dead worker left behind goes out again
                subprocess.run(REQUEUE_MAIL, check=False, stdout=subprocess.DEVNULL)
                subprocess.run(REQUEUE_LOGOUTS, check=False, stdout=subprocess.DEVNULL)
                next_sweep = time.monotonic() + SWEEP_SECONDS
            if time.monotonic() >= next_purge:  # anonymous QR page views leave rows behind
                subprocess.run(PURGE, check=False, stdout=subprocess.DEVNULL)
                subprocess.run(ROTATE_KEYS, check=False, stdout=subprocess.DEVNULL)
                next_purge = time.monotonic() + purge_every
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} stopped (exit {process.returncode}); stopping the rest.")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all()
