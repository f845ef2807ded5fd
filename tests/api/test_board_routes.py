"""The board route: each reader sees the scopes theirs to see, the public view masks
personal data, and no route an anonymous or wrong-community reader can reach leaks an
item it may not see (a property over random items)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.sealed_identity import generate_key_pair
from ledger.store import open_store
from ledger.store.base import Community
from tests.api.demo_service import demo_store, reader_tokens
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, key

READERS = [
    ("resident", "tianhai"),
    ("committee_member", "tianhai"),
    ("clerk", "tianhai"),
    ("committee_chair", "tianhai"),
    ("party_reviewer", "tianhai"),
    ("disciplinary_auditor", None),
    ("resident", "xinhe"),
    ("clerk", "xinhe"),
]
EXPECTED_SCOPES = {
    None: {"public"},
    ("resident", "tianhai"): {"public", "internal"},
    ("committee_member", "tianhai"): {"public", "internal"},
    ("clerk", "tianhai"): {"public", "internal", "leadership"},
    ("committee_chair", "tianhai"): {"public", "internal", "leadership"},
    ("party_reviewer", "tianhai"): {"public", "internal", "leadership"},
    ("disciplinary_auditor", None): {"public", "internal", "leadership"},
    ("resident", "xinhe"): {"public"},
    ("clerk", "xinhe"): {"public"},
}


@dataclass
class Service:
    url: str
    client: TestClient
    tokens: dict[tuple[str, str | None], str]

    def board(
        self, who: tuple[str, str | None] | None, community: str = "tianhai", **params: int
    ) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.client.get(
            f"/v1/communities/{community}/board", headers=headers, params=params
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def catch_up(self) -> None:
        assert main(["projections", "run", "--db", self.url, "--once"]) == 0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The demo community (items of every scope) and an empty second community, with an
    account of every kind of reader. SQLite: the rules are the route's, not the store's."""
    url = demo_store(tmp_path_factory.mktemp("board"))
    tokens = reader_tokens(url, READERS)
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        result = Service(url, client, tokens)
        result.catch_up()
        yield result


def scopes(body: dict[str, object]) -> set[str]:
    items = body["items"]
    assert isinstance(items, list)
    return {item["scope"] for item in items}


@pytest.mark.parametrize("who", [None, *READERS], ids=str)
def test_each_reader_sees_the_scopes_theirs_to_see(
    service: Service, who: tuple[str, str | None] | None
) -> None:
    body = service.board(who)
    assert scopes(body) == EXPECTED_SCOPES[who]
    assert body["public_view"] == (who is None or who[1] == "xinhe")
    assert isinstance(body["projected_to"], int)
    assert body["projected_to"] > 0


def test_the_public_view_masks_personal_data(service: Service) -> None:
    with open_store(service.url) as store, Ledger(store) as ledger:
        tianhai = ledger.community("tianhai")
        title = "临时救助 联系人13812345678 证件110101199003071234"
        disclosure = tianhai.draft_disclosure(
            CLERK, key(), **{**DRAFT, "title": title, "scope": "public"}
        ).result["id"]
        tianhai.submit_for_review(CLERK, key(), disclosure)
        tianhai.review(
            CHAIR, key(), disclosure, stage="committee", outcome="approved", opinion="同意"
        )
    service.catch_up()

    def item(who: tuple[str, str | None] | None) -> dict[str, object]:
        items = service.board(who)["items"]
        assert isinstance(items, list)
        return next(i for i in items if i["disclosure_id"] == disclosure)

    public = item(None)
    assert public["title"] == "临时救助 联系人138****5678 证件110***********1234"
    assert public["reviews"] == ["committee 王**（committee_chair）通过"]
    member = item(("resident", "tianhai"))
    assert member["title"] == title
    assert "王建国" in member["reviews"][0]  # type: ignore[index]
    assert item(("clerk", "xinhe"))["title"] == public["title"], "another community's view"


def test_the_board_as_it_stood(service: Service) -> None:
    now = service.board(("disciplinary_auditor", None))
    early = service.board(("disciplinary_auditor", None), as_of=3)
    assert early["as_of"] == 3
    assert len(early["items"]) < len(now["items"])  # type: ignore[arg-type]
    assert all(item["last_seq"] <= 3 for item in early["items"])  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/communities/nowhere/board", 404),
        ("/v1/communities/tianhai/board?as_of=-1", 422),
        ("/v1/communities/tianhai/board?as_of=x", 422),
        ("/v1/communities/NO%20WAY/board", 422),
    ],
)
def test_bad_board_requests_are_problems(service: Service, path: str, status: int) -> None:
    response = service.client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_a_bad_token_is_refused_not_treated_as_the_public(service: Service) -> None:
    response = service.client.get(
        "/v1/communities/tianhai/board", headers={"Authorization": "Bearer gk_forged"}
    )
    assert response.status_code == 401


# --- the scope-leak property ------------------------------------------------------------

