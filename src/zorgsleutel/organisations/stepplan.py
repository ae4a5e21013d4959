"""Seed 003's step plan (*Stappenplan*) as a progress indicator: each step done, current or to
do, from where the registration really is (`stage_of`), shown on every page of the journey
(`organisations/_steps.html`, docs/look.md "The step plan").

The seed numbers six steps and groups steps 2 to 5 under one heading, *Stap 2 t/m 5 Validatie
door de ZORG-ID Portaal administrator*: the group is drawn as a heading over those four steps,
never as a step of its own. Step 6 is logging in as the portal administrator (the seed's left
column calls it "Validatie …" too; its text is the login)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

DONE, CURRENT, TODO = "done", "current", "todo"

# Where the registration is. Before there is an application the page says it (preparing on
# Voorbereiding, applying on the form); after, the application's state (organisations.models:
# Application.STATES) and, once validated, whether its administrator has logged in.
PREPARING, APPLYING = "preparing", "applying"
SUBMITTED, REJECTED, APPROVED, VALIDATED = "submitted", "rejected", "approved", "validated"
LOGGED_IN = "logged_in"

# The step each stage is at (None: every step done). Submitted: the operator reviews it while
# the applicant installs the app (steps 3 and 4); rejected: apply again; approved: the mailed
# link opens step 5; validated: step 5 is done, the administrator links the app and logs in with
# it (step 6).
CURRENT_STEP: dict[str, int | None] = {
    PREPARING: 1,
    APPLYING: 2,
    SUBMITTED: 3,
    REJECTED: 2,
    APPROVED: 5,
    VALIDATED: 6,
    LOGGED_IN: None,
}


@dataclass(frozen=True)
class Step:
    number: int
    label: str  # "Stap 1"
    name: str  # "Voorbereiding"
    page: str = ""  # the step's own page (a URL name), if it has one
    link_when: frozenset[str] = frozenset()  # the statuses in which it links there


# A step links to its page while it is ahead (to do); Voorbereiding also once done (to read again).
_AHEAD, _BACK_AND_AHEAD = frozenset({TODO}), frozenset({DONE, TODO})
STEPS = (
    Step(1, _("Step 1"), _("Preparation"), "organisations:prepare", _BACK_AND_AHEAD),
    Step(2, _("Step 2"), _("Fill in the application form"), "organisations:apply", _AHEAD),
    Step(3, _("Step 3"), _("Install the Zorgsleutel app")),
    Step(4, _("Step 4"), _("App on your smartphone")),
    Step(5, _("Step 5"), _("Validate the organisation"), "organisations:validate_start", _AHEAD),
    Step(6, _("Step 6"), _("Log in as portal administrator")),
)
# Stap 2 t/m 5: a heading over these steps (first, last, its text).
GROUP = (2, 5, _("Steps 2 to 5: validation by the portal administrator"))


def statuses(stage: str) -> list[tuple[int, str]]:
    """(step number, DONE/CURRENT/TODO) for every step at `stage`: the steps before the
    current one are done, the ones after it to do."""
    current = CURRENT_STEP[stage]
    return [
        (
            step.number,
            DONE
            if current is None or step.number < current
            else CURRENT
            if step.number == current
            else TODO,
        )
        for step in STEPS
    ]


def stage_of(application, *, otherwise: str) -> str:
    """The stage of an application (its state: submitted, rejected, approved, validated), or
    `otherwise` when the page knows none (Voorbereiding, the form, a visitor's start of step
    5)."""
    return application.state if application is not None else otherwise


@dataclass(frozen=True)
class ShownStep:
    step: Step
    status: str
    url: str  # "" when it does not link

    @property
    def number(self) -> int:
        return self.step.number


@dataclass(frozen=True)
class Plan:
    """What the template draws: the steps before the group, the group's heading and steps, and
    the steps after it."""

    before: list[ShownStep]
    group_title: str
    group: list[ShownStep]
    after: list[ShownStep]
    current: ShownStep | None


def plan(stage: str) -> Plan:
    shown = [
        ShownStep(step, status, reverse(step.page) if status in step.link_when else "")
        for step, (_number, status) in zip(STEPS, statuses(stage), strict=True)
    ]
    first, last, title = GROUP
    return Plan(
        before=[s for s in shown if s.number < first],
        group_title=title,
        group=[s for s in shown if first <= s.number <= last],
        after=[s for s in shown if s.number > last],
        current=next((s for s in shown if s.status == CURRENT), None),
    )
