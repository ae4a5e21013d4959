"""Logged-in sessions: one way in (complete_login), assurance, idle and absolute timeouts.

Every login means ends in `complete_login`: a new session id, the means' assurance written into
the session, and the `login.succeeded` event, in one transaction. The middlewares below read
what the session says and the registry of means (means.py); none of them knows a means by name.

A session keeps each authentication it saw (`record_authentication`, as django-allauth's does:
means, acr, amr, time, authenticator), at most policies.SESSION_AUTHENTICATIONS_KEPT. A step-up
(a stronger means logging in the person already logged in) adds to what the first login proved
instead of replacing it; what the session says (`authentication`, and the keys the middlewares
read) is their combination (`combine`). A login as someone else starts from nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import auth, messages
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from zorgsleutel import policies
from zorgsleutel.authn import means as registry
from zorgsleutel.authn import refusals
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.people import personevents

AUTH_AT, SEEN_AT, ACR, AMR, MEANS = "zs_auth_at", "zs_seen_at", "zs_acr", "zs_amr", "zs_means"
AUTHENTICATOR = "zs_authenticator"  # the app ID (or card) the login used, when it used one
AUTHENTICATIONS = "zs_authentications"  # each authentication of this session (oldest first)
STARTED_AT = "zs_started_at"  # the session's first login: the absolute timeout counts from it
# The facts of the UZI card the session's latest card login presented (smartcards/login.py:
# its UZI number, abonnee number (URA) and name, role, pas type; never the certificate).
CARD = "zs_card"
# A step-up logs out before the stronger login; what the session had proved waits here, in the
# anonymous session, for that login of the same person (`step_up`, `_earlier`).
PROVED = "zs_proved"
RETURN = "zs_return"  # where a login lands: {"path": ..., "at": timestamp} (returning_to)
BACKEND = "zorgsleutel.authn.backends.PersonBackend"  # loads the person of every session


def complete_login(
    request, person, means: str, *, authenticator: str = "", card: dict | None = None
) -> None:
    """Log `person` in with `means` (registered in means.py): the means' acr/amr in the session,
    `login.succeeded` in each organisation the person accepted, and Django's login, which
    rotates the session (a new id and row, the old row deleted: a session id known before the
    login is worth nothing), all in one transaction, the session saved in it. A caller that
    consumed a one-time proof (a QR challenge) may wrap it in its own transaction.

    `authenticator` names the app ID (or card) that proved the login: each organisation
    decides about it for itself, so the session acts only where it still works (the means'
    `accepted_by`, asked by people.permissions for every organisation action).

    The authentications this session (or the step-up that logged it out) had seen of the same
    person are kept and this one added (`record_authentication`); of anyone else, none.

    `card`: what a UZI card login read from the card (smartcards/login.py), kept with this
    authentication for single sign-on's Dezi claims (oidc/claims.py: `dezi`)."""
    used = registry.get(means)
    now = clock.now().timestamp()
    # Taken before the session is written (and before a flush below would lose it): where
    # this login lands (returning_to, for landing.destination), with no second write of the
    # session for it; and what this person proved before on this session.
    request.zs_landing = _take_return(request)
    earlier, started = _earlier(request, person, now)
    with transaction.atomic():
        if auth.SESSION_KEY in request.session:
            # Someone is logged in on this session already (another tab's login, a step-up):
            # Django's login would keep its id for the same person and empty it for another.
            # Start from an empty session, so the login below always gets a new id.
            carried = _carried(request)
            request.session.flush()
            if carried:
                request.session.update(carried)
        personevents.record_for_person(
            "login.succeeded",
            person=person,
            actor=person,
            target=person,
            details={"acr": used.acr, "amr": list(used.amr), "means": used.name},
        )
        record_authentication(request, used, authenticator, at=now, earlier=earlier, card=card)
        request.session[STARTED_AT] = started if started is not None else now
        request.session[SEEN_AT] = now
        auth.login(request, person, backend=BACKEND)
        request.session.save()  # with the event; the middleware's save then writes nothing