SCOPE = st.sampled_from(["public", "internal", "leadership"])
PERSONAL = st.sampled_from(["", " 13912345678", " 320102198807154321", " 15800001111"])
# Bounded by anything but hex digits: an entry's hash may hold a run of 18 decimal digits.
MOBILE_OR_ID = re.compile(
    r"(?<![0-9A-Fa-f])(?:1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx])(?![0-9A-Fa-f])"
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(items=st.lists(st.tuples(SCOPE, PERSONAL), min_size=1, max_size=6), data=st.data())
def test_no_route_leaks_what_an_outsider_may_not_see(
    service: Service, items: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Random items of random scopes in a new community; every route an anonymous reader
    or a member of another community can reach is scanned for a non-public item's
    marker and for any unmasked mobile or ID number."""
    community = "c" + uuid.uuid4().hex[:10]
    markers: dict[str, str] = {}
    disclosures: list[str] = []
    with open_store(service.url) as store, Ledger(store) as ledger:
        ledger_c = ledger.add_community(Community(community, "随机社区"))
        for scope, personal in items:
            marker = "M" + uuid.uuid4().hex[:12]
            markers[marker] = scope
            drafted = ledger_c.draft_disclosure(
                Actor("李娜", Role.CLERK),
                key(),
                **{
                    **DRAFT,
                    "title": f"{marker}{personal}",
                    "body": f"正文{personal}",
                    "scope": scope,
                },
            )
            disclosures.append(drafted.result["id"])
        # An inquiry is the members' (as the finances are): never an outsider's to read.
        inquiry_marker = "Q" + uuid.uuid4().hex[:12]
        markers[inquiry_marker] = "members"
        ledger_c.file_inquiry(
            Actor("周*兰", Role.RESIDENT_REPRESENTATIVE),
            key(),
            question=f"{inquiry_marker}{items[0][1]}",
            disclosure_id=disclosures[0],
            now=dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC),
        )
        # A report's subject and text are the leadership's; its reporter's name and
        # contact are sealed, and no route shows them to anyone, the auditors included.
        report_marker = "R" + uuid.uuid4().hex[:12]
        markers[report_marker] = "leadership"
        sealed_marker = "S" + uuid.uuid4().hex[:12]
        _, report_key = generate_key_pair()
        ledger_c.register_report_key(
            Actor("陈静", Role.DISCIPLINARY_AUDITOR), key(), public_key=report_key.line
        )
        filed = ledger_c.file_report(
            Actor("resident.x", Role.RESIDENT),
            key(),
            subject=f"{report_marker}事项",
            text=f"{report_marker}{items[0][1]}",
            name=sealed_marker,
            contact=f"{sealed_marker}{items[0][1]}",
        )
        report_id = filed.result.result["id"]
    service.catch_up()
    report_pages = [
        f"/v1/communities/{community}/reports",
        f"/v1/communities/{community}/reports/{report_id}",
        f"/v1/communities/{community}/report-key",
        f"/c/{community}/reports",
        f"/console/c/{community}/reports",
    ]
    for who in (None, ("resident", "xinhe"), ("disciplinary_auditor", None)):
        headers = {"Authorization": f"Bearer {service.tokens[who]}"} if who else {}
        for page in report_pages:
            text = service.client.get(page, headers=headers).text
            assert sealed_marker not in text, (who, page)
            assert "resident.x" not in text, (who, page)
            lists = "reports" in page and not page.startswith("/c/")
            if who is not None and who[0] == "disciplinary_auditor" and lists:
                assert report_marker in text, page  # the scan reads pages that show reports
    outsiders: list[tuple[str, str | None] | None] = [None, ("resident", "xinhe")]
    outsiders.append(("clerk", "xinhe"))
    as_of = data.draw(st.integers(0, len(items) + 2))
    for who in outsiders:
        headers = {"Authorization": f"Bearer {service.tokens[who]}"} if who else {}
        pages = [
            f"/v1/communities/{community}/board",
            f"/v1/communities/{community}/board?as_of={as_of}",
            f"/v1/communities/{community}/events",
            f"/v1/communities/{community}/head",
            f"/v1/communities/{community}/finance/entries",
            f"/v1/communities/{community}/finance/totals",
            f"/v1/communities/{community}/audit-trail",
            "/v1/communities",
        ]
        pages += [
            f"/v1/communities/{community}/inquiries",
            f"/c/{community}/inquiries",
            f"/console/c/{community}/inquiries",
            f"/c/{community}",
            *report_pages,
        ]
        for d in disclosures:
            pages += [
                f"/v1/communities/{community}/disclosures/{d}/{what}"
                for what in ("history", "opinions", "objections")
            ]
            pages.append(f"/c/{community}/items/{d}")
        for page in pages:
            text = service.client.get(page, headers=headers).text
            for marker, scope in markers.items():
                if scope != "public":
                    assert marker not in text, (who, page, scope)
            assert not MOBILE_OR_ID.search(text), (who, page)
        seen = scopes(service.board(who, community))
        assert seen <= {"public"}
    public_markers = [m for m, scope in markers.items() if scope == "public"]
    body = service.client.get(f"/v1/communities/{community}/board").text
    assert all(marker in body for marker in public_markers), "public items are shown"


# --- a disclosure's history and the finances -------------------------------------------


def ids_by_scope(service: Service) -> dict[str, str]:
    items = service.board(("disciplinary_auditor", None))["items"]
    assert isinstance(items, list)
    return {item["scope"]: item["disclosure_id"] for item in items}


@pytest.mark.parametrize("who", [None, *READERS], ids=str)
def test_a_history_is_shown_to_whoever_may_see_its_scope(
    service: Service, who: tuple[str, str | None] | None
) -> None:
    headers = {"Authorization": f"Bearer {service.tokens[who]}"} if who else {}
    for scope, disclosure in ids_by_scope(service).items():
        response = service.client.get(
            f"/v1/communities/tianhai/disclosures/{disclosure}/history", headers=headers
        )
        if scope in EXPECTED_SCOPES[who]:
            assert response.status_code == 200, (scope, response.text)
            body = response.json()
            assert body["versions"][0]["version"] == 1
            assert body["public_view"] == (who is None or who[1] == "xinhe")
            if body["public_view"]:
                assert all("*" in v["actor"] for v in body["versions"] if len(v["actor"]) > 1)
        else:
            assert response.status_code == 404, (scope, who)
            assert response.headers["content-type"] == "application/problem+json"


def test_a_history_of_nothing_is_404(service: Service) -> None:
    path = f"/v1/communities/tianhai/disclosures/{uuid.uuid4()}/history"
    assert service.client.get(path).status_code == 404
    assert (
        service.client.get("/v1/communities/tianhai/disclosures/nope/history").status_code == 422
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        (("resident", "xinhe"), 403),
        (("clerk", "xinhe"), 403),
        (("resident", "tianhai"), 200),
        (("committee_member", "tianhai"), 200),
        (("disciplinary_auditor", None), 200),
    ],
    ids=str,
)
def test_the_finances_are_for_the_community_and_the_auditors(
    service: Service, who: tuple[str, str | None] | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {service.tokens[who]}"} if who else {}
    for path in ("finance/entries", "finance/totals?by=quarter"):
        response = service.client.get(f"/v1/communities/tianhai/{path}", headers=headers)
        assert response.status_code == status, (path, response.text)
        if status != 200:
            assert response.headers["content-type"] == "application/problem+json"
    if status == 200:
        totals = service.client.get(
            "/v1/communities/tianhai/finance/totals?by=year", headers=headers
        ).json()["periods"]
        assert totals, "the demo has finances"
        assert all(type(p["balance_fen"]) is int for p in totals)
        entries = service.client.get(
            "/v1/communities/tianhai/finance/entries", headers=headers
        ).json()["entries"]
        assert sum(e["amount_fen"] for e in entries if e["kind"] == "income") == sum(
            p["income_fen"] for p in totals
        )


@pytest.mark.parametrize(
    "query", ["by=week", "as_of=-1"], ids=["a grouping that is not one", "a negative entry"]
)
def test_bad_finance_requests_are_problems(service: Service, query: str) -> None:
    token = service.tokens["disciplinary_auditor", None]
    response = service.client.get(
        f"/v1/communities/tianhai/finance/totals?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    bad_period = service.client.get(
        "/v1/communities/tianhai/finance/entries?from=2026-7",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad_period.status_code == 422


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        (("resident", "tianhai"), 403),
        (("committee_member", "tianhai"), 403),
        (("clerk", "xinhe"), 403),
        (("clerk", "tianhai"), 200),
        (("committee_chair", "tianhai"), 200),
        (("disciplinary_auditor", None), 200),
    ],
    ids=str,
)
def test_the_audit_trail_is_for_the_leadership_and_the_auditors(
    service: Service, who: tuple[str, str | None] | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {service.tokens[who]}"} if who else {}
    response = service.client.get("/v1/communities/tianhai/audit-trail", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"
        return
    acts = response.json()["acts"]
    assert acts, "the demo's reviews are on the record"
    assert [a["seq"] for a in acts] == sorted(a["seq"] for a in acts)
    subject = acts[0]["subject_id"]
    one = service.client.get(
        "/v1/communities/tianhai/audit-trail", params={"subject": subject}, headers=headers
    ).json()["acts"]
    assert one
    assert all(subject in (a["subject_id"], a["related_id"]) for a in one)
    by_role = service.client.get(
        "/v1/communities/tianhai/audit-trail",
        params={"role": acts[0]["actor_role"]},
        headers=headers,
    ).json()["acts"]
    assert {a["actor_role"] for a in by_role} == {acts[0]["actor_role"]}
    bad = service.client.get(
        "/v1/communities/tianhai/audit-trail", params={"subject": "nope"}, headers=headers
    )
    assert bad.status_code == 422
