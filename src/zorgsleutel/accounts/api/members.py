"""Beheer as JSON: the same flows, permission checks and audit events as the pages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.crypto import salted_hmac
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StringConstraints

from zorgsleutel.accounts import queries
from zorgsleutel.accounts.api.auth import LoggedInSession, TokenAuth
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership
from zorgsleutel.authn import refusals
from zorgsleutel.core import audit
from zorgsleutel.core.errors import DomainError, NotFound
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Organisation

router = Router(auth=[TokenAuth(), LoggedInSession()], tags=["members"])

MAX_LIMIT = 200


class MemberOut(Schema):
    id: int
    name: str
    email: str
    role: str
    application_roles: list[str]
    state: Literal["invited", "link_expired", "active", "blocked", "deleted"]


class MemberPage(Schema):
    """One page of an organisation's people, in (name, e-mail) order."""

    count: int = Field(
        description="How many people are in the list. Without `q` it is exact (counted when "
        "the first page was asked for). With `q` the server counts only the matches it has "
        "walked: until the last page it is a lower bound (the matches so far plus one) and "
        "`count_exact` is false; on the last page (`next` is null) it is exact."
    )
    count_exact: bool = Field(description="Whether `count` is the exact number.")
    page: int = Field(description="Number of this page: 1 for the first, one more per `next`.")
    pages: int = Field(
        description="Pages of `limit` people that `count` makes (a lower bound when "
        "`count_exact` is false)."
    )
    next: str | None = Field(
        description="Opaque cursor of the following page: send it back as `cursor` with the "
        "same `q`. null on the last page."
    )
    items: list[MemberOut]


