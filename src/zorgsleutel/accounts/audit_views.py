"""The organisation's audit log for its administrators: filters, pages and CSV export.

`policies.py` says who opens the log (`audit.view`); `core/auditevents.py` which events each
reader finds in it. The page shows each event as a sentence with names (people/auditlog.py);
the CSV keeps the machine fields (codes, references, ISO times). Both name only the people the
organisation knows (policies.known_to): the CSV by the address an event kept for it (`names`,
core/audit.py), else, in events from before addresses were kept, by the address of someone with
a membership of it now; everyone else by their pseudonym, whether or not their account exists
(docs/accounts.md, "Audit").
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from datetime import datetime, time

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from zorgsleutel.accounts import forms
from zorgsleutel.accounts.manage_views import guard
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import audit, auditevents, auditwords
from zorgsleutel.core.pages import render
from zorgsleutel.people import auditlog, permissions
from zorgsleutel.people.models import Organisation

OUTCOMES = ("success", "failure", "denied")


def _day(day, end: bool = False):
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def _filtered(organisation: Organisation, reader: str, params) -> tuple:
    """The events `reader` (the viewer's role) may read (core/auditevents.py), filtered; the
    filters as typed; the dates' form (its errors for the page; a wrong date filters nothing)."""
    events = audit.for_organisation(organisation, reader=reader)
    filters = {
        "action": params.get("action", "").strip()[:80],
        "outcome": params.get("outcome", "") if params.get("outcome") in OUTCOMES else "",
        "from": params.get("from", "")[:10],
        "to": params.get("to", "")[:10],
    }
    dates = forms.AuditFilterForm({"from": filters["from"], "to": filters["to"]})
    dates.is_valid()
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["outcome"]:
        events = events.filter(outcome=filters["outcome"])
    if start := dates.cleaned_data.get("from"):
        events = events.filter(occurred_at__gte=_day(start))
    if end := dates.cleaned_data.get("to"):
        events = events.filter(occurred_at__lte=_day(end, end=True))
    return events, filters, dates


def _kept(event) -> dict[str, str]:
    return (event.details or {}).get(auditevents.NAMES) or {}


def _namer(organisation: Organisation, events) -> Callable[[object, str], str]:
    """name(event, reference): what the log shows for an actor or target of an event."""
    unnamed = set()
    for event in events:
        for reference in (event.actor, event.target):
            if reference.startswith("user:") and reference not in _kept(event):
                unnamed.add(reference.split(":", 1)[1])
    members = dict(
        Membership.objects.filter(
            organisation=organisation, user__public_id__in=_uuids(unnamed)
        ).values_list("user__public_id", "user__email")
    )
    members = {f"user:{public_id}": email for public_id, email in members.items()}

    def name(event, reference: str) -> str:
        return _kept(event).get(reference) or members.get(reference) or reference

    return name


def _uuids(values) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue  # not a person's reference: shown as it is
    return found


def _details(event) -> dict:
    """The event's details as the CSV shows them: the kept names are in the actor and target."""
    return {k: v for k, v in (event.details or {}).items() if k != auditevents.NAMES}


@never_cache
@guard
def audit_log(request, public_id):
    organisation = get_object_or_404(Organisation, public_id=public_id)
    acting = permissions.require(request.user, "audit.view", organisation)
    events, filters, dates = _filtered(organisation, acting.role, request.GET)
    page = Paginator(events, 100).get_page(request.GET.get("page", 1))
    rows = auditlog.rows(page.object_list, organisation=organisation)
    return render(
        request,
        "beheer/audit.html",
        {
            "organisation": organisation,
            "page": page,
            "rows": rows,
            "filters": filters,
            "dates": dates,
            "outcomes": OUTCOMES,
            "query": request.GET.urlencode(),
            "event_types": auditwords.choices(auditevents.read_by(acting.role)),
            "outcome_choices": auditlog.outcome_choices(),
        },
    )


def _cell(value) -> str:
    """Spreadsheet-safe: a cell starting with = + - @ is not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@guard
def audit_csv(request, public_id):
    organisation = get_object_or_404(Organisation, public_id=public_id)
    acting = permissions.require(request.user, "audit.view", organisation)
    events, _filters, _dates = _filtered(organisation, acting.role, request.GET)
    writer = csv.writer(_Echo())
    header = ["seq", "time", "actor", "action", "target", "outcome", "ip", "user_agent", "details"]

    def lines():
        yield writer.writerow(header)
        for chunk_start in range(0, 1_000_000, 2000):
            chunk = list(events[chunk_start : chunk_start + 2000])
            if not chunk:
                return
            name = _namer(organisation, chunk)
            for e in chunk:
                yield writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            e.seq,
                            e.occurred_at.isoformat(),
                            name(e, e.actor),
                            e.action,
                            name(e, e.target),
                            e.outcome,
                            e.ip or "",
                            e.user_agent,
                            _details(e),
                        )
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = _("audit") + f"-{organisation.kvk_number or organisation.ura or organisation.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
