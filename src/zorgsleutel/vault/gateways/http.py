"""Generic HTTP gateway, and the HTTP call the provider gateways (cmcom, twilio) share.

The request is whatever the operator configures (url, method, headers, auth, a body template);
there is no provider document to follow. Standard library only (urllib.request).

Error messages hold only statuses, numeric codes and fixed words: never the number, the text
(it holds the code) or the provider's own wording (providers echo the number in it).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage

DEFAULT_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Zorgsleutel-vault"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a hop: urllib would replay a POST as an empty GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> object:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


def check_url(url: object, *, alias: str) -> str:
    """Only absolute http(s) URLs: urllib would also open file: and ftp: URLs."""
    parts = urllib.parse.urlsplit(url if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"SMS gateway {alias!r}: url must be an http(s) URL")
    return url


def timeout_option(options: dict, *, alias: str) -> float:
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ImproperlyConfigured(f"SMS gateway {alias!r}: timeout must be a positive number")
    return float(timeout)


def check_options(options: dict, allowed: set[str], *, alias: str) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ImproperlyConfigured(f"SMS gateway {alias!r}: unknown options {unknown}")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def code_of(value: object) -> int | None:
    """A provider's numeric error code, or None: anything else could be echoed input."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def call(url: str, *, method: str, headers: dict, data: bytes | None, timeout: float) -> Answer:
    """One HTTP request. Every HTTP status is an answer; only network failures raise."""
    headers = {"User-Agent": USER_AGENT, **headers}
    # The scheme was checked by check_url when the gateway was configured.
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with _open(request, timeout) as response:
            return Answer(response.getcode(), response.read(MAX_ANSWER_BYTES))
    except urllib.error.URLError as exc:
        raise _network_error(exc.reason, timeout) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _network_error(exc, timeout) from None


def _open(request: urllib.request.Request, timeout: float):
    """The response, also for error statuses (urllib raises those as HTTPError)."""
    try:
        return _opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        return exc


def _network_error(reason: object, timeout: float) -> GatewayError:
    # The class name only: str() of some errors includes the host or the request line.
    if isinstance(reason, TimeoutError):
        return GatewayError(f"no answer within {timeout:g} s")
    if isinstance(reason, ConnectionRefusedError):
        return GatewayError("connection refused")
    return GatewayError(f"network error ({type(reason).__name__})")


_PLACEHOLDER = re.compile(r"\{(to|body|sender|reference)\}")
DEFAULT_TEMPLATE = (
    '{"to": "{to}", "from": "{sender}", "body": "{body}", "reference": "{reference}"}'
)
DEFAULT_STATUSES = (200, 201, 202)
_OPTIONS = {
    *("url", "method", "headers", "auth", "body_template", "content_type"),
    *("success_statuses", "reference_field", "timeout"),
}


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(content_type: str) -> bool:
    media = _media_type(content_type)
    return media == JSON or media.endswith("+json")


def _escaper(content_type: str):
    if _is_json(content_type):
        return lambda value: json.dumps(value)[1:-1]
    if _media_type(content_type) == FORM:
        return urllib.parse.quote_plus
    return str


def render(template: str, content_type: str, message: SmsMessage) -> bytes:
    """Fill {to}, {body}, {sender}, {reference}; other braces (JSON's) stay as they are."""
    escape = _escaper(content_type)
    values = {
        "to": message.to,
        "body": message.body,
        "sender": message.sender,
        "reference": message.reference,
    }
    return _PLACEHOLDER.sub(lambda match: escape(values[match[1]]), template).encode()


class HttpGateway(SmsGateway):
    """POST a templated body to any HTTP SMS API; success is a configured status."""

    def __init__(self, *, alias: str, **options):
        super().__init__(alias=alias, **options)
        check_options(options, _OPTIONS, alias=alias)
        self.url = check_url(options.get("url"), alias=alias)
        self.method = str(options.get("method", "POST")).upper()
        if self.method not in ("POST", "PUT", "PATCH"):
            raise ImproperlyConfigured(f"SMS gateway {alias!r}: method must be POST, PUT or PATCH")
        self.content_type = options.get("content_type", JSON)
        self.template = options.get("body_template", DEFAULT_TEMPLATE)
        if not isinstance(self.content_type, str) or not isinstance(self.template, str):
            raise ImproperlyConfigured(
                f"SMS gateway {alias!r}: content_type and body_template are strings"
            )
        self.success = frozenset(options.get("success_statuses", DEFAULT_STATUSES))
        if not self.success or not all(isinstance(code, int) for code in self.success):
            raise ImproperlyConfigured(
                f"SMS gateway {alias!r}: success_statuses lists HTTP statuses"
            )
        self.reference_field = options.get("reference_field") or ""
        self.timeout = timeout_option(options, alias=alias)
        self.headers = self._headers(options)
        self._check_template()

    def _headers(self, options: dict) -> dict[str, str]:
        extra = options.get("headers") or {}
        if not isinstance(extra, dict) or not all(
            isinstance(name, str) and isinstance(value, str) for name, value in extra.items()
        ):
            raise ImproperlyConfigured(f"SMS gateway {self.alias!r}: headers maps names to strings")
        headers = {"Accept": "application/json, */*;q=0.5", **extra}
        headers["Content-Type"] = self.content_type
        auth = options.get("auth")
        if auth is None:
            return headers
        if any(name.lower() == "authorization" for name in headers):
            raise ImproperlyConfigured(
                f"SMS gateway {self.alias!r}: give auth or an Authorization header, not both"
            )
        if isinstance(auth, dict) and set(auth) == {"bearer"} and isinstance(auth["bearer"], str):
            headers["Authorization"] = f"Bearer {auth['bearer']}"
        elif isinstance(auth, dict) and set(auth) == {"basic"} and len(auth["basic"]) == 2:
            headers["Authorization"] = basic_auth(*auth["basic"])
        else:
            raise ImproperlyConfigured(
                f'SMS gateway {self.alias!r}: auth is {{"basic": [user, password]}} '
                'or {"bearer": token}'
            )
        return headers

    def _check_template(self) -> None:
        """A JSON template must give JSON for any input; fail at start-up, not on a send."""
        if not _is_json(self.content_type):
            return
        sample = SmsMessage(to="+1", hint="", body='"\\\n{}', sender="s", reference="1")
        try:
            json.loads(render(self.template, self.content_type, sample))
        except ValueError:
            raise ImproperlyConfigured(
                f"SMS gateway {self.alias!r}: body_template is not JSON once filled in"
            ) from None

    def send(self, message: SmsMessage) -> str:
        data = render(self.template, self.content_type, message)
        answer = call(
            self.url, method=self.method, headers=self.headers, data=data, timeout=self.timeout
        )
        if answer.status not in self.success:
            raise GatewayError(f"HTTP {answer.status}")
        if not self.reference_field:
            return ""
        return self._reference(answer)

    def _reference(self, answer: Answer) -> str:
        """The provider's id at reference_field ("id" or a dotted path such as "data.id")."""
        value = answer.json()
        for key in self.reference_field.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise GatewayError(
                f"HTTP {answer.status} without {self.reference_field!r} in the answer"
            )
        return str(value)