def record_authentication(
    request, used, authenticator: str, *, at: float, earlier: list, card: dict | None = None
) -> None:
    """Add this authentication to the session's (the earlier ones first, the oldest dropped
    beyond policies.SESSION_AUTHENTICATIONS_KEPT) and write their combination where every
    reader looks (ACR, AMR, MEANS, AUTHENTICATOR, AUTH_AT, CARD)."""
    entry = {
        "means": used.name,
        "acr": used.acr,
        "amr": list(used.amr),
        "at": at,
        "authenticator": authenticator,
    }
    if card:
        entry["card"] = dict(card)
    kept = [*earlier, entry][-policies.SESSION_AUTHENTICATIONS_KEPT :]
    found = combine(kept)
    session = request.session
    session[AUTHENTICATIONS] = kept
    session[AUTH_AT] = found.at.timestamp()
    session[ACR] = found.acr
    session[AMR] = list(found.amr)
    session[MEANS] = found.means
    session[AUTHENTICATOR] = found.authenticator
    if found.card:
        session[CARD] = found.card
    else:
        session.pop(CARD, None)


def _earlier(request, person, now: float) -> tuple[list, float | None]:
    """The authentications this session saw of `person` before this login, and when its first
    login was: from the logged-in session (not timed out), or from the step-up that logged it
    out (within policies.LOGIN_RETURN_TTL); ([], None) for anyone else. The step-up's record is
    forgotten either way."""
    session = request.session
    proved = session.pop(PROVED, None)
    if auth.SESSION_KEY in session:
        same = session[auth.SESSION_KEY] == str(person.pk)
        if same and not timed_out(request):
            return _authentications_of(session), session.get(STARTED_AT, session.get(AUTH_AT))
        return [], None
    if (
        isinstance(proved, dict)
        and proved.get("person") == str(person.pk)
        and 0 <= now - proved.get("at", 0) <= policies.LOGIN_RETURN_TTL.total_seconds()
        and now - proved.get("started_at", 0) <= policies.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
    ):
        return list(proved.get("authentications", [])), proved["started_at"]
    return [], None


def _authentications_of(session) -> list:
    """The session's authentications; for a session logged in before they were kept, the one
    its keys describe."""
    if AUTHENTICATIONS in session:
        return list(session[AUTHENTICATIONS])
    if ACR not in session:
        return []
    return [
        {
            "means": session.get(MEANS, ""),
            "acr": session[ACR],
            "amr": list(session.get(AMR, ())),
            "at": session.get(AUTH_AT, 0),
            "authenticator": session.get(AUTHENTICATOR, ""),
        }
    ]


@dataclass(frozen=True)
class Authentication:
    """How this session was authenticated, as complete_login wrote it: what single sign-on
    tells an application (acr, amr, auth_time) and which authenticator each organisation
    decides about."""

    means: str
    acr: str
    amr: tuple[str, ...]
    at: datetime  # when the person logged in (not user.last_login: this session's login)
    authenticator: str
    card: dict | None = None  # the latest UZI card's facts (CARD), when one was presented


def combine(authentications: list[dict]) -> Authentication:
    """What a session's authentications prove together (single sign-on's acr, amr, auth_time):
    the highest level any reached, with the means and authenticator of the latest that reached
    it (the one each organisation decides about); the methods of all of them (RFC 8176), in the
    order they were first used; the time of the latest (OpenID Connect Core: `auth_time` is
    when the person last authenticated, and `max_age` counts from it); the card facts of the
    latest that presented a UZI card."""
    best = max(policies.ASSURANCE_ORDER.get(a["acr"], 0) for a in authentications)
    proving = [a for a in authentications if policies.ASSURANCE_ORDER.get(a["acr"], 0) == best][-1]
    methods: list[str] = []
    for found in authentications:
        methods += [method for method in found["amr"] if method not in methods]
    cards = [found["card"] for found in authentications if found.get("card")]
    return Authentication(
        means=proving["means"],
        acr=proving["acr"],
        amr=tuple(methods),
        at=datetime.fromtimestamp(authentications[-1]["at"], tz=UTC),
        authenticator=proving["authenticator"],
        card=cards[-1] if cards else None,
    )


