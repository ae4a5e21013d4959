from django.conf import settings

from zorgsleutel import policies


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "DEBUG": settings.DEBUG, "manages": _Manages(request)}


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
