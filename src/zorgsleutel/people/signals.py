"""Signals about people, for capabilities that keep something per person (Django's signals).

`memberships_changed` is sent inside the transaction that accepted or deleted one of a person's
memberships (accounts/flows/memberships.py and members.py); a receiver that raises undoes the
change. The app IDs follow it (mobileapp/apps.py: an organisation the person left keeps no
decision about them); accounts need not know the app.
"""

from __future__ import annotations

from django.dispatch import Signal

memberships_changed = Signal()  # sender: the flow's module name; person: the User
# Sent inside the transaction that linked an authenticator to a person (an app ID today): the
# person and their organisations are told, with a *Dit was ik niet* link (accounts/apps.py).
# Arguments: person, means ("app"), name (as the person named it), linked_at.
authenticator_linked = Signal()
# Sent inside the transaction that ended Zorgsleutel sessions (a logout, a blocked membership, a
# reset, *Dit was ik niet*, a suspended organisation, an erased account), so that single sign-on
# ends the sign-ins they made and tells the applications (oidc/logout.py) in that transaction.
# Arguments: reason (a word: "logout", "membership_blocked", ...), and which sign-ins end:
# session (the SessionBase being logged out: only its own), person (all of theirs),
# organisation (only those acting for it); person and organisation together narrow each other.
sessions_ended = Signal()