def authentication(request) -> Authentication | None:
    """How this request's session logged in, all its authentications combined (`combine`, as
    complete_login wrote it); None when nobody is logged in (or the session timed out)."""
    if logged_in_person(request) is None or ACR not in request.session:
        return None
    session = request.session
    return Authentication(
        means=session.get(MEANS, ""),
        acr=session[ACR],
        amr=tuple(session.get(AMR, ())),
        at=datetime.fromtimestamp(session[AUTH_AT], tz=UTC),
        authenticator=session.get(AUTHENTICATOR, ""),
        card=session.get(CARD),
    )


# --- Where a login lands ----------------------------------------------------------------------
# A page that needs a login first (an application's single sign-on request, oidc/) remembers
# itself in the session; whichever means the person then logs in with lands there, not on
# LOGIN_REDIRECT_URL. Only a local path that the portal itself stored, and only within
# policies.LOGIN_RETURN_TTL: a login long after an abandoned request lands at home. Django's
# login keeps an anonymous session's data (it rotates the id), so the path survives it; the
# logouts of the step-up and the timeout below keep it too.
_RESUMABLE: list[str] = []


def resume_after_login(prefix: str) -> None:
    """Register a path prefix whose GET requests a timed-out or stepped-up session returns to
    after logging in again (a capability's AppConfig.ready)."""
    if prefix not in _RESUMABLE:
        _RESUMABLE.append(prefix)


def remember_return(request, path: str) -> None:
    """Land the next login of this session on `path` (a local path, with its query)."""
    if not _local(path):
        raise ValueError("a login only returns to a local path")
    request.session[RETURN] = {"path": path, "at": clock.now().timestamp()}


def returning_to(request) -> str | None:
    """The path remembered for the login complete_login just made on this request (within
    policies.LOGIN_RETURN_TTL), or None."""
    return getattr(request, "zs_landing", None)


def _take_return(request) -> str | None:
    """The path remembered for the next login, forgotten (None when none or too old)."""
    kept = request.session.pop(RETURN, None)
    if isinstance(kept, dict):
        age = clock.now().timestamp() - kept.get("at", 0)
        path = kept.get("path", "")
        fresh = 0 <= age <= policies.LOGIN_RETURN_TTL.total_seconds()
        if fresh and isinstance(path, str) and _local(path):
            return path
    return None


def _local(path: str) -> bool:
    return path.startswith("/") and url_has_allowed_host_and_scheme(path, allowed_hosts=None)


# Session keys a capability keeps across a step-up or a timed-out session's new login (single
# sign-on's session id: oidc/logout.py, which checks that the same person logged in again).
_CARRIED: list[str] = []


def carry_across_login(key: str) -> None:
    """Keep `key` of the session when a step-up or a timeout logs it out for a new login (a
    capability's AppConfig.ready). A plain logout keeps nothing."""
    if key not in _CARRIED:
        _CARRIED.append(key)


def _carried(request) -> dict:
    return {key: request.session[key] for key in _CARRIED if key in request.session}


def _logout_keeping_return(request) -> None:
    """Log out, keeping where the next login lands: the path remembered, or this request's own
    when it is a GET of a resumable page; and what capabilities carry across a new login."""
    kept = request.session.get(RETURN)
    carried = _carried(request)
    auth.logout(request)
    if carried:
        request.session.update(carried)
    if kept is not None:
        request.session[RETURN] = kept
    elif request.method == "GET" and request.path.startswith(tuple(_RESUMABLE)):
        remember_return(request, request.get_full_path())


def authenticator_refusal(actor, organisation) -> DomainError | None:
    """people.permissions asks this for every organisation action: None when the actor's
    session logged in with an authenticator this organisation still accepts (or is no browser
    session: an API token, a command), else the refusal (means.session_refusal's reason)."""
    login = getattr(actor, "session_login", None)
    if login is None:
        return None
    means_name, authenticator = login
    reason = registry.session_refusal(actor, means_name, authenticator, organisation)
    return refusals.error(reason) if reason is not None else None


def session_acr(request) -> str:
    """The assurance this request's session reached at login ("" when not logged in)."""
    return request.session.get(ACR, "")


