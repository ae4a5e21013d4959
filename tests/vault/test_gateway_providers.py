"""The HTTP, CM.com and Twilio gateways against a real local HTTP server, and failover end to end.

The fake provider records each request and answers the way the provider documents it; the
tests assert the exact request, that refusals and network failures become GatewayError, and
that no error text holds the number or the code.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured

from zorgsleutel.vault.gateways.base import GatewayError, SmsMessage
from zorgsleutel.vault.gateways.cmcom import CmComGateway
from zorgsleutel.vault.gateways.http import HttpGateway
from zorgsleutel.vault.gateways.twilio import TwilioGateway
from zorgsleutel.vault.models import DeliveryAttempt, Enrolment, SmsSend, VaultEvent

CODE = "123456"
BODY = f'Uw Zorgsleutel-code is {CODE}. "Deel" hem met niemand & nooit = veilig.'
MESSAGE = SmsMessage(
    to="+31612345678", hint="06 •• •• •• 78", body=BODY, sender="Zorgsleutel", reference="42"
)
CM_TOKEN = "00000000-0000-0000-0000-000000000000"
TWILIO_SID = "AC" + "a1" * 16
TWILIO_TOKEN = "twilio-auth-token"
SMS_SID = "SM" + "b2" * 16
CM = "zorgsleutel.vault.gateways.cmcom.CmComGateway"
TWILIO = "zorgsleutel.vault.gateways.twilio.TwilioGateway"
HTTP = "zorgsleutel.vault.gateways.http.HttpGateway"


def assert_clean(text: str, code: str = CODE) -> None:
    """No form of the number ("+31612345678", "0031612345678", "0612345678"), nor the code."""
    assert "612345678" not in text
    assert code not in text


# -- A real HTTP server standing in for the provider -------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True, strict_parsing=True)


class FakeProvider:
    """ThreadingHTTPServer on 127.0.0.1, port 0: records every request, gives the set answer."""

    def __init__(self, status: int, body: bytes | dict, content_type: str, headers: dict):
        self.requests: list[Recorded] = []
        self.status, self.content_type, self.headers = status, content_type, headers
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        serve = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        serve.start()  # a short poll interval keeps shutdown() quick

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                provider.requests.append(Recorded(self.command, self.path, headers, body))
                self.send_response(provider.status)
                self.send_header("Content-Type", provider.content_type)
                self.send_header("Content-Length", str(len(provider.body)))
                for name, value in provider.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(provider.body)

            do_POST = do_PUT = do_PATCH = do_GET = serve

            def log_message(self, format, *args):  # keep test output clean
                pass

        return Handler


@pytest.fixture
def provider():
    """`provider(status, body, content_type="application/json", headers={})` -> FakeProvider."""
    started: list[FakeProvider] = []

    def start(status=200, body=b"", content_type="application/json", headers=None):
        fake = FakeProvider(status, body, content_type, headers or {})
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()


@pytest.fixture
def closed_port() -> str:
    """A URL nobody listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_port():
    """A URL that accepts the connection (kernel backlog) but never answers."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def gateway(kind: str, base: str, **options):
    if kind == "http":
        return HttpGateway(alias="http", url=f"{base}/sms", **options)
    if kind == "cm":
        return CmComGateway(
            alias="cm", product_token=CM_TOKEN, url=f"{base}/v1.0/message", **options
        )
    return TwilioGateway(
        alias="twilio", account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, base_url=base, **options
    )


def refusal(gw, message: SmsMessage = MESSAGE) -> str:
    with pytest.raises(GatewayError) as caught:
        gw.send(message)
    text = str(caught.value)
    assert_clean(text)
    assert_clean(repr(caught.value))
    return text


# -- CM.com ------------------------------------------------------------------------------------

CM_ACCEPTED = {
    "details": "Created 1 message(s)",
    "errorCode": 0,
    "messages": [
        {
            "to": "0031612345678",
            "status": "Accepted",
            "reference": "42",
            "parts": 1,
            "messageDetails": None,
            "messageErrorCode": 0,
        }
    ],
}


def test_cm_sends_the_documented_json_request(provider):
    cm = provider(200, CM_ACCEPTED)

    assert gateway("cm", cm.url).send(MESSAGE) == "42"

    [request] = cm.requests
    assert (request.method, request.path) == ("POST", "/v1.0/message")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-cm-producttoken"] == CM_TOKEN
    assert "authorization" not in request.headers
    assert request.json() == {
        "messages": {
            "authentication": {"producttoken": CM_TOKEN},
            "msg": [
                {
                    "allowedChannels": ["SMS"],
                    "from": "Zorgsleutel",
                    "to": [{"number": "0031612345678"}],
                    "body": {"type": "auto", "content": BODY},
                    "reference": "42",
                }
            ],
        }
    }


def test_cm_defaults_to_its_global_endpoint():
    assert CmComGateway(alias="cm", product_token=CM_TOKEN).url == (
        "https://gw.cmtelecom.com/v1.0/message"
    )


CM_REJECTED = {
    "details": "Created 0 message(s)",
    "errorCode": 201,
    "messages": [
        {
            "to": "0031612345678",
            "status": "Rejected",
            "reference": "42",
            "parts": 0,
            "messageDetails": "Gsm '0031612345678' is not a number.",
            "messageErrorCode": 303,
        }
    ],
}

CM_NOT_ALL_SENT = "errorCode 201 (not all messages sent), messageErrorCode 303 (invalid number)"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (
            400,
            {"details": "No account found for the given authentication", "errorCode": 101},
            "application/json",
            "HTTP 400, errorCode 101 (authentication failed)",
        ),
        (
            400,
            CM_REJECTED,
            "application/json",
            f"HTTP 400, {CM_NOT_ALL_SENT}",
        ),
        (
            200,
            {**CM_REJECTED, "details": "Created 0 message(s) for +31612345678"},
            "application/json",
            f"HTTP 200, {CM_NOT_ALL_SENT}",
        ),
        (200, {**CM_ACCEPTED, "messages": []}, "application/json", "HTTP 200, errorCode 0 ("),
        (400, {"errorCode": "+31612345678 123456"}, "application/json", "HTTP 400, no errorCode"),
        (200, {"errorCode": 0, "messages": 7}, "application/json", "HTTP 200, errorCode 0 ("),
        (200, b"Error: ERROR Invalid product token.", "text/plain", "HTTP 200, unreadable answer"),
        (503, b"<html>Service Unavailable</html>", "text/html", "HTTP 503, unreadable answer"),
    ],
    ids=[
        "auth",
        "rejected",
        "rejected-200",
        "no-messages",
        "odd-code",
        "odd-messages",
        "text",
        "503",
    ],
)
def test_cm_refusals_raise_without_number_or_code(provider, status, body, content_type, expected):
    cm = provider(status, body, content_type)

    assert refusal(gateway("cm", cm.url)).startswith(expected)


def test_cm_refuses_a_number_that_is_not_e164(provider):
    cm = provider(200, CM_ACCEPTED)
    odd = SmsMessage(to="0612345678", hint="", body=BODY, sender="Zorgsleutel", reference="1")

    assert refusal(gateway("cm", cm.url), odd) == "number is not in E.164 form"
    assert cm.requests == []


# -- Twilio ------------------------------------------------------------------------------------

TWILIO_CREATED = {
    "account_sid": TWILIO_SID,
    "api_version": "2010-04-01",
    "body": BODY,
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": "Zorgsleutel",
    "messaging_service_sid": None,
    "num_segments": "1",
    "sid": SMS_SID,
    "status": "queued",
    "to": "+31612345678",
    "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{SMS_SID}.json",
}


def test_twilio_sends_the_documented_form_request(provider):
    twilio = provider(201, TWILIO_CREATED)

    assert gateway("twilio", twilio.url).send(MESSAGE) == SMS_SID

    [request] = twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    credentials = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"To": ["+31612345678"], "From": ["Zorgsleutel"], "Body": [BODY]}
    assert b"To=%2B31612345678" in request.body  # an unescaped "+" would arrive as a space


def test_twilio_sends_from_a_messaging_service_or_a_configured_sender(provider):
    twilio = provider(201, TWILIO_CREATED)

    gateway("twilio", twilio.url, messaging_service_sid="MG" + "c3" * 16).send(MESSAGE)
    gateway("twilio", twilio.url, **{"from": "+3197010000000"}).send(MESSAGE)

    first, second = (request.form() for request in twilio.requests)
    assert first == {
        "To": ["+31612345678"],
        "MessagingServiceSid": ["MG" + "c3" * 16],
        "Body": [BODY],
    }
    assert second == {"To": ["+31612345678"], "From": ["+3197010000000"], "Body": [BODY]}


def _twilio_error(code: int, status: int, message: str) -> dict:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (
            400,
            _twilio_error(21211, 400, "The 'To' number +31612345678 is not a valid phone number."),
            "application/json",
            "HTTP 400, code 21211",
        ),
        (
            401,
            _twilio_error(20003, 401, "Authenticate"),
            "application/json",
            "HTTP 401, code 20003",
        ),
        (429, {"message": "Too Many Requests"}, "application/json", "HTTP 429, no code"),
        (200, TWILIO_CREATED, "application/json", "HTTP 200, no code"),
        (
            201,
            {**TWILIO_CREATED, "sid": None},
            "application/json",
            "HTTP 201 without a message sid",
        ),
        (
            201,
            {**TWILIO_CREATED, "status": "failed", "error_code": 30003},
            "application/json",
            "HTTP 201, status failed, error_code 30003",
        ),
        (201, b"OK", "text/plain", "HTTP 201, unreadable answer"),
        (502, b"<html>Bad Gateway</html>", "text/html", "HTTP 502, unreadable answer"),
    ],
    ids=["invalid-to", "auth", "429", "200", "no-sid", "failed", "text", "502"],
)
def test_twilio_refusals_raise_without_number_or_code(
    provider, status, body, content_type, expected
):
    twilio = provider(status, body, content_type)

    assert refusal(gateway("twilio", twilio.url)) == expected


# -- Generic HTTP ------------------------------------------------------------------------------


def test_http_posts_a_json_template_with_bearer_auth(provider):
    api = provider(202, {"data": {"id": "msg-77"}})
    template = (
        '{"recipient": "{to}", "text": "{body}", "originator": "{sender}", "ref": "{reference}"}'
    )
    http = gateway(
        "http",
        api.url,
        auth={"bearer": "api-token"},
        headers={"X-Tenant": "zorg"},
        body_template=template,
        reference_field="data.id",
    )

    assert http.send(MESSAGE) == "msg-77"

    [request] = api.requests
    assert (request.method, request.path) == ("POST", "/sms")
    assert request.headers["authorization"] == "Bearer api-token"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tenant"] == "zorg"
    assert request.json() == {
        "recipient": "+31612345678",
        "text": BODY,  # its quotes arrive intact: JSON-escaped, not breaking the template
        "originator": "Zorgsleutel",
        "ref": "42",
    }


def test_http_posts_a_form_template_with_basic_auth(provider):
    api = provider(200, b"queued", "text/plain")
    http = gateway(
        "http",
        api.url,
        method="PUT",
        auth={"basic": ["user", "pa:ss"]},
        content_type="application/x-www-form-urlencoded",
        body_template="to={to}&message={body}&from={sender}",
    )

    assert http.send(MESSAGE) == ""

    [request] = api.requests
    assert request.method == "PUT"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"to": ["+31612345678"], "message": [BODY], "from": ["Zorgsleutel"]}


@pytest.mark.parametrize(
    ("status", "body", "headers", "options", "expected"),
    [
        (500, b"oops", {}, {}, "HTTP 500"),
        (200, b"ok", {}, {"success_statuses": [201]}, "HTTP 200"),
        (302, b"", {"Location": "/elsewhere"}, {}, "HTTP 302"),  # a POST is not replayed as GET
        (
            200,
            {"status": "queued"},
            {},
            {"reference_field": "id"},
            "HTTP 200 without 'id' in the answer",
        ),
        (200, b"<xml/>", {}, {"reference_field": "id"}, "HTTP 200 without 'id' in the answer"),
    ],
    ids=["500", "unlisted-status", "redirect", "no-reference", "not-json"],
)
def test_http_refusals_raise_without_number_or_code(
    provider, status, body, headers, options, expected
):
    api = provider(status, body, headers=headers)

    assert refusal(gateway("http", api.url, **options)) == expected
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"url": "ftp://sms.example/send"}, "url must be an http(s) URL"),
        ({"url": "file:///etc/passwd"}, "url must be an http(s) URL"),
        ({"url": "sms.example/send"}, "url must be an http(s) URL"),
        ({"url": "https://sms.example", "method": "GET"}, "method must be POST, PUT or PATCH"),
        (
            {"url": "https://sms.example", "auth": {"token": "x"}},
            'auth is {"basic": [user, password]} or {"bearer": token}',
        ),
        (
            {"url": "https://sms.example", "auth": {"basic": ["only-user"]}},
            'auth is {"basic": [user, password]} or {"bearer": token}',
        ),
        (
            {
                "url": "https://sms.example",
                "auth": {"bearer": "x"},
                "headers": {"Authorization": "y"},
            },
            "give auth or an Authorization header, not both",
        ),
        (
            {"url": "https://sms.example", "body_template": '{"to": {to}}'},
            "body_template is not JSON once filled in",
        ),
        ({"url": "https://sms.example", "timeout": 0}, "timeout must be a positive number"),
        (
            {"url": "https://sms.example", "headers": {"X-Retries": 3}},
            "headers maps names to strings",
        ),
        (
            {"url": "https://sms.example", "success_statuses": ["200"]},
            "success_statuses lists HTTP statuses",
        ),
        ({"url": "https://sms.example", "retries": 3}, "unknown options ['retries']"),
    ],
)
def test_http_refuses_a_bad_configuration(options, refusal):
    with pytest.raises(ImproperlyConfigured, match=re.escape(f"SMS gateway 'http': {refusal}")):
        HttpGateway(alias="http", **options)


@pytest.mark.parametrize(
    ("backend", "options", "refusal"),
    [
        (CmComGateway, {}, "product_token is required"),
        (
            CmComGateway,
            {"product_token": CM_TOKEN, "url": "file:///tmp/x"},
            "url must be an http(s) URL",
        ),
        (
            TwilioGateway,
            {"account_sid": "not-a-sid", "auth_token": "t"},
            "account_sid (AC...) and auth_token are required",
        ),
        (
            TwilioGateway,
            {"account_sid": TWILIO_SID},
            "account_sid (AC...) and auth_token are required",
        ),
        (
            TwilioGateway,
            {
                "account_sid": TWILIO_SID,
                "auth_token": "t",
                "from": "a",
                "messaging_service_sid": "MGx",
            },
            "give from or messaging_service_sid, not both",
        ),
    ],
)
def test_providers_refuse_a_bad_configuration(backend, options, refusal):
    with pytest.raises(ImproperlyConfigured, match=re.escape(f"SMS gateway 'x': {refusal}")):
        backend(alias="x", **options)


# -- Network failures --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http", "cm", "twilio"])
def test_a_refused_connection_is_a_gateway_error(kind, closed_port):
    assert refusal(gateway(kind, closed_port)) == "connection refused"


@pytest.mark.parametrize("kind", ["http", "cm", "twilio"])
def test_a_timeout_is_a_gateway_error(kind, silent_port):
    assert refusal(gateway(kind, silent_port, timeout=0.3)) == "no answer within 0.3 s"


# -- Failover through the vault API ------------------------------------------------------------


def _cm(base: str) -> dict:
    return {"BACKEND": CM, "OPTIONS": {"product_token": CM_TOKEN, "url": f"{base}/v1.0/message"}}


def _twilio(base: str) -> dict:
    options = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "base_url": base}
    return {"BACKEND": TWILIO, "OPTIONS": options}


def _code_in(text: str) -> str:
    return re.search(r"\b\d{6}\b", text)[0]


def test_failover_delivers_through_the_next_gateway(vault, sms_gateways, provider):
    down = provider(500, b"<html>Internal Server Error</html>", "text/html")
    twilio = provider(201, TWILIO_CREATED)
    sms_gateways({"cm": _cm(down.url), "twilio": _twilio(twilio.url)})

    response = vault.post("/v1/enrolments", {"phone": "06 12345678", "locale": "nl"})

    assert response.status_code == 201, response.content
    [tried] = down.requests
    assert tried.json()["messages"]["msg"][0]["to"] == [{"number": "0031612345678"}]
    [sent] = twilio.requests
    assert sent.form()["To"] == ["+31612345678"]
    code = _code_in(sent.form()["Body"][0])
    attempts = DeliveryAttempt.objects.order_by("pk").values_list(
        "gateway", "ok", "reference", "error"
    )
    assert list(attempts) == [
        ("cm", False, "", "HTTP 500, unreadable answer"),
        ("twilio", True, SMS_SID, ""),
    ]
    assert SmsSend.objects.get().gateway == "twilio"
    for _, _, reference, error in attempts:
        assert_clean(reference + error, code)


def test_when_every_gateway_fails_the_enrolment_is_undone(
    vault, sms_gateways, provider, closed_port
):
    down = provider(500, {"errorCode": 500, "details": "internal error"})
    sms_gateways(
        {"cm": _cm(down.url), "fallback": {"BACKEND": HTTP, "OPTIONS": {"url": closed_port}}}
    )

    response = vault.post("/v1/enrolments", {"phone": "06 12345678", "locale": "nl"})

    assert response.status_code == 503, response.content
    assert response.json()["error"] == "sms_unavailable"
    assert not Enrolment.objects.exists()
    code = _code_in(down.requests[0].json()["messages"]["msg"][0]["body"]["content"])
    attempts = DeliveryAttempt.objects.order_by("pk").values_list("gateway", "ok", "error")
    assert list(attempts) == [
        ("cm", False, "HTTP 500, errorCode 500 (internal error)"),
        ("fallback", False, "connection refused"),
    ]
    assert SmsSend.objects.get().status == SmsSend.FAILED
    recorded = " ".join(VaultEvent.objects.values_list("detail", flat=True))
    assert "connection refused" in recorded
    assert_clean(recorded + response.content.decode(), code)
