"""The audit logs for people: every event as a sentence that names people, organisations, apps
and cards, its outcome as a badge, its moment as people write it.

The words are core/auditwords.py's (a sentence per event type) and core/auditphrases.py's
(the detail fields). The names come in bulk: one query per kind of reference on the page
(people; in the platform's log organisations; and each kind a capability registers here from
its AppConfig.ready: apps, smartcards, card orders, applications, API tokens), never one per
event, so a page of the log costs the same statements however many events it shows.

Tenancy (docs/accounts.md, "Whom the log names"): an organisation's log names the people with
a membership of it (any state) as its member list shows them (`Membership.display_name`) with
their address; a person it no longer knows by the address its event kept (`names`,
core/audit.py); anyone else as someone outside it, whether or not their account exists. Its
registered kinds name only what belongs to it (its smartcards, its orders, the apps of its
people), another organisation only as "another organisation". Operators read every name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import FilteredRelation, Q
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core import audit, auditevents, auditphrases, auditwords
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.people.models import Organisation, User


@dataclass(frozen=True)
class Named:
    """What a log says for a reference: a name for the sentence, a person's e-mail address,
    and the person something (an app, a card) belongs to (their reference)."""

    name: str
    email: str = ""
    owner: str = ""


# resolve(references, organisation): names for references of one kind ("appdevice:..."), in one
# query; `organisation`: whose log it is (name only what is its own), None for operators.
Resolver = Callable[[set[str], Organisation | None], dict[str, Named]]
_KINDS: dict[str, Resolver] = {}


def register(kind: str, resolve: Resolver) -> None:
    """Name the references of `kind` ("smartcard") with `resolve` (see Resolver)."""
    _KINDS[kind] = resolve


# What stands in the actor column when no person acted.
_ACTORS = {
    "": _("Zorgsleutel"),
    "system": _("Zorgsleutel"),
    "cli": _("Zorgsleutel (command line)"),
    "demo": _("Zorgsleutel (demo data)"),
    "anonymous": _("someone"),
}
# A reference a page cannot name (gone, or not the organisation's own), after the word for its
# kind ("de smartcard (onbekend)"); another organisation as such.
_UNNAMED = _("(unknown)")
_OTHER_ORGANISATION = _("another organisation")

# Outcome: its words and the NL Design System status badge's modifier.
OUTCOMES = {
    audit.SUCCESS: (_("Succeeded"), "success"),
    audit.DENIED: (_("Refused"), "danger"),
    audit.FAILURE: (_("Failed"), "warning"),
}


def outcome_choices() -> list[tuple[str, str]]:
    return [(code, str(words)) for code, (words, _badge) in OUTCOMES.items()]


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    sentence: str
    outcome: str  # "Gelukt"
    badge: str  # the status badge's modifier: "success"
    when: str  # "7 december 2026, 14:05"
    emails: tuple[str, ...]  # the addresses of the people it names, for those who may read them
    organisation: str  # the organisation's name ("" for the platform's own events)


def rows(events: Iterable[AuditEvent], *, organisation: Organisation | None = None) -> list[Row]:
    """The events in words, for the log of `organisation` (None: the platform's, operators)."""
    events = list(events)
    names = _Names(events, organisation)
    return [_row(event, names) for event in events]


def _row(event: AuditEvent, names: _Names) -> Row:
    actor = names.of(event, event.actor)  # "" or "system": Zorgsleutel
    target = names.of(event, event.target) if event.target else Named("—")
    organisation = names.organisation(event)
    details = {k: v for k, v in (event.details or {}).items() if k != auditevents.NAMES}
    values = _Values(auditphrases.facts(event.action, details))
    values.update(
        actor=actor.name,
        target=_with_owner(target, event, names),
        organisation=organisation or "—",
    )
    template = auditwords.sentence(event.action, details, has_target=bool(event.target))
    try:
        text = str(template) % values if template is not None else _unknown(event, values)
    except (KeyError, ValueError, TypeError):  # a translation or an old row gone wrong
        text = _unknown(event, values)
    words, badge = OUTCOMES.get(event.outcome, (event.outcome, "neutral"))
    owner = names.of(event, target.owner) if target.owner else Named("")
    emails = tuple(dict.fromkeys(e for e in (actor.email, target.email, owner.email) if e))
    return Row(
        event=event,
        sentence=capfirst(text),
        outcome=str(words),
        badge=badge,
        when=auditphrases.moment(event.occurred_at),
        emails=emails,
        organisation=organisation,
    )


def _unknown(event: AuditEvent, values: dict) -> str:
    text = auditwords.UNKNOWN_WITH_TARGET if event.target else auditwords.UNKNOWN
    return str(text) % {**values, "action": event.action}


def _with_owner(target: Named, event: AuditEvent, names: _Names) -> str:
    """ "KAART-0042 van Carla Zorg": a thing with the person it belongs to, unless they acted."""
    if not target.owner or target.owner == event.actor:
        return target.name
    owner = names.of(event, target.owner)
    return gettext("%(thing)s of %(owner)s") % {"thing": target.name, "owner": owner.name}


class _Values(dict):
    """A sentence's values: a field an old event lacks reads as a dash, never a KeyError."""

    def __missing__(self, key):
        return "—"


class _Names:
    """Every reference of a page of events, named with one query per kind."""

    def __init__(self, events: list[AuditEvent], organisation: Organisation | None):
        self.organisation_of_log = organisation
        references: dict[str, set[str]] = {}
        for event in events:
            for reference in (event.actor, event.target, event.organisation):
                kind, _sep, _rest = reference.partition(":")
                if _sep:
                    references.setdefault(kind, set()).add(reference)
        self.named: dict[str, Named] = {}
        for kind, resolve in _KINDS.items():
            if kind in references:
                self.named.update(resolve(references[kind], organisation))
        owners = {n.owner for n in self.named.values() if n.owner}
        self.named.update(_people(references.get("user", set()) | owners, organisation))
        self.named.update(_organisations(references.get("organisation", set()), organisation))

    def of(self, event: AuditEvent, reference: str) -> Named:
        if reference in _ACTORS:
            return Named(str(_ACTORS[reference]))
        named = self.named.get(reference)
        kind = reference.partition(":")[0]
        if kind == "organisation":
            return named or Named(str(_OTHER_ORGANISATION))
        if kind != "user":
            return named or Named(str(_UNNAMED))
        kept = ((event.details or {}).get(auditevents.NAMES) or {}).get(reference, "")
        if named is not None:  # the address the event kept: whom the organisation knew then
            return Named(named.name, kept or named.email) if named.email else named
        if kept:
            return Named(kept, kept)
        if self.organisation_of_log is None:
            return Named(gettext("an unknown account (%(ref)s)") % _short(reference))
        return Named(gettext("someone outside this organisation (%(ref)s)") % _short(reference))

    def organisation(self, event: AuditEvent) -> str:
        if not event.organisation:
            return ""
        return self.of(event, event.organisation).name


def _short(reference: str) -> dict[str, str]:
    return {"ref": reference.partition(":")[2][:8]}


def _uuids(references: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for reference in references:
        try:
            found.append(uuid.UUID(reference.partition(":")[2]))
        except ValueError:
            continue  # not a reference of ours: named as what it is
    return found


def _people(references: set[str], organisation: Organisation | None) -> dict[str, Named]:
    """People by name and address: in an organisation's log its members (as its list shows
    them) and operators, nobody else; for operators everyone."""
    if not references:
        return {}
    people = User.objects.filter(public_id__in=_uuids(references))
    if organisation is None:
        named = {}
        for public_id, name, email, state in people.values_list(
            "public_id", "name", "email", "state"
        ):
            reference = f"user:{public_id}"
            if state == User.DELETED:
                text = gettext("a deleted account (%(ref)s)") % _short(reference)
                named[reference] = Named(text)
            else:
                named[reference] = Named(name or email, email)
        return named
    here = people.annotate(
        here=FilteredRelation("memberships", condition=Q(memberships__organisation=organisation))
    ).filter(Q(here__isnull=False) | Q(is_operator=True))
    named = {}
    for public_id, name, email, operator, invited_name, accepted_at in here.values_list(
        "public_id", "name", "email", "is_operator", "here__invited_name", "here__accepted_at"
    ):
        reference = f"user:{public_id}"
        if operator:
            named[reference] = Named(gettext("a Zorgsleutel operator"))
            continue
        # Membership.display_name: until the person accepts, the name the organisation typed.
        shown = invited_name if accepted_at is None and invited_name else name
        named[reference] = Named(shown or email, email)
    return named


def _organisations(references: set[str], organisation: Organisation | None) -> dict[str, Named]:
    """Organisations by name: an organisation's log names itself only."""
    if organisation is not None:
        return {organisation.audit_ref: Named(organisation.name)}
    if not references:
        return {}
    found = Organisation.objects.filter(public_id__in=_uuids(references))
    return {
        f"organisation:{public_id}": Named(name)
        for public_id, name in found.values_list("public_id", "name")
    }
