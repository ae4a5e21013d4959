"""Migration of existing accounts (seed 000: "Heeft u al een account voor het Portaal?").

Each good row becomes an invited account with a membership and an activation mail sent at the
cut-over moment; bad rows are reported with their line numbers and skipped. Re-running the same
file changes nothing for rows already imported: no duplicate people, no second mail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.db import transaction

from zorgsleutel.accounts.flows import memberships
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.people import emails
from zorgsleutel.people.models import Organisation

COLUMNS = {"name", "email", "role"}
OPTIONAL = {"password_hash", "application_roles"}
ROLES = {
    "member": "member",
    "medewerker": "member",
    "manager": "manager",
    "beheerder": "manager",
    "administrator": "administrator",
}


@dataclass
class ImportReport:
    imported: int = 0
    already_there: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_rows(text: str) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """Rows with their line numbers; `,` or `;` separated, header row required."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = COLUMNS - header
    if missing:
        return [], [(1, f"missing column(s): {', '.join(sorted(missing))}")]
    unknown = header - COLUMNS - OPTIONAL
    if unknown:
        return [], [(1, f"unknown column(s): {', '.join(sorted(unknown))}")]
    rows = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        rows.append((reader.line_num, clean))
    return rows, []


def _check(row: dict, organisation: Organisation) -> str | None:
    if not row.get("name"):
        return "name is empty"
    if not emails.is_valid(row.get("email", "").strip().lower()):
        return f"not an e-mail address: {row.get('email', '')!r}"
    try:
        memberships.check_business_email(row["email"], organisation)
    except DomainError as error:
        return str(error.message)
    if row.get("role", "").lower() not in ROLES:
        return f"unknown role {row.get('role')!r} (use member, manager or administrator)"
    if row.get("password_hash"):
        try:
            identify_hasher(row["password_hash"])
        except ValueError:
            return "password_hash is not a hash this portal knows (Django format: algorithm$...)"
    unknown = set(_app_roles(row)) - set(organisation.application_roles or [])
    if unknown:
        return f"unknown application role(s): {', '.join(sorted(unknown))}"
    return None


def _app_roles(row: dict) -> list[str]:
    return sorted({r.strip() for r in row.get("application_roles", "").split("|") if r.strip()})


def import_users(
    *,
    organisation: Organisation,
    rows: Iterable[tuple[int, dict]],
    send_activation_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    send_at = (
        send_activation_at if send_activation_at and send_activation_at > clock.now() else None
    )
    for count, (line, row) in enumerate(rows, start=1):
        problem = _check(row, organisation)
        if problem:
            report.errors.append((line, problem))
        elif _import_one(organisation, row, send_at):
            report.imported += 1
        else:
            report.already_there += 1
        if progress and count % 500 == 0:
            progress(count)
    return report


def _import_one(organisation: Organisation, row: dict, send_at: datetime | None) -> bool:
    """One row: an invited membership and its link (an activation for a new account, an
    invitation to accept for an existing one: an import attaches nobody without consent)."""
    email = row["email"].strip().lower()
    role = ROLES[row["role"].lower()]
    with transaction.atomic():
        membership = memberships.add_invited_membership(
            organisation=organisation,
            email=email,
            name=" ".join(row["name"].split()),
            role=role,
            application_roles=_app_roles(row),
            send_at=send_at,
            password_hash=row.get("password_hash") or "",
        )
        if membership is None:
            return False
        audit.record(
            "member.imported",
            actor="cli",
            organisation=organisation,
            target=membership.user,
            details={"role": role},
        )
    return True


def find_organisation(ref: str) -> Organisation | None:
    """An organisation by URA, KvK number or id (public id or database id)."""
    ref = ref.strip()
    found = (
        Organisation.objects.filter(ura=ref).first()
        or Organisation.objects.filter(kvk_number=ref).first()
    )
    if found:
        return found
    if ref.isdigit():
        return Organisation.objects.filter(pk=int(ref)).first()
    try:
        return Organisation.objects.filter(public_id=ref).first()
    except ValidationError:
        return None