def timed_out(request) -> bool:
    """Whether this session passed its idle or absolute timeout. The middleware below logs such
    a session out; a view on a path it skips (the challenges' poll) asks this itself."""
    now = clock.now().timestamp()
    started = request.session.get(STARTED_AT, request.session.get(AUTH_AT, 0))
    return (
        now - started > policies.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
        or now - request.session.get(SEEN_AT, 0) > policies.SESSION_IDLE_TIMEOUT.total_seconds()
    )


def logged_in_person(request):
    """The person this request's session is logged in as, None when nobody is (or when the
    session timed out, on a path the timeout middleware skips)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or timed_out(request):
        return None
    return user


# The cross-device challenges' poll serves browsers that are not logged in yet and is asked
# every second by every waiting page: it must not load or write their session (challenges.py).
UNSESSIONED_PATHS = ("/wachten/",)


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(UNSESSIONED_PATHS):
            return self.get_response(request)
        if request.user.is_authenticated:
            if timed_out(request):
                _logout_keeping_return(request)
                messages.info(request, _("Your session has ended. Log in again."))
                return redirect(settings.LOGIN_URL)
            now = clock.now().timestamp()
            if now - request.session.get(SEEN_AT, 0) > 60:  # write at most once a minute
                request.session[SEEN_AT] = now
        return self.get_response(request)


# Paths every session may use, whatever its assurance: logging out, static files, the language
# switch, the challenges' poll, the development outboxes, the health check. The means add their
# own (Means.paths).
_ALWAYS_PATHS = ("/uitloggen", "/wachten/", "/static/", "/i18n/", "/dev/", "/healthz")


class AssuranceMiddleware:
    """Sessions below the person's required assurance (policies.required_acr) may only reach a
    means that satisfies it: a care provider's manager who logged in by SMS must link the app,
    or log in with it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: tuple[str, ...] | None = None

    def _open(self) -> tuple[str, ...]:
        if self._open_paths is None:  # the registry is complete once the apps are ready
            self._open_paths = _ALWAYS_PATHS + registry.step_up_paths()
        return self._open_paths

    def __call__(self, request):
        user = getattr(request, "user", None)
        # The path test comes first: step-up pages (and the QR poll) never load the session.
        if request.path.startswith(self._open()) or user is None or not user.is_authenticated:
            return self.get_response(request)
        # How this session logged in, for people.permissions (authenticator_refusal).
        user.session_login = (request.session.get(MEANS), request.session.get(AUTHENTICATOR, ""))
        # A session at the highest level any rule asks for needs no look at the person's roles.
        if not policies.satisfies(session_acr(request), "substantial"):
            # policies.required_acr reads the memberships PersonBackend loaded with the person.
            required = policies.required_acr(user)
            if not policies.satisfies(session_acr(request), required):
                return _step_up(request, user, required)
        return self.get_response(request)


def step_up(request, user, required: str):
    """Log out and send the person to the login page of a means that reaches `required` and
    that they have working, keeping where the login lands and what the session had proved (the
    stronger login of the same person adds to it: complete_login); None when they have none."""
    for means in registry.reaching(required):
        if means.standing is not None and means.standing(user) == registry.ACTIVE:
            session = request.session
            proved = {
                "person": str(user.pk),
                "at": clock.now().timestamp(),
                "started_at": session.get(STARTED_AT, session.get(AUTH_AT, 0)),
                "authentications": _authentications_of(session),
            }
            _logout_keeping_return(request)
            request.session[PROVED] = proved
            messages.info(request, means.log_in_message)
            return redirect(means.start)
    return None


def _step_up(request, user, required: str):
    """To a means that reaches `required`: its login page when the person has one that works,
    else the page where they link one."""
    reaching = registry.reaching(required)
    wants_page = request.method == "GET" and "text/html" in request.headers.get("Accept", "")
    if not wants_page:
        message = reaching[0].log_in_message if reaching else ""
        return JsonResponse({"error": "assurance_required", "message": str(message)}, status=403)
    response = step_up(request, user, required)
    if response is not None:
        return response
    for means in reaching:
        if means.enrol:
            messages.info(request, means.enrol_message)
            return redirect(means.enrol)
    auth.logout(request)
    return redirect(settings.LOGIN_URL)
