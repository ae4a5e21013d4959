"""The back-channel outbox: delivered by the worker after the session's end commits, retried
at growing intervals, given up and audited; the POST itself (a form field, no redirect
followed) and where it may go (no internal address, plain http only to loopback in
development)."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from sso import app_with_logout, browser_of, sign_in
from zorgsleutel import policies
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc import backchannel
from zorgsleutel.oidc.models import LogoutDelivery

pytestmark = pytest.mark.django_db(transaction=True)


class Application:
    """Stands in for backchannel.post: what the worker POSTed (uri, token); `failing` makes
    every POST fail."""

    def __init__(self):
        self.posted: list[tuple[str, str]] = []
        self.failing = False

    def post(self, uri: str, token: str) -> None:
        self.posted.append((uri, token))
        if self.failing:
            raise backchannel.DeliveryError("HTTP 503")


@pytest.fixture
def posted(monkeypatch):
    application = Application()
    monkeypatch.setattr(backchannel, "post", application.post)
    return application


def _logged_out(operator, care, mira) -> LogoutDelivery:
    app = app_with_logout(operator, [care], "Labviewer")
    browser = browser_of(mira)
    sign_in(browser, app)
    browser.post("/uitloggen")
    return LogoutDelivery.objects.select_related("client__application").latest("pk")


def test_policy_of_retries():
    assert {
        "OIDC_LOGOUT_MAX_ATTEMPTS": 6,
        "OIDC_LOGOUT_RETRY_BACKOFF": (
            timedelta(seconds=30),
            timedelta(minutes=2),
            timedelta(minutes=10),
            timedelta(minutes=30),
            timedelta(hours=1),
        ),
        "OIDC_LOGOUT_TOKEN_TTL": timedelta(minutes=2),
        "OIDC_LOGOUT_CONNECT_TIMEOUT": 3.0,
        "OIDC_LOGOUT_READ_TIMEOUT": 5.0,
    } == {
        "OIDC_LOGOUT_MAX_ATTEMPTS": policies.OIDC_LOGOUT_MAX_ATTEMPTS,
        "OIDC_LOGOUT_RETRY_BACKOFF": policies.OIDC_LOGOUT_RETRY_BACKOFF,
        "OIDC_LOGOUT_TOKEN_TTL": policies.OIDC_LOGOUT_TOKEN_TTL,
        "OIDC_LOGOUT_CONNECT_TIMEOUT": policies.OIDC_LOGOUT_CONNECT_TIMEOUT,
        "OIDC_LOGOUT_READ_TIMEOUT": policies.OIDC_LOGOUT_READ_TIMEOUT,
    }


def test_the_worker_tells_the_application_after_commit(posted, run_worker, operator, care, mira):
    delivery = _logged_out(operator, care, mira)
    run_worker()
    assert [uri for uri, _token in posted.posted] == ["https://labviewer.example.nl/backchannel"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    (event,) = AuditEvent.objects.filter(action="sso.logout_sent")
    assert (event.organisation, event.actor, event.target, event.outcome) == (
        care.audit_ref,
        delivery.client.audit_ref,
        mira.audit_ref,
        "success",
    )
    assert event.details == {
        "client_id": delivery.client.application.client_id,
        "reason": "logout",
        "attempts": 1,
        "names": {mira.audit_ref: "mira@noord.nl"},
    }
    run_worker()
    assert len(posted.posted) == 1  # sent once


def test_a_session_end_that_rolls_back_tells_nobody(posted, run_worker, operator, care, mira):
    from zorgsleutel.oidc import logout
    from zorgsleutel.oidc.models import SignIn

    app = app_with_logout(operator, [care], "Labviewer")
    sign_in(browser_of(mira), app)
    with pytest.raises(RuntimeError), transaction.atomic():
        logout.end_sign_ins(SignIn.objects.all(), reason="logout")
        raise RuntimeError("the session's end failed")
    run_worker()
    assert posted.posted == [] and not LogoutDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_failing_application_is_retried_at_growing_intervals_then_given_up(
    posted, run_worker, operator, care, mira
):
    posted.failing = True
    at = clock.now() + timedelta(days=365)  # the worker's clock finds retries not due early
    with clock.frozen(at):
        delivery = _logged_out(operator, care, mira)
    waits = []
    for _ in range(10):
        with clock.frozen(at):
            run_worker()
        delivery.refresh_from_db()
        if delivery.status != LogoutDelivery.PENDING:
            break
        assert delivery.last_error == "HTTP 503"
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
        retry = DBTaskResult.objects.filter(status="READY").get()
        assert retry.run_after == at
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=clock.now())  # due now
    assert waits == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=1),
    ]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 6, None)
    assert len(posted.posted) == 6
    assert not AuditEvent.objects.filter(action="sso.logout_sent").exists()
    (event,) = AuditEvent.objects.filter(action="sso.logout_failed")
    assert (event.organisation, event.target, event.outcome) == (
        care.audit_ref,
        mira.audit_ref,
        "failure",
    )
    assert (event.details["reason"], event.details["attempts"]) == ("logout", 6)


def test_a_retry_that_succeeds(posted, run_worker, operator, care, mira):
    posted.failing = True
    delivery = _logged_out(operator, care, mira)
    run_worker()
    posted.failing = False
    DBTaskResult.objects.filter(status="READY").update(run_after=clock.now())
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    first, second = (token for _uri, token in posted.posted)
    assert first != second  # a fresh token (iat, exp, jti) at each attempt


# --- The POST and where it may go -------------------------------------------------------------


class _Answer(BaseHTTPRequestHandler):
    status = 200
    received: list = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(
            (self.path, self.headers.get("Content-Type"), self.rfile.read(length).decode())
        )
        self.send_response(type(self).status)
        if type(self).status == 302:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def application_server():
    _Answer.received = []
    server = HTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Answer
    server.shutdown()


def test_the_post_is_a_form_field_and_a_redirect_is_a_failure(application_server, settings):
    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = True  # development: loopback over http
    url, answer = application_server
    backchannel.post(f"{url}/backchannel", "a.b.c")
    assert answer.received == [
        ("/backchannel", "application/x-www-form-urlencoded", "logout_token=a.b.c")
    ]
    assert parse_qs(answer.received[0][2]) == {"logout_token": ["a.b.c"]}
    answer.status = 302
    with pytest.raises(backchannel.DeliveryError, match="HTTP 302"):
        backchannel.post(f"{url}/backchannel", "a.b.c")
    assert len(answer.received) == 2  # the redirect was not followed
    answer.status = 400
    with pytest.raises(backchannel.DeliveryError, match="HTTP 400"):
        backchannel.post(f"{url}/backchannel", "a.b.c")


@pytest.mark.parametrize(
    ("uri", "loopback_allowed", "error"),
    [
        ("http://rp.example.nl/backchannel", True, "plain http is for loopback"),
        ("http://127.0.0.1:8002/backchannel", False, "plain http is for loopback"),
        ("https://127.0.0.1/backchannel", False, "not public (127.0.0.1)"),
        ("https://10.0.0.7/backchannel", True, "not public (10.0.0.7)"),
        ("https://192.168.1.20/backchannel", True, "not public (192.168.1.20)"),
        ("https://169.254.169.254/latest/meta-data", True, "not public (169.254.169.254)"),
        ("https://[::1]/backchannel", False, "not public (::1)"),
        ("https://[fd00::1]/backchannel", True, "not public (fd00::1)"),
        ("https://0.0.0.0/backchannel", True, "not public (0.0.0.0)"),
        ("ftp://rp.example.nl/backchannel", True, "not an http(s) URI"),
    ],
)
def test_where_a_logout_may_not_go(settings, uri, loopback_allowed, error):
    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = loopback_allowed
    with pytest.raises(
        backchannel.DeliveryError, match=error.replace("(", r"\(").replace(")", r"\)")
    ):
        backchannel.check_destination(uri)


def test_loopback_only_in_development(settings):
    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = True
    backchannel.check_destination("http://127.0.0.1:8002/backchannel")  # no error
    backchannel.check_destination("https://8.8.8.8/backchannel")  # a public address


def test_a_delivery_a_dead_worker_left_behind_is_queued_again(
    posted, run_worker, operator, care, mira
):
    from django.core.management import call_command

    delivery = _logged_out(operator, care, mira)
    DBTaskResult.objects.all().delete()  # the task is lost with the worker
    LogoutDelivery.objects.filter(pk=delivery.pk).update(
        status=LogoutDelivery.SENDING, attempts=1, claimed_at=clock.now() - timedelta(minutes=20)
    )
    assert backchannel.requeue_stranded() == 1
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert backchannel.requeue_stranded() == 0  # nothing left behind

    fresh = _logged_out(operator, care, mira)  # a new one, its task still queued: left alone
    call_command("oidc", "requeue-logouts", stdout=io.StringIO())
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert LogoutDelivery.objects.get(pk=fresh.pk).status == "pending"


# --- Purged when done -------------------------------------------------------------------------


def test_done_deliveries_go_30_days_after_they_were_written_open_ones_never(
    posted, operator, care, mira
):
    """`zorgsleutel purge` (policies.OIDC_LOGOUT_DELIVERIES_KEPT): sent and failed rows go 30
    days after they were written; pending and sending ones stay, however old."""
    from zorgsleutel.purge import purge_logout_deliveries

    at = clock.now()
    with clock.frozen(at):
        first = _logged_out(operator, care, mira)
    for status in ("sent", "failed", "pending", "sending"):
        LogoutDelivery.objects.create(
            client=first.client,
            user=mira,
            organisation=care,
            sub=first.sub,
            sid=first.sid,
            reason="logout",
            status=status,
            created_at=at,
        )
    first.delete()
    with clock.frozen(at + timedelta(days=29, hours=23)):
        assert purge_logout_deliveries() == 0
    with clock.frozen(at + timedelta(days=30, minutes=1)):
        assert purge_logout_deliveries() == 2
    assert sorted(LogoutDelivery.objects.values_list("status", flat=True)) == [
        "pending",
        "sending",
    ]
    with clock.frozen(at + timedelta(days=3650)):
        assert purge_logout_deliveries() == 0
