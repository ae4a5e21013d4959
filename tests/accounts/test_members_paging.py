"""Cursor paging of the members API: every member once, in order; cursors that cannot be read,
altered or moved to another list; the same answers whichever index drives the query."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test import Client

from zorgsleutel.accounts import queries
from zorgsleutel.accounts.api import members as api_members
from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.accounts.queries import sql as member_sql

pytestmark = pytest.mark.django_db

NAMES = ["Anna de Vries", "anna Jansen", "Bram Jansen", "Özil Jansen", "Zoë Bakker", "Jan Smit"]


@pytest.fixture
def crowd(organisation, other_organisation):
    """40 people here and 20 in another organisation, with equal names and mixed case."""
    for n in range(60):
        name = NAMES[n % len(NAMES)]
        first = name.split()[0].lower()
        user = User.objects.create(email=f"{first}{n:03d}@zorggroep.nl", name=name, state="active")
        Membership.objects.create(
            user=user, organisation=other_organisation if n % 3 == 2 else organisation
        )


@pytest.fixture
def manager(organisation, person):
    return person(organisation, "manager", email="api-beheer@zorggroep.nl", name="Mia Manager")


@pytest.fixture
def get(organisation, manager):
    client = Client(
        headers={
            "X-Zorgsleutel-Token": issue_token(organisation=organisation, user=manager, name="HR")
        }
    )
    url = f"/api/v1/organisations/{organisation.public_id}/members"

    def request(**params):
        return client.get(url, {k: v for k, v in params.items() if v is not None})

    return request


@pytest.fixture(params=["small", "large"])
def strategy(request, monkeypatch):
    """Both ways of finding a page: sort a small organisation, or walk the (name, email) index."""
    if request.param == "large":
        monkeypatch.setattr(member_sql, "SMALL_ORGANISATION", 0)
    return request.param


def expected(organisation, search=""):
    """Membership ids in the database's own (name, e-mail) order, filtered as `icontains` is."""
    people = Membership.objects.filter(organisation=organisation).order_by(
        "user__name", "user__email"
    )
    rows = people.values_list("pk", "user__name", "user__email")
    fold = _fold_ascii if connection.vendor == "sqlite" else str.upper  # SQLite's LIKE: ASCII
    return [
        pk for pk, name, email in rows if not search or fold(search) in fold(name + "\n" + email)
    ]


