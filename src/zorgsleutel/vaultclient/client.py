"""HTTP client of the vault API (docs/vault.md). Keeps one keep-alive connection per thread."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from zorgsleutel import vaultprotocol as signing


class VaultError(Exception):
    """Base of the vault client's errors."""


class VaultUnavailable(VaultError):
    """The vault could not be reached or failed; nothing was changed on the portal side."""


class VaultRefused(VaultError):
    """The vault answered with a 4xx: `code` is its stable error code."""

    def __init__(self, status: int, code: str, message: str, extra: dict):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class ChallengeSent:
    enrolment: str
    challenge: str
    hint: str
    expires_at: str
    resend_after: str


@dataclass(frozen=True)
class NoticeSent:
    enrolment: str
    notice: str  # the kind, e.g. "credentials_changed"
    hint: str


@dataclass(frozen=True)
class Verdict:
    result: str  # "ok" | "wrong" | "expired" | "blocked"
    attempts_left: int
    enrolment: str

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class VaultClient:
    def __init__(self, *, url: str, client_id: str, key: bytes, timeout: float = 5.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"VAULT_URL must be an http(s) URL, not {url!r}")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._prefix = parsed.path.rstrip("/")
        self._client_id = client_id
        self._key = key
        self._timeout = timeout
        self._local = threading.local()

    # --- the API -----------------------------------------------------------------------------
    def enrol(self, *, phone: str, locale: str = "nl") -> ChallengeSent:
        return ChallengeSent(
            **self._call("POST", "/v1/enrolments", {"phone": phone, "locale": locale})
        )

    def send_challenge(self, *, enrolment: str) -> ChallengeSent:
        path = f"/v1/enrolments/{urllib.parse.quote(enrolment, safe='')}/challenge"
        return ChallengeSent(**self._call("POST", path, {}))

    def verify(self, *, challenge: str, code: str) -> Verdict:
        path = f"/v1/challenges/{urllib.parse.quote(challenge, safe='')}/verify"
        return Verdict(**self._call("POST", path, {"code": code}))

    def notify(self, *, enrolment: str, kind: str, locale: str = "nl") -> NoticeSent:
        """Text a confirmed enrolment's number one of the vault's fixed notices (by kind)."""
        path = f"/v1/enrolments/{urllib.parse.quote(enrolment, safe='')}/notices"
        return NoticeSent(**self._call("POST", path, {"kind": kind, "locale": locale}))

    def hint(self, *, enrolment: str) -> str:
        return self._call("GET", f"/v1/enrolments/{urllib.parse.quote(enrolment, safe='')}")["hint"]

    def erase(self, *, enrolment: str) -> None:
        self._call("DELETE", f"/v1/enrolments/{urllib.parse.quote(enrolment, safe='')}")

    def health(self) -> bool:
        return self._call("GET", "/v1/health").get("status") == "ok"

    def dev_sms(self) -> list[dict]:
        return self._call("GET", "/v1/dev/sms")["messages"]

    # --- transport ---------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
            self._local.reused = False
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = b"" if payload is None else json.dumps(payload).encode()
        full_path = self._prefix + path
        # Signed once: a retry carries the same nonce, so the vault applies a request at most
        # once. Had it already received the first try, it refuses the retry as a replay.
        headers = signing.sign_headers(
            client=self._client_id, key=self._key, method=method, path=full_path, body=body
        )
        headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                conn = self._connection()
                reused = self._local.reused
                conn.request(method, full_path, body=body or None, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                self._local.reused = True
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed while idle: retry once on a
                # fresh connection (same nonce, see above). A fresh connection is never retried.
                self._drop_connection()
                if attempt == 2 or not reused:
                    raise VaultUnavailable("the vault closed the connection") from None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                raise VaultUnavailable(f"the vault is unreachable: {exc}") from None
            return self._decode(response.status, raw)
        raise VaultUnavailable("unreachable")  # pragma: no cover

    @staticmethod
    def _decode(status: int, raw: bytes) -> dict:
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        if 200 <= status < 300:
            return data
        if 400 <= status < 500 and status != 401 and isinstance(data, dict):
            extra = {k: v for k, v in data.items() if k not in ("error", "message")}
            raise VaultRefused(status, data.get("error", "refused"), data.get("message", ""), extra)
        if status == 401 and data.get("error") == "replayed":  # only a retry repeats a nonce
            raise VaultUnavailable("the vault closed the connection after receiving the request")
        if status == 401:
            raise VaultUnavailable(f"the vault refused our credentials ({data.get('error')})")
        raise VaultUnavailable(f"the vault answered {status}")


@cache
def get() -> VaultClient:
    """The configured client (VAULT_URL, VAULT_CLIENT_ID, VAULT_CLIENT_KEY)."""
    return VaultClient(
        url=settings.VAULT_URL,
        client_id=settings.VAULT_CLIENT_ID,
        key=settings.VAULT_CLIENT_KEY.encode(),
        timeout=settings.VAULT_TIMEOUT_SECONDS,
    )
