"""The benchmarks' shared harness (not a test); each script in bench/ keeps what it measures.

- `Scratch`: a temporary work directory with fresh databases (SQLite files there, or scratch
  PostgreSQL databases created and dropped), optionally a Redis key prefix whose keys are
  deleted at the end, and the servers started in it; on exit all are stopped and removed.
- `Portal`: its environment (DEBUG off behind a TLS proxy, random keys), management commands,
  gunicorn exactly as `zorgsleutel run` starts it, and the task worker. `Vault`: `zorgsleutel
  vault serve` with fresh random keys. `SignedConnection`: requests signed as the portal
  signs them. `Browser`: cookies and forms behind the TLS proxy. `WsgiClient`: requests to
  the portal's WSGI application in this process, with the thread's CPU time of each.
  `enrol_numbers`: confirmed or pending phone enrolments with their codes, read from the
  vault's dev outbox.
- `CpuSnapshot`, `cpu_groups`: CPU seconds per group of processes, from /proc.
- `percentile`, `latency_ms`; `machine`, `versions`, `new_report`, `run_main`: the report's
  frame (--json or the script's summary; exit status 1 on problems, 2 when it could not run).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import http.client
import io
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import zorgsleutel
from zorgsleutel import vaultprotocol

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
BATCH = 100  # numbers per enrolment batch: last two digits 00..99, so hints are unique in one
CODE = re.compile(r"\b([0-9]{6})\b")
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
MAX_ERROR_SAMPLES = 10
PASSWORD = "Bench-wachtwoord-2026"  # noqa: S105 (benchmark people in a throw-away database)
VAULT_THREADS = int(os.environ.get("VAULT_THREADS") or 4)  # as `zorgsleutel vault serve`
DEV_GATEWAY = "zorgsleutel.vault.gateways.dev.DevOutboxGateway"
# Settings of the environment that must not leak into the servers the scripts start.
STRIP_ENV = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "EMAIL_URL",
    "SITE_URL",
    "PORT",
    "LOG_LEVEL",
    "SECURE_SSL_REDIRECT",
    "BEHIND_TLS_PROXY",
    "TRUSTED_PROXIES",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_SETTINGS_MODULE",
    "MAX_REQUEST_BYTES",
)
STRIP_PREFIXES = ("VAULT_", "GUNICORN_", "ZS_")


class BenchError(Exception):
    """The benchmark could not run (setup failed); the message says why."""


def clean_environ() -> dict[str, str]:
    """This process's environment without the settings of the servers (PYTHONPATH stays: a
    copy of the code first on it is what every server runs)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in STRIP_ENV and not k.startswith(STRIP_PREFIXES)
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen | None, seconds: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `seconds`."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- databases -----------------------------------------------------------------------------


def add_database_options(parser: argparse.ArgumentParser, *, redis: bool = False) -> None:
    parser.add_argument(
        "--database-url",
        default="sqlite",
        help="'sqlite' (temporary files, the default) or postgres://user@127.0.0.1:5432/db: "
        "scratch databases are created there and dropped at the end",
    )
    if redis:
        parser.add_argument(
            "--redis-url",
            default="",
            help="redis://127.0.0.1:6379/N as the cache (keys under a random prefix, deleted "
            "at the end) [default: the database cache table]",
        )


def add_vault_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """--[prefix]workers and --[prefix]threads of the vault, as `zorgsleutel vault serve`."""
    parser.add_argument(f"--{prefix}workers", type=int, default=2, help="vault workers [2]")
    parser.add_argument(
        f"--{prefix}threads",
        type=int,
        default=VAULT_THREADS,
        help="vault threads per worker; 1 = sync workers [$VAULT_THREADS or 4]",
    )


