"""Beheer as JSON: the same flows, permission checks and audit events as the pages."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StringConstraints

from zorgsleutel.accounts import permissions, queries
from zorgsleutel.accounts.api.auth import LoggedInSession, TokenAuth
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core.errors import NotFound, PermissionDenied
from zorgsleutel.organisations.models import Organisation

router = Router(auth=[TokenAuth(), LoggedInSession()], tags=["members"])


class MemberOut(Schema):
    id: int
    name: str
    email: str
    role: str
    application_roles: list[str]
    state: Literal["invited", "link_expired", "active", "blocked", "deleted"]


class MemberPage(Schema):
    count: int
    page: int
    pages: int
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
    q: Annotated[str, StringConstraints(max_length=100)] = ""
    page: Annotated[int, Field(ge=1, le=100_000)] = 1


def _organisation(request: HttpRequest, public_id: UUID) -> Organisation:
    organisation = Organisation.objects.filter(public_id=public_id).first()
    if organisation is None:
        raise NotFound("unknown_organisation", "No such organisation.")
    token = getattr(request, "api_token", None)
    if token is not None and token.organisation_id != organisation.pk:
        raise PermissionDenied("forbidden", "This token belongs to another organisation.")
    return organisation


def _out(membership: Membership) -> dict:
    return {
        "id": membership.pk,
        "name": membership.user.name,
        "email": membership.user.email,
        "role": membership.role,
        "application_roles": membership.application_roles,
        "state": queries.state_of(membership),
    }


def _member(organisation: Organisation, member_id: int) -> Membership:
    membership = queries.members(organisation).filter(pk=member_id).first()
    if membership is None:
        raise NotFound("unknown_member", "No such member in this organisation.")
    return membership


@router.get("/organisations/{public_id}/members", response=MemberPage)
def list_members(request: HttpRequest, public_id: UUID, params: Query[ListParams]):
    """List and search (name or e-mail) the organisation's people, 50 a page."""
    organisation = _organisation(request, public_id)
    permissions.require(request.auth, "members.view", organisation)
    page = queries.page_of_members(organisation, search=params.q, page=params.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "items": [_out(m) for m in page.object_list],
    }


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
)(_action(members.resend_activation))
router.post(
    "/organisations/{public_id}/members/{member_id}/block",
    response=MemberOut,
    summary="Block (ends all sessions)",
)(_action(members.block_member))
router.post(
    "/organisations/{public_id}/members/{member_id}/unblock", response=MemberOut, summary="Unblock"
)(_action(members.unblock_member))


@router.delete("/organisations/{public_id}/members/{member_id}", response={204: None})
def delete_member(request: HttpRequest, public_id: UUID, member_id: int):
    """Remove from the organisation; the last membership erases the phone and anonymises."""
    organisation = _organisation(request, public_id)
    membership = get_object_or_404(Membership, pk=member_id, organisation=organisation)
    members.delete_member(actor=request.auth, membership=membership)
    return Status(204, None)