class NewMember(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Annotated[
        str, StringConstraints(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    ]
    role: Literal["member", "manager", "administrator"] = "member"
    application_roles: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class ListParams(Schema):
    q: Annotated[str, StringConstraints(max_length=100)] = Field(
        "", description="Part of the name or e-mail address (case-insensitive)."
    )
    cursor: Annotated[str, StringConstraints(max_length=4096)] | None = Field(
        None, description="The `next` of the previous page; leave out for the first page."
    )
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = Field(
        queries.PAGE_SIZE, description=f"People per page, at most {MAX_LIMIT}."
    )
    page: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None,
        description="Deprecated: a page number (skips rows, so deep pages are slow, and counts "
        "every match). Use `cursor`. Not together with `cursor`.",
        json_schema_extra={"deprecated": True},
    )


# --- cursors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a walk through the list stands."""

    position: queries.Position | None  # the page starts after this person (None: the start)
    page: int  # the number of that page
    seen: int  # matches on the pages before it
    total: int | None  # the exact count when known (no search: counted on the first page)


_CURSOR_VERSION = b"\x01"
_CURSOR_NONCE = bytes(12)
_CURSOR_SALT = "zorgsleutel.api.members.cursor"


def _cursor_ciphers():
    """One AES-GCM-SIV key per SECRET_KEY (current first, then the fallbacks)."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        key = salted_hmac(_CURSOR_SALT, "key", secret=secret, algorithm="sha256").digest()
        yield AESGCMSIV(key)


def _cursor_context(organisation: Organisation, search: str) -> bytes:
    return f"{organisation.pk}\n{search}".encode()


def encode_cursor(cursor: Cursor, context: bytes) -> str:
    """An opaque cursor: the position, page, count so far, encrypted and authenticated.

    AES-GCM-SIV with a key derived from SECRET_KEY: a client can neither read a cursor (it
    holds a person's name and e-mail address, which must not end up in access logs) nor alter
    it. `context` (organisation and search) is authenticated too, so a cursor is refused for
    any other list. The nonce is fixed: AES-GCM-SIV tolerates that and then only reveals that
    two cursors are equal, which makes the same position always give the same cursor. A cursor
    does not expire; it stops working when its SECRET_KEY leaves SECRET_KEY_FALLBACKS.
    """
    assert cursor.position is not None
    plain = json.dumps(
        [cursor.position.name, cursor.position.email, cursor.page, cursor.seen, cursor.total],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    sealed = next(_cursor_ciphers()).encrypt(_CURSOR_NONCE, plain, context)
    return base64.urlsafe_b64encode(_CURSOR_VERSION + sealed).rstrip(b"=").decode()


def decode_cursor(value: str, context: bytes) -> Cursor:
    """The cursor `encode_cursor` made for this context; anything else is `invalid_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if raw[:1] == _CURSOR_VERSION:
        for cipher in _cursor_ciphers():
            try:
                fields = json.loads(cipher.decrypt(_CURSOR_NONCE, raw[1:], context))
            except (InvalidTag, ValueError):
                continue
            name, email, page, seen, total = fields
            return Cursor(queries.Position(name, email), page, seen, total)
    raise DomainError(
        "invalid_cursor",
        "This cursor is not valid for this list (damaged, from another search or "
        "organisation, or made with a retired key). Start again without a cursor.",
        field="cursor",
    )


def _organisation(request: HttpRequest, public_id: UUID) -> Organisation:
    token = getattr(request, "api_token", None)
    if token is not None and token.organisation.public_id == public_id:
        return token.organisation  # read with the token, in this request
    organisation = Organisation.objects.filter(public_id=public_id).first()
    if organisation is None:
        raise NotFound("unknown_organisation", "No such organisation.")
    if token is not None and token.organisation_id != organisation.pk:
        # In the log of the token's organisation: its administrators answer for the token.
        raise audit.refused(
            "permission.denied",
            refusals.error("forbidden"),
            actor=token.created_by,
            organisation=token.organisation,
            target=organisation,
            details={"action": "api.other_organisation"},
        )
    return organisation


def _out(row: queries.MemberRow) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "role": row.role,
        "application_roles": row.application_roles,
        "state": row.state,
    }


def _member(organisation: Organisation, member_id: int) -> queries.MemberRow:
    membership = queries.members(organisation).filter(pk=member_id).first()
    if membership is None:
        raise NotFound("unknown_member", "No such member in this organisation.")
    return queries.member_row(membership)


@router.get("/organisations/{public_id}/members", response=MemberPage)
def list_members(request: HttpRequest, public_id: UUID, params: Query[ListParams]):
    """List and search (name or e-mail) the organisation's people: `limit` a page (50 unless
    asked), in (name, e-mail) order; follow `next` until it is null. Every page costs the same,
    however deep, because a cursor continues after the last person seen."""
    organisation = _organisation(request, public_id)
    permissions.require(request.auth, "members.view", organisation)
    search = queries.normalise_search(params.q)
    context = _cursor_context(organisation, search)
    if params.page is not None:
        if params.cursor is not None:
            raise DomainError("invalid_request", "Send cursor or page, not both.", field="page")
        return _numbered_page(organisation, search, params, context)
    if params.cursor is None:
        total = None if search else queries.count_members(organisation)
        walk = Cursor(position=None, page=1, seen=0, total=total)
    else:
        walk = decode_cursor(params.cursor, context)
    part = queries.slice_of_members(
        organisation, search=search, after=walk.position, limit=params.limit
    )
    return _page(walk, part.rows, part.last, params.limit, context)


def _numbered_page(organisation, search: str, params: ListParams, context: bytes):
    """The deprecated `page=N`: exact count, rows skipped; its `next` switches to cursors."""
    page = queries.page_of_members(
        organisation, search=search, page=params.page, per_page=params.limit
    )
    rows = [queries.member_row(m) for m in page.object_list]
    last = None
    if page.has_next() and rows:
        last = queries.Position(rows[-1].name, rows[-1].email)
    walk = Cursor(None, page.number, (page.number - 1) * params.limit, page.paginator.count)
    return _page(walk, rows, last, params.limit, context)


def _page(walk: Cursor, rows: list[queries.MemberRow], last, limit: int, context: bytes):
    """The answer, as JSON built here: the rows are already typed, and ninja's validation of
    50 items per page cost more than the query (MemberPage still documents it; tests check it).
    """
    shown = walk.seen + len(rows)
    if walk.total is not None:
        count, exact = walk.total, True
    else:  # a search counts what it has walked; one more match exists while there is a next
        count, exact = (shown + 1, False) if last is not None else (shown, True)
    following = None
    if last is not None:
        following = encode_cursor(Cursor(last, walk.page + 1, shown, walk.total), context)
    body = {
        "count": count,
        "count_exact": exact,
        "page": walk.page,
        "pages": max(-(-count // limit), 1),
        "next": following,
        "items": [_out(m) for m in rows],
    }
    return JsonResponse(body)


@router.post("/organisations/{public_id}/members", response={201: MemberOut})
def create_member(request: HttpRequest, public_id: UUID, payload: NewMember):
    """Nieuwe gebruiker: an invited account and an activation mail."""
    organisation = _organisation(request, public_id)
    membership = members.invite_member(
        actor=request.auth,
        organisation=organisation,
        name=payload.name,
        email=payload.email,
        role=payload.role,
        application_roles=payload.application_roles,
    )
    return Status(201, _out(_member(organisation, membership.pk)))


def _action(flow):
    def run(request: HttpRequest, public_id: UUID, member_id: int):
        organisation = _organisation(request, public_id)
        membership = get_object_or_404(Membership, pk=member_id, organisation=organisation)
        flow(actor=request.auth, membership=membership)
        return _out(_member(organisation, member_id))

    return run


router.post(
    "/organisations/{public_id}/members/{member_id}/resend-activation",
    response=MemberOut,
    summary="Nieuwe activatielink sturen",
    operation_id="zorgsleutel_accounts_api_members_resend_activation",
)(_action(members.resend_activation))
router.post(
    "/organisations/{public_id}/members/{member_id}/block",
    response=MemberOut,
    summary="Block (ends all sessions)",
    operation_id="zorgsleutel_accounts_api_members_block_member",
)(_action(members.block_member))
router.post(
    "/organisations/{public_id}/members/{member_id}/unblock",
    response=MemberOut,
    summary="Unblock",
    operation_id="zorgsleutel_accounts_api_members_unblock_member",
)(_action(members.unblock_member))


@router.delete("/organisations/{public_id}/members/{member_id}", response={204: None})
def delete_member(request: HttpRequest, public_id: UUID, member_id: int):
    """Remove from the organisation; the last membership erases the phone and anonymises."""
    organisation = _organisation(request, public_id)
    membership = get_object_or_404(Membership, pk=member_id, organisation=organisation)
    members.delete_member(actor=request.auth, membership=membership)
    return Status(204, None)