def parse_options(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options, the database options checked: only local servers ('sqlite' or
    postgres://…@127.0.0.1/…, redis://127.0.0.1…)."""
    options = parser.parse_args(argv)
    options.database_url = options.database_url or "sqlite"
    if options.database_url != "sqlite":
        parts = urllib.parse.urlsplit(options.database_url)
        if parts.scheme not in ("postgres", "postgresql") or parts.hostname not in LOCAL_HOSTS:
            parser.error("--database-url is 'sqlite' or postgres://...@127.0.0.1/...")
    if getattr(options, "redis_url", ""):
        parts = urllib.parse.urlsplit(options.redis_url)
        if parts.scheme != "redis" or parts.hostname not in LOCAL_HOSTS:
            parser.error("--redis-url must be redis://127.0.0.1:PORT/N")
    return options


class ScratchPostgres:
    """CREATE a scratch database on the server of `url`; DROP it at the end."""

    def __init__(self, url: str):
        import psycopg  # only needed for PostgreSQL runs

        self.psycopg = psycopg
        self.admin_url = url
        parts = urllib.parse.urlsplit(url)
        self.name = f"zs_bench_{secrets.token_hex(4)}"
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def __enter__(self) -> ScratchPostgres:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def version(self) -> str:
        with self.psycopg.connect(self.admin_url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


class RedisScratch:
    """A random key prefix on a local Redis; its keys are deleted at the end."""

    def __init__(self, url: str):
        import redis

        self.url = url
        self.prefix = f"zsbench-{secrets.token_hex(4)}"
        self.client = redis.Redis.from_url(url)
        self.version = self.client.info("server").get("redis_version", "")

    def close(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            self.client.delete(*keys[start : start + 1000])
        self.client.close()


class Scratch(contextlib.ExitStack):
    """A temporary work directory, fresh databases, optionally a Redis key prefix, and the
    servers started there: on exit the servers stop, the databases are dropped, the keys
    deleted and the directory removed."""

    def __init__(self, prefix: str, database_url: str = "sqlite", redis_url: str = ""):
        super().__init__()
        self.prefix, self.database_url, self.redis_url = prefix, database_url, redis_url
        self.redis: RedisScratch | None = None
        self.scratch: list[str] = []  # the PostgreSQL databases (their backends count)
        self.databases = 0
        self.version = ""

    def __enter__(self) -> Scratch:
        super().__enter__()
        try:
            self.workdir = Path(self.enter_context(tempfile.TemporaryDirectory(prefix=self.prefix)))
            if self.redis_url:
                self.redis = RedisScratch(self.redis_url)
                self.callback(self.redis.close)
        except BaseException:
            self.close()
            raise
        return self

    def database(self, name: str) -> str:
        """The URL of a fresh database: a file in the work directory or a scratch database."""
        self.databases += 1
        if self.database_url == "sqlite":
            import sqlite3

            self.version = f"SQLite {sqlite3.sqlite_version}"
            return f"sqlite:///{self.workdir / (name + '.sqlite3')}"
        scratch = self.enter_context(ScratchPostgres(self.database_url))
        self.scratch.append(scratch.name)
        self.version = f"PostgreSQL {scratch.version()}"
        return scratch.url

    def describe(self) -> str:
        several = "s" if self.databases > 1 else ""
        if self.database_url == "sqlite":
            return (
                f"{self.version} (temporary file{several}; WAL, synchronous=NORMAL, "
                "BEGIN IMMEDIATE)"
            )
        return f"{self.version} (scratch database{several} {', '.join(self.scratch)}, same machine)"

    def describe_cache(self) -> str:
        if self.redis is None:
            return "database cache table (sessions in the database)"
        return f"Redis {self.redis.version} (cache; sessions cached_db)"

    def portal(self, database_url: str, **options) -> Portal:
        portal = Portal(
            workdir=self.workdir, database_url=database_url, redis=self.redis, **options
        )
        self.callback(portal.stop)
        return portal

    def vault(self, database_url: str, **options) -> Vault:
        vault = Vault(workdir=self.workdir, database_url=database_url, **options)
        self.callback(vault.stop)
        return vault


# --- in-process requests ----------------------------------------------------------------


class WsgiClient:
    """A browser (or card client) talking to the WSGI application in this process: its
    cookies, the TLS proxy's headers, its workstation's address."""

    def __init__(self, application, host: str, accept: str):
        self.application, self.host, self.accept = application, host, accept
        self.cookies: dict[str, str] = {}
        self.address = "10.0.0.1"
        self.watchers: list = []
        self.headers: list[
            tuple[str, str]
        ] = []  # each with enter(step) and leave(step) around a request

    def request(
        self,
        step: str,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, float]:
        """(status, body, this thread's CPU seconds for the whole request); the answer's
        headers are in self.headers afterwards."""
        for watcher in self.watchers:
            watcher.enter(step)
        try:
            return self._request(method, path, body, content_type, headers or {})
        finally:
            for watcher in self.watchers:
                watcher.leave(step)

    def _request(
        self, method: str, path: str, body: bytes, content_type: str, headers: dict[str, str]
    ) -> tuple[int, bytes, float]:
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.host.split(":")[0],
            "SERVER_PORT": self.host.split(":")[1] if ":" in self.host else "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": self.host,
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": self.address,
            "HTTP_ACCEPT": self.accept,
            "HTTP_ACCEPT_LANGUAGE": "nl",
            "HTTP_USER_AGENT": "zorgsleutel-bench/1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if body:
            environ["CONTENT_TYPE"] = content_type
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        started = time.thread_time()
        result = self.application(environ, start_response)
        try:
            raw = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        used = time.thread_time() - started
        self.headers = answer["headers"]
        for name, value in answer["headers"]:
            if name.lower() != "set-cookie":
                continue
            key, _, rest = value.partition("=")
            content = rest.split(";", 1)[0]
            if content in ("", '""') or "max-age=0" in rest.lower():
                self.cookies.pop(key.strip(), None)
            else:
                self.cookies[key.strip()] = content
        return answer["status"], raw, used


class Profiles:
    """A cProfile per step, a WsgiClient watcher (the profiler slows Python code unevenly: only
    for where to look)."""

    def __init__(self, steps):
        self.profiles = {step: cProfile.Profile() for step in steps}

    def enter(self, step: str) -> None:
        self.profiles[step].enable()

    def leave(self, step: str) -> None:
        self.profiles[step].disable()

    def dump(self, prefix: str) -> None:
        """Each step's into PREFIX.<step> (pstats)."""
        for step, profile in self.profiles.items():
            profile.dump_stats(f"{prefix}.{step}")


# --- the servers ---------------------------------------------------------------------------


class _Server:
    """A gunicorn process of this benchmark, its log file in the work directory."""

    name = "server"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log_path = workdir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None
        self.command: list[str] = []

    def _launch(self, env: dict[str, str], ready: Callable[[], bool], seconds: float) -> None:
        """Start `self.command`; wait until `ready()` (it raises OSError while nobody listens)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the {self.name} exited ({self.process.returncode}):\n{self.log()}"
                )
            try:
                if ready():
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"the {self.name} did not answer within {seconds:.0f} s:\n{self.log()}")

    def log(self, name: str = "") -> str:
        """The tail of its log (or of the log file `name` in the work directory)."""
        path = self.workdir / name if name else self.log_path
        try:
            return path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.process)


class Portal(_Server):
    """The portal's environment, management commands, gunicorn and worker processes."""

    name = "portal"

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        debug: bool = False,
        redis: RedisScratch | None = None,
        vault_url: str = "http://127.0.0.1:9",
        vault_key: str = "",
        email_url: str = "",
        gunicorn_args: str = "",
    ):
        super().__init__(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.debug = debug
        env = clean_environ()
        env.update(
            ZS_BASE_DIR=str(workdir),  # no .env of the work tree, nothing under var/
            ZS_VAR_DIR=str(workdir),
            DJANGO_SETTINGS_MODULE="zorgsleutel.settings",
            DEBUG="1" if debug else "0",
            SECRET_KEY=secrets.token_urlsafe(48),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=database_url,
            VAULT_URL=vault_url,
            VAULT_CLIENT_ID="portal",
            VAULT_CLIENT_KEY=vault_key or secrets.token_urlsafe(32),
            SITE_URL=f"https://127.0.0.1:{self.port}",
            LOG_LEVEL="WARNING",
        )
        if email_url:
            env["EMAIL_URL"] = email_url
        if redis is not None:
            env.update(REDIS_URL=redis.url, CACHE_KEY_PREFIX=redis.prefix)
        if gunicorn_args:
            env["GUNICORN_CMD_ARGS"] = gunicorn_args
        self.env = env
        self.workers: list[subprocess.Popen] = []

    def manage(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        """`zorgsleutel <args>` with the portal's environment; raises BenchError on failure."""
        result = subprocess.run(
            [sys.executable, "-m", "zorgsleutel.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise BenchError(
                f"zorgsleutel {shlex.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-1500:]}{result.stderr[-2500:]}"
            )
        return result

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("createcachetable")

    def django(self) -> None:
        """Configure Django in this process with the portal's settings (for the setup)."""
        os.environ.update(self.env)
        import django

        django.setup()

    def start(
        self,
        *,
        workers: int = 2,
        threads: int = 4,
        seconds: float = 60,
        app="zorgsleutel.wsgi",
        command: list[str] | None = None,
        ready_path: str = "/healthz",
    ) -> None:
        """gunicorn exactly as `zorgsleutel run` starts it (with another WSGI `app`: the same
        server around that application), or another server's `command` on self.port; waits
        until `ready_path` answers."""
        from zorgsleutel.runner import _gunicorn

        self.command = command or _gunicorn(app, self.port, workers, threads)

        def ready() -> bool:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", ready_path, headers={"X-Forwarded-Proto": "https"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status in (200, 503):  # up (503: the vault is not there)
                return True
            raise BenchError(f"the portal's {ready_path} answered {response.status}")

        self._launch(self.env, ready, seconds)

    def pids(self) -> set[int]:
        """The server's master and its workers."""
        return listening_pids(self.port) | children(self.process.pid)

    def start_worker(self, log_name: str = "worker.log") -> subprocess.Popen:
        """`zorgsleutel db_worker` exactly as `zorgsleutel run` starts it."""
        command = [
            *[sys.executable, "-m", "zorgsleutel.cli", "db_worker", "--queue-name", "*"],
            *["--interval", "0.5", "--no-startup-delay", "--no-reload"],
        ]
        with (self.workdir / log_name).open("ab") as log:
            process = subprocess.Popen(
                command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for process in [*self.workers, self.process]:
            stop_process(process)


class Vault(_Server):
    """`zorgsleutel vault serve` on a free port with a fresh database and fresh random keys.

    Started with DEBUG=1 the dev outbox endpoint (GET /v1/dev/sms) exists; started with DEBUG
    off it runs production settings (no Django query logging) with the same key material and
    the dev outbox gateway configured explicitly."""

    name = "vault"

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        client: str = "portal",
        workers: int = 2,
        threads: int = 4,
        gunicorn_args: str = "",
    ):
        super().__init__(workdir)
        self.client, self.workers, self.threads = client, workers, threads
        self.key = secrets.token_urlsafe(32).encode()  # DEBUG off refuses the dev key
        self.url = ""

        def random_key() -> str:
            return base64.b64encode(os.urandom(32)).decode()

        env = clean_environ()
        env.update(
            ZS_BASE_DIR=str(workdir),  # no .env of the work tree, nothing under var/
            ZS_VAR_DIR=str(workdir),
            VAULT_DATABASE_URL=database_url,
            VAULT_CLIENT_KEYS=f"{client}:{self.key.decode()}",
            VAULT_ENCRYPTION_KEYS=f"1:{random_key()}",
            VAULT_INDEX_KEY=random_key(),
            VAULT_CODE_KEY=random_key(),
            VAULT_SMS_GATEWAYS=json.dumps({"dev": {"BACKEND": DEV_GATEWAY}}),
            LOG_LEVEL="WARNING",
        )
        if gunicorn_args:
            env["GUNICORN_CMD_ARGS"] = gunicorn_args
        self.base_env = env

    def env(self, debug: bool) -> dict[str, str]:
        return {**self.base_env, "DEBUG": "1" if debug else "0"}

    @property
    def port(self) -> int:
        return urllib.parse.urlsplit(self.url).port or 80

    def migrate(self) -> None:
        command = [sys.executable, "-m", "zorgsleutel.cli", "vault", "migrate", "--noinput"]
        result = subprocess.run(
            [*command, "-v", "0"],
            env=self.env(debug=True),
            cwd=self.workdir,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BenchError(f"vault migrate failed:\n{result.stderr[-2000:]}")

    def start(self, *, debug: bool, seconds: float = 60) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.command = [
            *[sys.executable, "-m", "zorgsleutel.cli", "vault", "serve", "--port", str(port)],
            *["--workers", str(self.workers), "--threads", str(self.threads)],
        ]

        def ready() -> bool:
            conn = SignedConnection(self.url, self.client, self.key, timeout=2)
            status, data = conn.call("GET", "/v1/health")
            conn.close()
            if status == 200:
                return True
            raise BenchError(f"the vault's health check answered {status}: {data}")

        self._launch(self.env(debug), ready, seconds)


# --- clients -------------------------------------------------------------------------------


class SignedConnection:
    """One keep-alive HTTP/1.1 connection sending requests signed like the portal's client."""

    def __init__(self, url: str, client: str, key: bytes, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.client, self.key, self.timeout = client, key, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.opened = 0  # TCP connections opened (the sync worker closes after each answer)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, float]:
        """(status, body, seconds from sending to the last byte of the answer)."""
        full_path = self.prefix + path
        headers = vaultprotocol.sign_headers(
            client=self.client, key=self.key, method=method, path=full_path, body=body
        )
        headers["Content-Type"] = "application/json"
        if self.conn.sock is None:
            self.opened += 1
        started = time.perf_counter()
        self.conn.request(method, full_path, body=body or None, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, raw, time.perf_counter() - started

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = b"" if payload is None else json.dumps(payload).encode()
        status, raw, _ = self.request(method, path, body)
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {"raw": raw[:200].decode("utf-8", "replace")}
        return status, data

    def close(self) -> None:
        self.conn.close()


class Browser:
    """A client of the portal behind the TLS proxy: cookies, forms with Origin and Referer as
    a browser sends them, one kept-alive connection (or a new one per request)."""

    def __init__(
        self, port: int, *, keep_alive: bool = True, headers: dict | None = None, timeout=60
    ):
        self.port, self.keep_alive, self.timeout = port, keep_alive, timeout
        self.origin = f"https://127.0.0.1:{port}"
        self.headers = {"X-Forwarded-Proto": "https", "Accept-Language": "nl", **(headers or {})}
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.connections = 0

    def reset(self) -> None:
        self.cookies = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict | None = None,
        data: dict | None = None,
        headers: dict | None = None,
    ) -> tuple[int, str, bytes, float]:
        """(status, Location, body, seconds from sending to the last byte of the answer)."""
        sent = {**self.headers, **headers} if headers else dict(self.headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
        elif data is not None:
            body = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        if not self.keep_alive:
            sent["Connection"] = "close"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connections += 1
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in rest.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if not self.keep_alive or response.will_close:
            self.close()
        return response.status, response.getheader("Location") or "", raw, seconds


# --- setup: phone numbers in the vault and people in the portal ----------------------------


def hint(slot: int) -> str:
    """The masked number the vault answers for a number ending in `slot`."""
    return f"06 •• •• •• {slot:02d}"


@dataclass(frozen=True)
class Enrolment:
    challenge: str
    enrolment: str
    code: str
    expires_at: float  # Unix time of the code's end


def enrol_numbers(
    url: str,
    client: str,
    key: bytes,
    count: int,
    *,
    prefix: str,
    threads: int = 8,
    locale: str = "nl",
    confirm: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[Enrolment]:
    """`count` enrolments of distinct numbers <prefix><5 digits><00..99> through the signed API,
    in batches of 100. After each batch the dev outbox's newest 100 messages (GET /v1/dev/sms)
    must be that batch's, one per masked hint: each code is matched without guessing, and
    another sender aborts the run. With `confirm` each number is confirmed with its code.
    `progress(enrolled)` is called after every 10th batch."""
    local = threading.local()
    conns: list[SignedConnection] = []
    lock = threading.Lock()

    def conn() -> SignedConnection:
        if getattr(local, "conn", None) is None:
            local.conn = SignedConnection(url, client, key)
            with lock:
                conns.append(local.conn)
        return local.conn

    def verify(item: Enrolment) -> Enrolment:
        path = f"/v1/challenges/{item.challenge}/verify"
        status, data = conn().call("POST", path, {"code": item.code})
        if status != 200 or data.get("result") != "ok":
            raise BenchError(f"confirming an enrolment answered {status}: {data}")
        return item

    first = secrets.randbelow(10**5)
    items: list[Enrolment] = []
    try:
        with ThreadPoolExecutor(threads) as pool:
            for batch in range(-(-count // BATCH)):
                block = (first + batch) % 10**5
                sent = _enrol_batch(pool, conn, f"{prefix}{block:05d}", locale)
                items += pool.map(verify, sent) if confirm else sent
                if progress and (batch + 1) % 10 == 0:
                    progress(len(items))
    finally:
        for c in conns:
            c.close()
    return items[:count]


def _enrol_batch(pool, conn, number: str, locale: str) -> list[Enrolment]:
    """Enrol <number><00..99> concurrently, then read the 100 codes from the dev outbox."""

    def enrol(slot: int) -> dict:
        payload = {"phone": f"{number}{slot:02d}", "locale": locale}
        status, data = conn().call("POST", "/v1/enrolments", payload)
        if status != 201:
            raise BenchError(f"enrolment of a benchmark number answered {status}: {data}")
        if data.get("hint") != hint(slot):
            raise BenchError(f"unexpected hint {data.get('hint')!r} for slot {slot:02d}")
        return data

    enrolled = list(pool.map(enrol, range(BATCH)))
    status, data = conn().call("GET", "/v1/dev/sms")
    if status != 200:
        raise BenchError(f"GET /v1/dev/sms answered {status}: {data} (is the vault in DEBUG?)")
    codes: dict[str, str] = {}
    for message in data["messages"][:BATCH]:
        match = CODE.search(message["body"])
        if match is None or message["to"] in codes:
            raise BenchError("the dev outbox is not this batch alone: is something else sending?")
        codes[message["to"]] = match.group(1)
    if set(codes) != {hint(slot) for slot in range(BATCH)}:
        raise BenchError("the dev outbox's newest messages are not this batch's: interference?")
    return [
        Enrolment(
            challenge=answer["challenge"],
            enrolment=answer["enrolment"],
            code=codes[hint(slot)],
            expires_at=datetime.fromisoformat(answer["expires_at"]).timestamp(),
        )
        for slot, answer in enumerate(enrolled)
    ]


def model(label: str):
    """A model by its label ("accounts.User"): where its module lives may change, the label
    stays (Django must be set up)."""
    from django.apps import apps

    return apps.get_model(label)


def add_members(organisation, users: list, role: str = "member") -> list:
    """Save `users` (unsaved User instances) in bulk, each with an accepted membership of
    `organisation` in `role`; returns the saved users."""
    user_model, membership = model("accounts.User"), model("accounts.Membership")
    saved = user_model.objects.bulk_create(users, batch_size=1000)
    if saved[0].pk is None:  # backends without RETURNING
        saved = list(user_model.objects.filter(email__in=[u.email for u in users]))
    membership.objects.bulk_create(
        [
            membership(
                user=u, organisation=organisation, role=role, accepted_at=organisation.created_at
            )
            for u in saved
        ],
        batch_size=1000,
    )
    return saved


# --- CPU accounting ------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu() -> dict[int, tuple[str, int, float]]:
    """{pid: (comm, ppid, cpu seconds)} of every process we can read (Linux /proc)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        table[int(entry.name)] = (comm, ppid, (utime + stime) / CLK_TCK)
    return table


def system_cpu() -> dict[str, float]:
    """Machine-wide CPU seconds by kind, from the first line of /proc/stat."""
    values = [int(v) / CLK_TCK for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0.0] * 8)[:8]
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait, "steal": steal}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class CpuSnapshot:
    processes: dict[int, tuple[str, int, float]]
    system: dict[str, float]

    @classmethod
    def take(cls) -> CpuSnapshot | None:
        if not Path("/proc/stat").exists():
            return None
        return cls(process_cpu(), system_cpu())

    def used_since(self, before: CpuSnapshot, pid: int) -> float:
        """CPU seconds `pid` used between `before` and this snapshot."""
        comm, ppid, cpu = self.processes.get(pid, ("", 0, 0.0))
        return cpu - before.processes.get(pid, (comm, ppid, 0.0))[2]


def listening_pids(port: int) -> set[int]:
    """Processes holding the listening socket of 127.0.0.1:`port` (gunicorn master + workers)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) in inodes:
                    pids.add(int(entry.name))
                    break
        except OSError:
            continue
    return pids


def children(pid: int) -> set[int]:
    """`pid` and its descendants (gunicorn master and workers, a worker's reloader child)."""
    found = {pid}
    table = process_cpu()
    grew = True
    while grew:
        grew = False
        for other, (_comm, ppid, _cpu) in table.items():
            if ppid in found and other not in found:
                found.add(other)
                grew = True
    return found


def cpu_groups(
    before: CpuSnapshot | None,
    after: CpuSnapshot | None,
    groups: dict[str, set[int]],
    databases: list[str],
    *,
    services: tuple[str, ...] = ("postgres", "redis"),
    steal: bool = False,
) -> dict | None:
    """CPU seconds between two snapshots by group of pids (the first group holding a pid gets
    it), then the local `services`: PostgreSQL (its own processes and the backends of
    `databases`), Redis; then other processes and idle (and steal)."""
    if before is None or after is None:
        return None
    split = {name: 0.0 for name in groups} | {name: 0.0 for name in services}
    for pid, (comm, ppid, cpu) in after.processes.items():
        used = cpu - before.processes.get(pid, (comm, ppid, 0.0))[2]
        if used <= 0:
            continue
        group = next((name for name, pids in groups.items() if pid in pids), None)
        if group:
            split[group] += used
        elif comm.startswith("postgres") and "postgres" in services:
            line = cmdline(pid)
            backend = "(" in line or "[local]" in line  # a client connection's backend
            if not backend or any(f" {name} " in line for name in databases):
                split["postgres"] += used
        elif comm.startswith("redis-server") and "redis" in services:
            split["redis"] += used
    busy = after.system["busy"] - before.system["busy"]
    split["other"] = max(busy - sum(split.values()), 0.0)
    split["idle"] = after.system["idle"] - before.system["idle"]
    if steal:
        split["steal"] = after.system["steal"] - before.system["steal"]
    return {key: round(value, 2) for key, value in split.items()}


def other_warning(cpu: dict, total: float, share: float, indent: str = "  ") -> list[str]:
    """The line that says the machine was not quiet, if other processes used over `share`."""
    if cpu["other"] <= share * total:
        return []
    return [
        f"{indent}WARNING".ljust(15) + f"other processes used {cpu['other'] / total * 100:.0f}% "
        "of the CPU: the machine was not quiet"
    ]


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages ("" where /proc has none)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ""


# --- statistics ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The sample at rank round(fraction · (n − 1)) of the sorted samples."""
    if not sorted_values:
        return float("nan")
    position = min(round(fraction * (len(sorted_values) - 1)), len(sorted_values) - 1)
    return sorted_values[position]


def latency_ms(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5) * 1000, 1),
        "p95": round(percentile(values, 0.95) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(values[-1] * 1000, 1),
        "mean": round(sum(values) / len(values) * 1000, 1),
    }


# --- the report ----------------------------------------------------------------------------


def _commit(path: Path) -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict:
    """Cores, CPU model, kernel, the versions of Python, Django, gunicorn, psycopg and SQLite,
    and the code under test (a copy first on PYTHONPATH is what runs)."""
    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    code = Path(zorgsleutel.__file__).resolve().parent
    return {
        "vault_code": {"path": str(code), "commit": _commit(code)},
        "nproc": os.cpu_count(),
        "cpu_model": model_name,
        "kernel": platform.release(),
        "versions": {
            "python": platform.python_version(),
            **_versions("django", "gunicorn", "psycopg"),
            "sqlite": sqlite3.sqlite_version,
        },
    }


def _versions(*names: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def versions() -> dict:
    """`machine()` for the portal's benchmarks: the bench scripts' commit and the code run."""
    info = machine()
    info.pop("vault_code", None)
    code = Path(__file__).resolve().parent.parent
    info["code"] = {
        "path": str(code),
        "commit": _commit(code),
        "zorgsleutel": str(Path(zorgsleutel.__file__).resolve().parent),
    }
    info["versions"].update(
        _versions("argon2-cffi", "django-ninja", "django-tasks-db", "aiosmtpd", "redis")
    )
    return info


def new_report(name: str, *, load_before: bool = False, **fields) -> dict:
    """The report's first fields: benchmark, command, machine, `fields` (and the 1-minute
    load average before the run)."""
    report: dict = {
        "benchmark": name,
        "command": shlex.join(["python", f"bench/{name}.py", *sys.argv[1:]]),
        "machine": versions(),
        **fields,
    }
    if load_before and loadavg():
        report["loadavg_before"] = loadavg().split()[0]
    return report


def speaker(quiet: bool) -> Callable[..., None]:
    """print(), flushed, for progress lines; nothing with --json."""
    return (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))


def run_main(
    argv: list[str] | None,
    parse_args: Callable[[list[str] | None], argparse.Namespace],
    run: Callable[[argparse.Namespace], dict],
    print_summary: Callable[[dict], None],
    problems: Callable[[dict], list[str]] = lambda report: [],
) -> int:
    """A benchmark's command: run it and print its report (JSON with --json, else the summary).
    Exit status 0; 1 when the report has `problems` (said on stderr: answers that were not as
    expected, work not done in time); 2 when it could not run."""
    options = parse_args(argv)
    try:
        report = run(options)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_summary(report)
    found = problems(report)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0
