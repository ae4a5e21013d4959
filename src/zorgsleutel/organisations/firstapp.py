"""What the browser that validated a brand-new administrator keeps (seed 003 step 5), under one
session key, until it has linked their first app.

The card made the account in this browser's request (flows/validation.py), after which this
browser, and no other, may show the app's enrolment QR code for it, for
policies.VALIDATED_BROWSER_TTL: the account's public id, that deadline and the enrolment code on
the page. Nothing else: not the validation link (its token is a credential), not the card's
challenge (the TLS path names it in the URL it returns to, bound to this session anyway). An
account that existed before the validation never gets this state: it logs in as always.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zorgsleutel import policies
from zorgsleutel.core import clock

SESSION_KEY = "zs_validation"
# The purpose of that enrolment's challenge (mobileapp.enrolment.ENROL_KIND): its finisher
# (views.finish_first_app) takes this browser on to step 6 once the app has enrolled.
PURPOSE = "first_app"


@dataclass(frozen=True)
class FirstApp:
    administrator: str  # the new account's public id
    until: float  # timestamp: the end of policies.VALIDATED_BROWSER_TTL
    enrolment: str = ""  # the open enrolment code this browser shows (mobileapp)

    @classmethod
    def started(cls, administrator) -> FirstApp:
        until = clock.now() + policies.VALIDATED_BROWSER_TTL
        return cls(str(administrator.public_id), until.timestamp())

    def showing(self, enrolment: str) -> FirstApp:
        return dataclasses.replace(self, enrolment=enrolment)


def keep(session, state: FirstApp) -> None:
    session[SESSION_KEY] = dataclasses.asdict(state)


def held(session) -> FirstApp | None:
    """The state this session holds while it lasts; None when none, expired or of another shape."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        state = FirstApp(**data)
    except TypeError:
        return None
    return state if clock.now().timestamp() <= state.until else None


def drop(session) -> None:
    session.pop(SESSION_KEY, None)