def _fold_ascii(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


def walk(get, **params):
    """Follow `next` to the end; the pages as answered."""
    pages = [get(**params)]
    while pages[-1].json()["next"]:
        assert pages[-1].status_code == 200, pages[-1].content
        pages.append(get(**params, cursor=pages[-1].json()["next"]))
        assert len(pages) < 100
    return [page.json() for page in pages]


def test_cursor_paging_visits_every_member_once_in_order(get, organisation, crowd, strategy):
    pages = walk(get, limit=7)
    ids = [item["id"] for page in pages for item in page["items"]]
    assert ids == expected(organisation)  # none twice, none missed, no one from elsewhere
    assert [page["page"] for page in pages] == list(range(1, len(pages) + 1))
    assert all(page["count"] == 41 and page["count_exact"] for page in pages)
    assert all(page["pages"] == 6 for page in pages) and len(pages) == 6
    assert [len(page["items"]) for page in pages] == [7, 7, 7, 7, 7, 6]


def test_search_with_cursor_counts_what_it_has_walked(get, organisation, crowd, strategy):
    pages = walk(get, q="  JANSEN ", limit=4)
    ids = [item["id"] for page in pages for item in page["items"]]
    assert ids == expected(organisation, "jansen") and len(ids) == 20
    assert [(p["count"], p["count_exact"]) for p in pages[:2]] == [(5, False), (9, False)]
    assert (pages[-1]["count"], pages[-1]["count_exact"], pages[-1]["pages"]) == (20, True, 5)


@pytest.mark.parametrize("search", ["anna", "özil", "Özil", "zoë", "an", "@zorggroep", "x"])
@pytest.mark.parametrize(
    ("window", "candidates"),
    [
        (2_000, 5_000),  # the window of people after the cursor finds them
        (3, 5_000),  # too few there: the trigram index names them
        (3, 0),  # too many for the trigram shortcut (SQLite): walk on
        (0, 5_000),
    ],
)
def test_search_answers_the_same_whichever_way_it_finds_people(
    get, organisation, crowd, monkeypatch, search, window, candidates
):
    monkeypatch.setattr(member_sql, "SMALL_ORGANISATION", 0)
    monkeypatch.setattr(member_sql, "SEARCH_WINDOW", window)
    monkeypatch.setattr(member_sql, "SEARCH_CANDIDATES", candidates)
    pages = walk(get, q=search, limit=5)
    assert [item["id"] for page in pages for item in page["items"]] == expected(
        organisation, search
    )


def test_a_cursor_continues_only_the_list_it_came_from(get, organisation, crowd):
    cursor = get(limit=5).json()["next"]
    assert get(cursor=cursor).status_code == 200
    for bad in [
        cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"),  # altered
        cursor[:20],  # cut short
        "not a cursor!",
        "",
        "A" * 1000,
    ]:
        response = get(cursor=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_cursor"
    other_search = get(q="jansen", cursor=cursor)
    assert other_search.status_code == 400 and other_search.json()["error"] == "invalid_cursor"
    search_cursor = get(q="jansen", limit=2).json()["next"]
    assert get(cursor=search_cursor).json()["error"] == "invalid_cursor"


def test_a_cursor_of_another_organisation_is_refused(organisation, other_organisation, crowd):
    here = queries.Position("Anna", "anna@zorggroep.nl")
    cursor = api_members.encode_cursor(
        api_members.Cursor(here, 2, 5, None), api_members._cursor_context(organisation, "")
    )
    with pytest.raises(api_members.DomainError) as refused:
        api_members.decode_cursor(cursor, api_members._cursor_context(other_organisation, ""))
    assert refused.value.code == "invalid_cursor"


def test_a_cursor_reveals_no_name_or_email_and_is_stable(get, organisation, crowd):
    first, again = get(limit=3).json(), get(limit=3).json()
    assert first["next"] == again["next"]  # same position, same cursor
    raw = base64.urlsafe_b64decode(first["next"] + "=" * (-len(first["next"]) % 4))
    last = first["items"][-1]
    assert last["email"].encode() not in raw and last["name"].encode() not in raw


def test_cursors_survive_a_key_rotation(get, organisation, crowd, settings):
    cursor = get(limit=5).json()["next"]
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old]
    assert get(cursor=cursor).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert get(cursor=cursor).json()["error"] == "invalid_cursor"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 10**9},
        {"limit": 0},
        {"limit": "ten"},
        {"page": 0},
        {"q": "x" * 101},
        {"cursor": "x" * 4097},
    ],
)
def test_bad_paging_input_is_a_400(get, crowd, params):
    response = get(**params)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_cursor_and_page_together_are_refused(get, crowd):
    cursor = get(limit=5).json()["next"]
    response = get(cursor=cursor, page=2)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_page_numbers_still_work_and_hand_over_to_cursors(get, organisation, crowd, strategy):
    order = expected(organisation)
    second = get(page=2, limit=10).json()
    assert [i["id"] for i in second["items"]] == order[10:20]
    assert (second["count"], second["count_exact"], second["page"], second["pages"]) == (
        41,
        True,
        2,
        5,
    )
    third = get(cursor=second["next"], limit=10).json()
    assert [i["id"] for i in third["items"]] == order[20:30] and third["page"] == 3
    searched = get(q="jansen", page=2, limit=4).json()
    assert (searched["count"], searched["count_exact"]) == (20, True)
    assert [i["id"] for i in searched["items"]] == expected(organisation, "jansen")[4:8]


