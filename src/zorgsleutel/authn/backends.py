"""The authentication backend of logged-in sessions."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from zorgsleutel.people import loading


class PersonBackend(ModelBackend):
    """Django's ModelBackend, except that a session's person comes with their memberships and
    organisations (people/loading.py): every request of a logged-in person reads them (the
    assurance rule, the menu, the pages). Passwords are never checked here: the login
    flows check them (authn/password.py) and log the person in with sessions.complete_login."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def get_user(self, user_id):
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = loading.person(pk=pk)
        return user if user is not None and self.user_can_authenticate(user) else None
