from django.conf import settings

from zorgsleutel import policies

# The main menu's sections by the start of their addresses (urls.py and the apps' urls): the
# current one is marked with aria-current="page" and drawn as such.
_SECTIONS = (
    ("/mijn", "mine"),
    ("/beheer", "manage"),
    ("/operator/", "console"),
    ("/dev/", "mailbox"),
)


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEBUG": settings.DEBUG,
        "manages": _Manages(request),
        "nav_current": _section(request.path),
        "acting_for": _ActingFor(request),
    }


def _section(path: str) -> str:
    if path == "/":
        return "home"
    return next((name for prefix, name in _SECTIONS if path.startswith(prefix)), "")


class _Manages:
    """Lazily: does the logged-in person manage people anywhere (shows the Beheer menu item)?"""

    def __init__(self, request):
        self.request = request

    def __bool__(self) -> bool:
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        # policies.memberships: no query when the request has loaded them already
        return any(policies.allows(m.role, "members.view") for m in policies.memberships(user))


class _ActingFor:
    """Lazily: the organisations the logged-in person acts for (the page header names them)."""

    def __init__(self, request):
        self.request = request

    def __iter__(self):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return iter(())
        memberships = policies.accepted_memberships(user)
        names = sorted({m.organisation.name for m in memberships if m.is_active})
        return iter(names)