def test_another_organisations_people_never_appear(
    get, organisation, other_organisation, crowd, strategy
):
    others = set(
        Membership.objects.filter(organisation=other_organisation).values_list("pk", flat=True)
    )
    for search in ["", "jansen", "@zorggroep.nl", "anna", "Jan"]:
        ids = {item["id"] for page in walk(get, q=search, limit=6) for item in page["items"]}
        assert ids and not ids & others


def test_the_beheer_pages_show_the_same_order_either_way(organisation, crowd, monkeypatch):
    small = [m.pk for m in queries.page_of_members(organisation, page=2, per_page=10).object_list]
    monkeypatch.setattr(member_sql, "SMALL_ORGANISATION", 0)
    large = [m.pk for m in queries.page_of_members(organisation, page=2, per_page=10).object_list]
    assert small == large == expected(organisation)[10:20]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram table is SQLite's")
def test_the_trigram_table_follows_every_change(organisation, crowd):
    # A migration that makes Django rebuild accounts_user on SQLite drops these triggers; it
    # must then run migration 0005's create_search_index again.
    assert member_sql.search_table_ready()
    user = User.objects.create(email="nieuw@zorggroep.nl", name="Fenna Nieuwland")
    Membership.objects.create(user=user, organisation=organisation)
    assert user.pk in member_sql.search_candidates("nieuwland")
    user.name = "Fenna Oudland"
    user.save()
    assert member_sql.search_candidates("nieuwland") == []
    assert user.pk in member_sql.search_candidates("oudland")
    user.delete()
    assert member_sql.search_candidates("oudland") == []


def test_the_openapi_schema_documents_cursor_paging():
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/organisations/{public_id}/members"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "cursor", "limit", "page"} <= set(parameters)
    assert parameters["page"]["schema"].get("deprecated") or parameters["page"].get("deprecated")
    page = schema["components"]["schemas"]["MemberPage"]["properties"]
    assert {"count", "count_exact", "next", "page", "pages", "items"} <= set(page)
    assert "lower bound" in page["count"]["description"]


def test_the_answer_matches_its_documented_schema(get, organisation, crowd):
    user = User.objects.create(email="uitgenodigd@zorggroep.nl", name="Anna Uitgenodigd")
    Membership.objects.create(
        user=user, organisation=organisation, application_roles=["inzage"], state="invited"
    )
    for params in [{}, {"q": "anna", "limit": 3}, {"page": 2, "limit": 10}]:
        response = get(**params)
        assert response["Content-Type"].startswith("application/json")
        page = api_members.MemberPage.model_validate(response.json())
        assert page.items
    states = {item["state"] for item in get(q="anna").json()["items"]}
    assert states == {"active", "link_expired"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram table is SQLite's")
def test_search_without_the_trigram_triggers_tests_everyone(get, organisation, crowd, monkeypatch):
    monkeypatch.setattr(member_sql, "SMALL_ORGANISATION", 0)
    monkeypatch.setattr(member_sql, "_memo", {})
    with connection.cursor() as cursor:  # as a rebuild of accounts_user would leave it
        cursor.execute("DROP TRIGGER accounts_user_search_update")
    assert not member_sql.search_table_ready()
    assert member_sql.search_candidates("jansen") is None
    ids = [item["id"] for page in walk(get, q="jansen", limit=6) for item in page["items"]]
    assert ids == expected(organisation, "jansen")


def test_the_longest_names_still_make_a_usable_cursor(get, organisation):
    for n in range(3):
        user = User.objects.create(email=f"{'x' * 240}{n}@zorggroep.nl", name="𝔸" * 200)
        Membership.objects.create(user=user, organisation=organisation)
    pages = walk(get, limit=1)
    assert len(pages) == 4 and max(len(p["next"] or "") for p in pages) <= 4096
