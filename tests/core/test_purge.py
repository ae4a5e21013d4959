"""`zorgsleutel purge`: expired rows go, live ones stay (counts written out per kind).

The attack from the review: every anonymous GET /inloggen/app stores a session and a QR login
challenge, and nothing removed them. Now they go once expired.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command

from zorgsleutel.core import clock

pytestmark = pytest.mark.django_db

NOTHING = {
    "sessions": 0,
    "challenges": 0,
    "app_enrolments": 0,
    "link_tokens": 0,
    "sso_codes": 0,
    "sso_tokens": 0,
    "sso_logout_deliveries": 0,
    "cache_entries": 0,
}


@pytest.fixture(autouse=True)
def empty_cache():
    """No cache entries (expired or not) from another test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def now():
    at = clock.now()
    with clock.frozen(at):
        yield at


def _user(email: str):
    from zorgsleutel.accounts.models import User

    return User.objects.create(email=email, name=email.split("@")[0], state=User.ACTIVE)


def _expire_sessions(keys: list[str]) -> None:
    """The session rows as they are 12 hours later (Django's sessions use the real clock)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(session_key__in=keys).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )


def test_anonymous_qr_page_views_leave_nothing_behind_once_expired(now):
    from django.contrib.sessions.models import Session
    from django.test import Client

    from zorgsleutel.authn.models import Challenge
    from zorgsleutel.purge import purge_expired

    old_visitors = []
    with clock.frozen(now - timedelta(hours=2)):
        for _ in range(3):
            client = Client()
            assert client.get("/inloggen/app").status_code == 200
            old_visitors.append(client.session.session_key)
    live = Client()
    assert live.get("/inloggen/app").status_code == 200
    assert Session.objects.count() == 4 and Challenge.objects.count() == 4
    _expire_sessions(old_visitors)

    assert purge_expired() == {**NOTHING, "sessions": 3, "challenges": 3}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session.session_key]
    assert Challenge.objects.count() == 1
    assert live.get("/inloggen/app").status_code == 200  # the live visitor goes on
    assert purge_expired() == NOTHING


def test_challenges_and_enrolment_codes_go_an_hour_after_they_expire(now):
    from zorgsleutel.authn.models import Challenge
    from zorgsleutel.cards import flows as cards
    from zorgsleutel.mobileapp import enrolment as app_enrolment
    from zorgsleutel.mobileapp import flows as app
    from zorgsleutel.mobileapp.models import AppEnrolment
    from zorgsleutel.purge import purge_expired

    def qr_login(ago: timedelta) -> str:  # lives 3 minutes
        with clock.frozen(now - ago):
            return app.start_login(
                session_key="s" * 32, host="portal.test", browser="x"
            ).challenge_id

    def card(ago: timedelta) -> str:  # lives 5 minutes
        with clock.frozen(now - ago):
            return cards.start_challenge(
                session_key="s" * 32, host="portal.test", purpose="validation", subject="1"
            ).challenge_id

    person = _user("lid@zorggroep.nl")
    qr_login(timedelta(hours=2))
    qr_login(timedelta(minutes=64))  # expired 61 minutes ago
    kept_qr = [qr_login(timedelta(minutes=62)), qr_login(timedelta(0))]  # expired 59 min ago; live
    card(timedelta(hours=2))
    kept_cards = [card(timedelta(minutes=10)), card(timedelta(0))]

    def enrolment(ago: timedelta) -> str:  # lives 5 minutes, and so does its page's challenge
        with clock.frozen(now - ago):
            return app_enrolment.start_enrolment(
                actor=person, session_acr="", session_key="s" * 32, purpose=app_enrolment.LINK_APP
            ).challenge_id

    enrolment(timedelta(days=1))
    kept_enrolment = enrolment(timedelta(minutes=30))

    assert purge_expired() == {
        **NOTHING,
        "challenges": 4,  # 2 QR logins, 1 card, the day-old enrolment's
        "app_enrolments": 1,
    }
    kept = Challenge.objects.order_by("public_id")
    assert sorted(kept.values_list("kind", "public_id")) == sorted(
        [("app_login", id_) for id_ in kept_qr]
        + [("card", id_) for id_ in kept_cards]
        + [("app_enrolment", kept_enrolment)]
    )
    assert list(AppEnrolment.objects.values_list("challenge__public_id", flat=True)) == [
        kept_enrolment
    ]


def _expired_logins_and_an_enrolment(now) -> None:
    from zorgsleutel.mobileapp import enrolment as app_enrolment
    from zorgsleutel.mobileapp import flows as app

    person = _user("lid@zorggroep.nl")
    with clock.frozen(now - timedelta(hours=2)):
        for _ in range(3):
            app.start_login(session_key="s" * 32, host="portal.test", browser="x")
        app_enrolment.start_enrolment(
            actor=person, session_acr="", session_key="s" * 32, purpose="x"
        )


def test_expired_challenges_go_in_one_delete_also_those_enrolments_referred_to(
    now, django_assert_num_queries
):
    """A visit to the QR login page leaves a challenge: there may be very many. Deleting them
    must not load them first (as a cascade to the enrolment codes would)."""
    from zorgsleutel.authn.models import Challenge
    from zorgsleutel.mobileapp.models import AppEnrolment
    from zorgsleutel.purge import purge_app_enrolments, purge_challenges

    _expired_logins_and_an_enrolment(now)
    with django_assert_num_queries(1):
        assert purge_app_enrolments() == 1
    with django_assert_num_queries(1):
        assert purge_challenges() == 4
    assert not Challenge.objects.exists() and not AppEnrolment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enrolment_codes_go_before_the_challenges_they_refer_to(now):
    """Each step commits on its own, where the database checks every reference."""
    from zorgsleutel.purge import purge_expired

    _expired_logins_and_an_enrolment(now)
    assert purge_expired() == {**NOTHING, "challenges": 4, "app_enrolments": 1}


def test_dead_mail_links_go_after_30_days_open_ones_never(now):
    from zorgsleutel.accounts import tokens
    from zorgsleutel.accounts.models import LinkToken
    from zorgsleutel.purge import purge_expired

    activation, ttl = LinkToken.ACTIVATION, timedelta(hours=72)

    def issue(email: str, ago: timedelta, **extra) -> str:
        with clock.frozen(now - ago):
            return tokens.issue(user=_user(email), purpose=activation, ttl=ttl, **extra)

    issue("verlopen@zorggroep.nl", timedelta(days=40))  # expired 37 days ago: goes
    used = issue("gebruikt@zorggroep.nl", timedelta(days=40))
    LinkToken.objects.filter(token_hash=tokens.digest(used)).update(
        used_at=now - timedelta(days=39, hours=23)
    )
    twice = _user("opnieuw@zorggroep.nl")
    with clock.frozen(now - timedelta(days=35)):
        tokens.issue(user=twice, purpose=activation, ttl=ttl)
    with clock.frozen(now - timedelta(days=34)):  # revokes the first; expires 31 days ago
        tokens.issue(user=twice, purpose=activation, ttl=ttl)
    recent = issue("recent@zorggroep.nl", timedelta(days=10))  # expired 7 days ago: stays
    campaign = issue("campagne@zorggroep.nl", timedelta(days=31), send_at=now + timedelta(days=1))
    open_now = issue("open@zorggroep.nl", timedelta(0))

    assert purge_expired() == {**NOTHING, "link_tokens": 4}
    kept = set(LinkToken.objects.values_list("token_hash", flat=True))
    assert kept == {tokens.digest(recent), tokens.digest(campaign), tokens.digest(open_now)}


def test_sessions_past_their_expiry_date_go(now):
    from importlib import import_module

    from django.conf import settings
    from django.contrib.sessions.models import Session

    from zorgsleutel.purge import purge_sessions

    store = import_module(settings.SESSION_ENGINE).SessionStore
    expired, live = store(), store()
    expired["visit"] = live["visit"] = 1
    expired.set_expiry(-60)
    expired.save()
    live.save()
    assert purge_sessions() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_expired_database_cache_entries_go(settings):
    from django.core.cache import cache

    from zorgsleutel.purge import purge_cache_entries

    if settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.db.DatabaseCache":
        assert purge_cache_entries() == 0  # Redis expires its own keys
        return
    cache.set("live", 1, 600)
    cache.set("gone", 1, 0.001)
    time.sleep(0.01)
    assert purge_cache_entries() == 1
    assert cache.get("live") == 1


def test_the_command_runs_it_once(capsys, now):
    call_command("purge")
    assert capsys.readouterr().out == (
        "Purged: sessions 0, challenges 0, app_enrolments 0, link_tokens 0, sso_codes 0, "
        "sso_tokens 0, sso_logout_deliveries 0, cache_entries 0.\n"
    )
