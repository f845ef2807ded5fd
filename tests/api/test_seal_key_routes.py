"""The seal key routes: the chair registers a committee member's key (recorded in the
chain and accepted as a cosigner of the checkpoints), anyone reads the keys in force,
and a review by that member is recorded only with a seal the key made over the version
under review."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from ledger.seal.keys import KeyKind, generate_key
from ledger.seal.review_seal import SealedReview, sign_review
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.contract.test_ledger_contract import DRAFT

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
CHAIR = ("committee_chair", "tianhai")
MEMBER = ("committee_member", "tianhai")
CLERK = ("clerk", "tianhai")
RESIDENT = ("resident", "tianhai")
KEY = generate_key("committee.gongkai.example/tianhai/member", KeyKind.COSIGNER)
OTHER = generate_key("committee.gongkai.example/tianhai/other", KeyKind.COSIGNER)


@dataclass
class Service:
    url: str
    client: TestClient
    tokens: dict[tuple[str, str | None], str]

    def post(self, path: str, body: dict[str, Any], who: tuple[str, str | None]) -> Any:
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        return self.client.post(T + path, json=body, headers=headers)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = demo_store(tmp_path_factory.mktemp("seal-keys"), second_community=False)
    tokens = reader_tokens(url, [CHAIR, MEMBER, CLERK, RESIDENT])
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield Service(url, client, tokens)


def member_name() -> str:
    return "committee_member.tianhai"


def test_the_chair_registers_a_members_key(service: Service) -> None:
    response = service.post("/seal-keys", {"member": member_name(), "vkey": KEY.vkey}, CHAIR)
    assert response.status_code == 201, response.text
    assert response.json()["result"]["key"] == "+".join(KEY.vkey.split("+")[:2])
    catch_up(service.url)
    keys = service.client.get(f"{T}/seal-keys").json()  # public, like the log's keys
    assert keys["in_force"] == {member_name(): KEY.vkey}
    cosigners = service.client.get(f"{T}/keys").json()["cosigners"]
    assert KEY.vkey in [c["vkey"] for c in cosigners], "it seals checkpoints too"
    # The same key again is refused; nothing is recorded twice.
    again = service.post("/seal-keys", {"member": member_name(), "vkey": KEY.vkey}, CHAIR)
    assert again.status_code == 409, again.text


@pytest.mark.parametrize(
    ("body", "who", "status", "field"),
    [
        ({"member": "resident.tianhai", "vkey": OTHER.vkey}, CHAIR, 422, "member"),
        ({"member": "nobody", "vkey": OTHER.vkey}, CHAIR, 422, "member"),
        ({"member": "committee_member.tianhai", "vkey": "not a key"}, CHAIR, 422, "vkey"),
        ({"member": "committee_member.tianhai", "vkey": OTHER.vkey}, MEMBER, 403, None),
        ({"member": "committee_member.tianhai", "vkey": OTHER.vkey}, CLERK, 403, None),
        ({"member": "nobody", "vkey": OTHER.vkey}, RESIDENT, 403, None),
    ],
)
def test_a_registration_is_refused(
    service: Service, body: dict[str, str], who: tuple[str, str], status: int, field: str | None
) -> None:
    response = service.post("/seal-keys", body, who)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json().get("field") == field


def submitted(service: Service) -> str:
    drafted = service.post("/disclosures", DRAFT, CLERK)
    assert drafted.status_code == 201, drafted.text
    d: str = drafted.json()["result"]["id"]
    assert service.post(f"/disclosures/{d}/submission", {}, CLERK).status_code == 201
    return d


def seal(d: str, key: Any, **change: Any) -> dict[str, str]:
    review = SealedReview(
        community_id="tianhai", disclosure_id=UUID(d), version=1, stage="committee",
        outcome="approved", category=DRAFT["category"], scope=DRAFT["scope"],
        title=DRAFT["title"], body=DRAFT["body"], attachments=(),
    )  # fmt: skip
    ref, signature = sign_review(key, replace(review, **change))
    return {"seal_key": ref, "seal_signature": signature}


REVIEW = {"stage": "committee", "outcome": "approved", "opinion": "同意公开"}


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        (lambda d: {}, "must carry the seal"),
        (lambda d: seal(d, OTHER), "not the key registered"),
        (lambda d: seal(d, KEY, version=2), "not the member's signature"),
        (lambda d: seal(d, KEY, attachments=("ab" * 32,)), "not the member's signature"),
        (lambda d: seal(d, KEY, outcome="rejected"), "not the member's signature"),
    ],
    ids=["unsealed", "another key", "another version", "other files", "other outcome"],
)
def test_a_review_without_its_members_seal_is_refused(
    service: Service, make: Any, detail: str
) -> None:
    d = submitted(service)
    response = service.post(f"/disclosures/{d}/reviews", {**REVIEW, **make(d)}, MEMBER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert detail in response.json()["detail"]


def test_a_sealed_review_is_recorded_and_shown(service: Service) -> None:
    d = submitted(service)
    response = service.post(f"/disclosures/{d}/reviews", {**REVIEW, **seal(d, KEY)}, MEMBER)
    assert response.status_code == 201, response.text
    catch_up(service.url)
    acts = service.client.get(
        f"{T}/audit-trail",
        params={"subject": d},
        headers={"Authorization": f"Bearer {service.tokens[CHAIR]}"},
    ).json()["acts"]
    reviewed = [a for a in acts if a["act"] == "reviewed"]
    assert reviewed[0]["seal_key"] == "+".join(KEY.vkey.split("+")[:2])
    assert len(reviewed[0]["seal_signature"]) == 88
