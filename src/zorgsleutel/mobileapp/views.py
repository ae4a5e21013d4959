"""App pages: log in with the app (QR), link an app (QR), your app IDs (removing one asks first);
Beheer's member app IDs are manage_views.py. Parse, call a flow."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zorgsleutel import policies
from zorgsleutel.authn import landing, sessions
from zorgsleutel.core import ratelimit
from zorgsleutel.core.errors import DomainError, PermissionDenied, RateLimited
from zorgsleutel.core.pages import confirm, confirmed, done, render, to_login
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.mobileapp import devices as app_ids
from zorgsleutel.mobileapp import enrolment, flows, qr, standing
from zorgsleutel.mobileapp.models import AppDevice

ENROL_CODE = "zs_app_enrolment"


def _browser(request) -> str:
    agent = request.META.get("HTTP_USER_AGENT", "")
    for name in ("Edg", "Firefox", "Chrome", "Safari"):
        if name in agent:
            label = {"Edg": "Edge"}.get(name, name)
            system = next(
                (s for s in ("Windows", "Mac OS", "Android", "iPhone", "Linux") if s in agent), ""
            )
            return f"{label} {('op ' + system) if system else ''}".strip()
    return agent[:60] or "onbekende browser"


@never_cache
@require_GET
def login_with_app(request):
    if request.user.is_authenticated:
        wanted = landing.safe(request, request.GET.get(landing.NEXT, ""))
        return redirect(wanted or landing.by_role(request.user))
    try:
        # Each visit writes a session and a QR challenge: counted per client address first, so
        # a visitor over the limit (policies.RATE_LIMITS["app.login_page"]) writes neither.
        ratelimit.consume(action="app.login_page", ip=client_ip(request))
    except RateLimited as error:
        return render(
            request,
            "errors/error.html",
            {"status": error.status, "title": _("Too many requests"), "message": error.message},
            refusal=error,
        )
    wanted = landing.keep(request)
    if not request.session.session_key:
        request.session.save()
    started = flows.start_login(
        session_key=request.session.session_key, host=request.get_host(), browser=_browser(request)
    )
    return render(
        request,
        "mobileapp/login.html",
        {
            "qr": qr.svg(started.url, title=_("QR code to log in with the Zorgsleutel app")),
            "url": started.url,
            "challenge_id": started.challenge_id,
            "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
            "expires_in_ms": int(policies.APP_LOGIN_TTL.total_seconds() * 1000),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "next": wanted,
            "again_url": landing.with_next(reverse("mobileapp:login"), wanted),
        },
    )


@never_cache
@require_GET
def enrol(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    session_key = request.session.session_key
    # Reloading (or a stray request) shows the same open code instead of starting a new one.
    started = enrolment.open_enrolment_for(
        actor=request.user,
        code=request.session.get(ENROL_CODE, ""),
        session_key=session_key,
        purpose=enrolment.LINK_APP,
    )
    if started is None:
        try:
            started = enrolment.start_enrolment(
                actor=request.user,
                session_acr=sessions.session_acr(request),
                session_key=session_key,
                purpose=enrolment.LINK_APP,
            )
        except PermissionDenied as exc:
            auth.logout(request)
            messages.error(request, exc.message)
            return redirect(settings.LOGIN_URL)
    request.session[ENROL_CODE] = started.code
    return render(
        request,
        "mobileapp/enrol.html",
        {
            "qr": qr.svg(started.url, title=_("QR code to link the Zorgsleutel app")),
            "url": started.url,
            "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
            "expires_in_ms": int(policies.APP_ENROLMENT_TTL.total_seconds() * 1000),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "site": settings.SITE_NAME,
        },
    )


def finish_link_app(request, collected) -> dict:
    """The enrolment page's browser, once the app it showed the QR code to has enrolled (the
    one poll, authn/views.py, in the transaction that used the challenge up): on to the
    person's apps, or, when the role needs the app and this session is below it, logged out to
    log in with the new app. Registered for enrolment.LINK_APP (mobileapp/apps.py)."""
    try:
        person, device = enrolment.confirm_enrolment(collected)
    except DomainError as error:
        return {"status": "refused", "error": error.code, "message": str(error.message)}
    if sessions.logged_in_person(request) != person:  # logged out (or timed out) since
        message = _("Your session has ended. Log in again.")
        return {"status": "refused", "error": "session_ended", "message": message}
    request.session.pop(ENROL_CODE, None)
    waiting = standing.waiting_for(device)
    if waiting:  # policies.new_app_waits: it works there once they allow it
        messages.warning(
            request,
            _(
                "Your Zorgsleutel app is linked. For %(organisations)s it works once an "
                "administrator or manager there allows it."
            )
            % {"organisations": ", ".join(waiting)},
        )
    if not policies.satisfies(sessions.session_acr(request), policies.required_acr(person)):
        # The role needs the app: this SMS session ends; log in with the new app.
        auth.logout(request)
        if not waiting:
            messages.success(request, _("Your Zorgsleutel app is linked. Now log in with it."))
        return {"status": "ok", "next": reverse("mobileapp:login")}
    if not waiting:
        messages.success(request, _("Your Zorgsleutel app is linked."))
    return {"status": "ok", "next": reverse("mobileapp:devices")}


@never_cache
def devices(request):
    if not request.user.is_authenticated:
        return to_login(request)  # and back here after it
    rows = AppDevice.objects.filter(user=request.user).exclude(state=AppDevice.REVOKED)
    return render(request, "mobileapp/devices.html", {"devices": rows.order_by("-enrolled_at")})


@never_cache
@require_http_methods(["GET", "POST"])
def revoke(request, device_id: str):
    """Remove one's own app ID, everywhere: asks first, and says so when it is the person's
    last way to log in (standing.last_way_in)."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if not confirmed(request):
        device = (
            AppDevice.objects.filter(public_id=device_id[:40], user=request.user)
            .exclude(state=AppDevice.REVOKED)
            .first()
        )
        if device is None:
            raise Http404
        last = standing.last_way_in(request.user, device)
        return confirm(
            request,
            question=_('Remove the app "%(app)s"?') % {"app": device.name},
            consequences=[
                _(
                    "You can then no longer log in with this app, for any of your "
                    "organisations. To use the app again, you link it anew."
                )
            ],
            warning=str(LAST_WAY_IN) if last else "",
            button=_("Remove"),
            back=reverse("mobileapp:devices"),
        )
    try:
        device = app_ids.revoke_own_device(actor=request.user, device_id=device_id[:40])
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done(request, _('The app "%(app)s" has been removed.') % {"app": device.name})
    return redirect("mobileapp:devices")


LAST_WAY_IN = gettext_lazy(
    "This is your last way to log in: your role requires the Zorgsleutel app, and no other app "
    "or card of yours works. Once it is removed you cannot log in, also not with password and "
    "SMS code, until an administrator or manager of your organisation lets you link a new app."
)
