"""Seed 003's step plan as a progress indicator (organisations/stepplan.py, docs/look.md "The
step plan"): each stage of the registration, written out, gives every step's status; the pages of
the journey draw it from the application's real state, with aria-current="step" on the current
step and the status in words for screen readers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from applicants import application_data, approved_application, card, open_page, present
from zorgsleutel.organisations import stepplan
from zorgsleutel.organisations.flows import applications
from zorgsleutel.organisations.models import Application

# stage → the status of steps 1 to 6 (D done, C current, T to do).
TABLE = """
preparing  C T T T T T
applying   D C T T T T
submitted  D D C T T T
rejected   D C T T T T
approved   D D D D C T
validated  D D D D D C
logged_in  D D D D D D
"""
STATUS = {"D": "done", "C": "current", "T": "todo"}


@pytest.mark.parametrize(
    "stage,marks", [(line.split()[0], line.split()[1:]) for line in TABLE.strip().splitlines()]
)
def test_each_stage_gives_every_step_its_status(stage, marks):
    assert stepplan.statuses(stage) == [
        (number, STATUS[mark]) for number, mark in enumerate(marks, start=1)
    ]


def test_the_table_covers_every_stage():
    stages = {line.split()[0] for line in TABLE.strip().splitlines()}
    assert stages == {
        "preparing",
        "applying",
        "submitted",
        "rejected",
        "approved",
        "validated",
        "logged_in",
    }
    assert stages == set(stepplan.CURRENT_STEP)


@pytest.mark.parametrize(
    "state,stage",
    [
        ("submitted", "submitted"),
        ("rejected", "rejected"),
        ("approved", "approved"),
        ("validated", "validated"),
    ],
)
def test_an_application_s_state_is_its_stage(state, stage):
    assert stepplan.stage_of(Application(state=state), otherwise="preparing") == stage


def test_without_an_application_the_page_says_where_it_is():
    assert stepplan.stage_of(None, otherwise="applying") == "applying"


# --- The markup ----------------------------------------------------------------------------------


class _StepPlan(HTMLParser):
    """The step plan's steps as a screen reader meets them: the text (the visually hidden words
    included, the aria-hidden marker not), the aria-current value, the link; and the group
    heading with the steps under it."""

    def __init__(self):
        super().__init__()
        self.steps: list[tuple[str, str, str]] = []
        self.group_title = ""
        self.grouped: list[str] = []
        self._in_nav = self._in_title = self._in_group = False
        self._step: list | None = None
        self._hidden = ""  # the tag of an aria-hidden element being read (its text is skipped)
        self.navs = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "nav" and "zs-steps" in classes:
            self._in_nav = True
            self.navs += 1
            self._label = attributes.get("aria-label")
        if not self._in_nav:
            return
        if tag == "p" and "zs-steps__group-title" in classes:
            self._in_title = True
        if tag == "ol" and "zs-steps__list--group" in classes:
            self._in_group = True
            self.group_labelled_by = attributes.get("aria-labelledby")
        if tag == "li" and "zs-step" in classes:
            self._step = ["", attributes.get("aria-current") or "", ""]
        if tag == "a" and self._step is not None:
            self._step[2] = attributes["href"]
        if attributes.get("aria-hidden") == "true":
            self._hidden = tag

    def handle_endtag(self, tag):
        if tag == self._hidden:
            self._hidden = ""
        if tag == "nav":
            self._in_nav = False
        if tag == "p":
            self._in_title = False
        if tag == "ol" and self._in_group and self._step is None:
            self._in_group = False
        if tag == "li" and self._step is not None:
            text = " ".join(self._step[0].split())
            self.steps.append((text, self._step[1], self._step[2]))
            if self._in_group:
                self.grouped.append(text.split(" ", 2)[1])
            self._step = None

    def handle_data(self, data):
        if self._in_title:
            self.group_title += data
        elif self._step is not None and not self._hidden:
            self._step[0] += data


def step_plan(response) -> _StepPlan:
    assert response.status_code == 200
    plan = _StepPlan()
    plan.feed(response.content.decode())
    assert plan.navs == 1 and plan._label == "Stappenplan"
    assert plan.group_title == "Stap 2 t/m 5: validatie door de portaaladministrator"
    assert plan.grouped == ["2", "3", "4", "5"]
    assert plan.group_labelled_by == "zs-steps-group"
    return plan


def test_the_preparation_page_is_at_step_1(client, db):
    plan = step_plan(client.get("/organisatie/voorbereiding"))
    assert plan.steps == [
        ("Stap 1 Voorbereiding (huidige stap)", "step", ""),
        ("Stap 2 Aanvraagformulier invullen (nog te doen)", "", "/organisatie/aanmelden"),
        ("Stap 3 Zorgsleutel-app installeren (nog te doen)", "", ""),
        ("Stap 4 App op smartphone (nog te doen)", "", ""),
        ("Stap 5 Organisatie valideren (nog te doen)", "", "/organisatie/valideren"),
        ("Stap 6 Inloggen als portaaladministrator (nog te doen)", "", ""),
    ]


def test_the_form_is_at_step_2(client, db):
    plan = step_plan(client.get("/organisatie/aanmelden"))
    assert [(text, current) for text, current, _ in plan.steps][:3] == [
        ("Stap 1 Voorbereiding (voltooid)", ""),
        ("Stap 2 Aanvraagformulier invullen (huidige stap)", "step"),
        ("Stap 3 Zorgsleutel-app installeren (nog te doen)", ""),
    ]


@pytest.mark.django_db
def test_after_submitting_step_2_is_done_and_the_page_follows_the_application(client):
    form = {
        "organisation_name": "Huisartsenpraktijk De Linde",
        "kvk_number": "12345678",
        "ura": "90000382",
        "street": "Lindelaan 1",
        "postal_code": "1234 AB",
        "city": "Utrecht",
        "applicant_name": "Jan Test",
        "applicant_email": "jan@delinde.nl",
        "applicant_uzi_number": "900016528",
        "declaration": "on",
    }
    assert client.post("/organisatie/aanmelden", form)["Location"] == "/organisatie/aangemeld"
    page = client.get("/organisatie/aangemeld")
    plan = step_plan(page)
    assert plan.steps == [
        ("Stap 1 Voorbereiding (voltooid)", "", "/organisatie/voorbereiding"),
        ("Stap 2 Aanvraagformulier invullen (voltooid)", "", ""),
        ("Stap 3 Zorgsleutel-app installeren (huidige stap)", "step", ""),
        ("Stap 4 App op smartphone (nog te doen)", "", ""),
        ("Stap 5 Organisatie valideren (nog te doen)", "", "/organisatie/valideren"),
        ("Stap 6 Inloggen als portaaladministrator (nog te doen)", "", ""),
    ]
    assert "Uw aanvraag wacht op goedkeuring." in page.content.decode()

    # The operator approves: the same page (and Ik wil een organisatie valideren) is at step 5.
    application = Application.objects.get()
    operator = _operator()
    applications.approve_application(actor=operator, application_id=application.public_id)
    for path in ("/organisatie/aangemeld", "/organisatie/valideren"):
        plan = step_plan(client.get(path))
        assert [current for _, current, _ in plan.steps] == ["", "", "", "", "step", ""], path
        assert plan.steps[4][0] == "Stap 5 Organisatie valideren (huidige stap)"
        assert plan.steps[3][0] == "Stap 4 App op smartphone (voltooid)"


@pytest.mark.django_db
def test_a_rejected_application_is_back_at_step_2(client):
    application = applications.submit_application(data=application_data(), locale="nl")
    session = client.session
    session["zs_application_id"] = str(application.public_id)
    session.save()
    applications.reject_application(
        actor=_operator(), application_id=application.public_id, reason="URA onbekend"
    )
    page = client.get("/organisatie/aangemeld")
    plan = step_plan(page)
    assert plan.steps[1] == (
        "Stap 2 Aanvraagformulier invullen (huidige stap)",
        "step",
        "",
    )
    assert "Uw aanvraag is afgewezen." in page.content.decode()


def test_another_browser_s_application_is_not_shown(client, db):
    application = applications.submit_application(data=application_data(), locale="nl")
    applications.approve_application(actor=_operator(), application_id=application.public_id)
    session = client.session
    session["zs_application_id"] = "not-a-uuid"
    session.save()
    plan = step_plan(client.get("/organisatie/aangemeld"))
    assert plan.steps[2][1] == "step"  # waiting for approval, as a fresh submission says


def _operator():
    from zorgsleutel.accounts.models import User

    return User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("trust")
def test_validation_is_step_5_and_linking_the_app_step_6(client, hierarchy, card_key):
    from django.core.cache import cache

    cache.clear()
    _application, url = approved_application()
    path = "/" + url.split("/", 3)[3]
    plan = step_plan(client.get(path))
    assert [current for _, current, _ in plan.steps] == ["", "", "", "", "step", ""]
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    assert client.get(page["status"]).json()["next"] == "/organisatie/gevalideerd/app"
    linking = client.get("/organisatie/gevalideerd/app")
    plan = step_plan(linking)
    assert plan.steps[4:] == [
        ("Stap 5 Organisatie valideren (voltooid)", "", ""),
        ("Stap 6 Inloggen als portaaladministrator (huidige stap)", "step", ""),
    ]
    text = linking.content.decode()
    assert "<h1>Uw organisatie is gevalideerd</h1>" in text
    assert "<h2>Stap 6 Inloggen als portaaladministrator: app koppelen</h2>" in text
    cache.clear()
