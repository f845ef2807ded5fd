"""The attachment routes: a clerk's upload streamed into the store and refused whole when
too big, of another type, or not the bytes its hash says; the ledger refusing a command
naming a file it does not hold; and each file served only to readers who may see an
item naming it, to anyone else not existing."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.demo.files import one_page_pdf
from api.routes.attachments import WRITEBACK_EVERY, receive
from api.service.app import create_app
from api.service.settings import Settings
from ledger.attachments import AttachmentTooLargeError, FileAttachmentStore, Upload
from ledger.domain.vocabulary import Role
from tests.accounts_support import GOOD_PASSWORD
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.api.test_command_routes import OPEN_PERIOD
from tests.contract.test_ledger_contract import DRAFT

PROBLEM = "application/problem+json"
T = "/v1/communities/tianhai"
LIMIT = 64 * 1024  # the service's size limit in these tests
PDF = one_page_pdf(["Notice of the residents' meeting"])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
CLERK = (Role.CLERK, "tianhai")
RESIDENT = (Role.RESIDENT, "tianhai")
MEMBER = (Role.COMMITTEE_MEMBER, "tianhai")
AUDITOR = (Role.DISCIPLINARY_AUDITOR, None)
OUTSIDER = (Role.RESIDENT, "xinhe")
XINHE_CLERK = (Role.CLERK, "xinhe")


@dataclass
class Service:
    url: str
    client: TestClient
    tokens: dict[tuple[Role, str | None], str]
    files: Path

    def headers(self, who: tuple[Role, str | None] | None, **more: str) -> dict[str, str]:
        if who is not None:
            more["Authorization"] = f"Bearer {self.tokens[who]}"
        return more

    def upload(
        self, data: Any, who: tuple[Role, str | None] | None = CLERK, query: str = ""
    ) -> Any:
        return self.client.post(f"{T}/attachments{query}", content=data, headers=self.headers(who))

    def fetch(self, digest: str, who: tuple[Role, str | None] | None) -> Any:
        return self.client.get(f"{T}/attachments/{digest}", headers=self.headers(who))

    def stored(self) -> list[str]:
        """Every file in the store's directory, temporary ones too."""
        return sorted(p.name for p in self.files.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("attachments")
    url = demo_store(directory)
    catch_up(url)
    tokens = reader_tokens(url, [CLERK, RESIDENT, MEMBER, AUDITOR, OUTSIDER, XINHE_CLERK])
    files = directory / "files"
    settings = Settings(
        db_url=url, checkpoint_interval=0, attachments_dir=files, attachment_max_bytes=LIMIT
    )
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Service(url, client, tokens, files)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


# --- uploads ----------------------------------------------------------------------------------


def test_a_clerk_uploads_a_pdf_and_gets_its_hash(service: Service) -> None:
    response = service.upload(PDF)
    assert response.status_code == 201, response.text
    digest = hashlib.sha256(PDF).hexdigest()
    assert response.json() == {"sha256": digest, "size": len(PDF), "media_type": "application/pdf"}
    assert (service.files / digest[:2] / digest).read_bytes() == PDF
    # The same bytes again are the same file.
    assert service.upload(PDF).json()["sha256"] == digest
    assert service.stored().count(digest) == 1


def test_the_type_is_judged_by_the_content_not_the_header(service: Service) -> None:
    response = service.client.post(
        f"{T}/attachments",
        content=PNG,
        headers=service.headers(CLERK, **{"Content-Type": "application/pdf"}),
    )
    assert response.json()["media_type"] == "image/png"


def test_a_file_of_another_type_is_refused_with_415(service: Service) -> None:
    before = service.stored()
    for data in (b"<html><script>alert(1)</script></html>", b"PK\x03\x04 a zip", b"MZ\x90\x00"):
        body = problem_of(service.upload(data), 415)
        assert "PDF, JPEG, PNG, WebP" in body["detail"]
    assert service.stored() == before


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_kept(service: Service) -> None:
    before = service.stored()
    # Declared too big: refused before the body is read.
    problem_of(service.upload(b"%PDF-" + b"0" * LIMIT), 413)

    # Sent in chunks with no length: stopped as it passes the limit.
    def chunks() -> Iterator[bytes]:
        yield b"%PDF-1.4\n"
        for _ in range(LIMIT // 4096 + 2):
            yield b"0" * 4096

    body = problem_of(service.upload(chunks()), 413)
    assert f"{LIMIT:,}" in body["detail"]
    assert service.stored() == before


def test_an_upload_at_the_limit_is_kept(service: Service) -> None:
    data = b"%PDF-1.4\n" + b"0" * (LIMIT - 9)
    assert service.upload(data).status_code == 201


def test_a_mismatched_hash_is_refused_and_nothing_kept(service: Service) -> None:
    before = service.stored()
    wrong = hashlib.sha256(b"another file").hexdigest()
    body = problem_of(service.upload(PDF + b"%", query=f"?sha256={wrong}"), 422)
    assert body["field"] == "sha256"
    assert service.stored() == before
    right = hashlib.sha256(PDF + b"%%").hexdigest()
    assert service.upload(PDF + b"%%", query=f"?sha256={right}").status_code == 201


def test_an_empty_upload_is_refused(service: Service) -> None:
    problem_of(service.upload(b""), 422)


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), (RESIDENT, 403), (MEMBER, 403), (AUDITOR, 403), (XINHE_CLERK, 403)],
)
def test_only_the_communitys_clerk_uploads(
    service: Service, who: tuple[Role, str | None] | None, status: int
) -> None:
    before = service.stored()
    problem_of(service.upload(PDF + b"x", who), status)
    assert service.stored() == before


def test_a_browser_session_uploads_only_with_its_csrf_token(service: Service) -> None:
    client = service.client
    signed_in = client.post(
        "/v1/login", json={"username": "clerk.tianhai", "password": GOOD_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    csrf = signed_in.json()["csrf_token"]
    try:
        before = service.stored()
        refused = client.post(f"{T}/attachments", content=PDF + b"csrf")
        assert refused.status_code == 403, refused.text
        assert service.stored() == before
        allowed = client.post(
            f"{T}/attachments", content=PDF + b"csrf", headers={"X-CSRF-Token": csrf}
        )
        assert allowed.status_code == 201, allowed.text
    finally:
        client.cookies.clear()


# --- the ledger holds files before naming them ---------------------------------------------


def draft(service: Service, attachments: list[str], scope: str = "public") -> Any:
    return service.client.post(
        f"{T}/disclosures",
        json={**DRAFT, "scope": scope, "attachments": attachments},
        headers=service.headers(CLERK, **{"Idempotency-Key": str(uuid.uuid4())}),
    )


def test_a_draft_naming_a_file_not_uploaded_is_refused(service: Service) -> None:
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    body = problem_of(draft(service, [unknown]), 422)
    assert body["field"] == "attachments"
    assert unknown in body["detail"]


def record_entry(service: Service, voucher: str) -> Any:
    """The clerk's expense entry with ``voucher``."""
    return service.client.post(
        f"{T}/finance/entries",
        json={
            "kind": "expense",
            "amount_fen": 3_500,
            "account": "office",
            "counterparty": "文具店",
            "voucher_sha256": voucher,
            "period": OPEN_PERIOD,
        },
        headers=service.headers(CLERK, **{"Idempotency-Key": str(uuid.uuid4())}),
    )


def test_an_entry_naming_a_voucher_not_uploaded_is_refused(service: Service) -> None:
    response = record_entry(service, hashlib.sha256(b"no such scan").hexdigest())
    assert problem_of(response, 422)["field"] == "voucher_sha256"


# --- who is served a file -------------------------------------------------------------------


def uploaded(service: Service, text: str) -> str:
    response = service.upload(one_page_pdf([text]))
    assert response.status_code == 201, response.text
    digest: str = response.json()["sha256"]
    return digest


def test_a_public_items_file_is_served_to_everyone(service: Service) -> None:
    digest = uploaded(service, "public notice")
    assert draft(service, [digest]).status_code == 201
    catch_up(service.url)
    for who in (None, RESIDENT, OUTSIDER, AUDITOR):
        response = service.fetch(digest, who)
        assert response.status_code == 200, (who, response.text)
        assert response.content == one_page_pdf(["public notice"])
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == f'attachment; filename="{digest}.pdf"'
        assert response.headers["x-content-type-options"] == "nosniff"


def test_an_internal_items_file_does_not_exist_outside_the_community(service: Service) -> None:
    digest = uploaded(service, "internal budget table")
    assert draft(service, [digest], scope="internal").status_code == 201
    catch_up(service.url)
    for who in (RESIDENT, MEMBER, AUDITOR):
        assert service.fetch(digest, who).status_code == 200, who
    for who in (None, OUTSIDER, XINHE_CLERK):
        problem_of(service.fetch(digest, who), 404)


def test_a_voucher_is_internal_like_the_finances(service: Service) -> None:
    digest = uploaded(service, "voucher: office paper")
    response = record_entry(service, digest)
    assert response.status_code == 201, response.text
    catch_up(service.url)
    assert service.fetch(digest, RESIDENT).status_code == 200
    assert service.fetch(digest, AUDITOR).status_code == 200
    problem_of(service.fetch(digest, None), 404)
    problem_of(service.fetch(digest, OUTSIDER), 404)


def test_a_file_no_item_names_is_served_to_no_one(service: Service) -> None:
    """Uploaded but never named: even the clerk who uploaded it is not served it."""
    digest = uploaded(service, "a draft never recorded")
    for who in (None, CLERK, AUDITOR):
        problem_of(service.fetch(digest, who), 404)


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fgongkai.sqlite3",
        "..%2Fkeys%2Ftianhai.log.key",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "A" * 64,
        "0" * 63,
        "0" * 65,
    ],
)
def test_a_name_that_is_no_hash_is_not_found(service: Service, name: str) -> None:
    response = service.client.get(f"{T}/attachments/{name}", headers=service.headers(AUDITOR))
    assert response.status_code == 404, response.text
    assert b"PRIVATE" not in response.content
    assert b"SQLite" not in response.content


# --- the receiving of a large body ------------------------------------------------------------


async def _chunks(data: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_large_body_is_written_whole_its_writeback_started_as_it_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every megabyte the kernel is asked to start writing the file out; the file kept
    is exactly the bytes sent."""
    data = b"%PDF-1.7\n" + os.urandom(5 * WRITEBACK_EVERY + 12_345)
    store = FileAttachmentStore(tmp_path, max_bytes=len(data))
    started = []
    real = Upload.start_writeback
    monkeypatch.setattr(Upload, "start_writeback", lambda self: started.append(real(self)))
    with store.upload() as upload:
        asyncio.run(receive(_chunks(data), upload))
        stored = upload.finish(hashlib.sha256(data).hexdigest())
    assert store.path_of(stored.sha256).read_bytes() == data
    assert len(started) == 5


def test_a_large_body_past_the_limit_stops_and_leaves_nothing(tmp_path: Path) -> None:
    data = b"%PDF-1.7\n" + b"0" * (4 * WRITEBACK_EVERY)
    store = FileAttachmentStore(tmp_path, max_bytes=2 * WRITEBACK_EVERY + 5)
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        async for chunk in _chunks(data):
            read += len(chunk)
            yield chunk

    with pytest.raises(AttachmentTooLargeError), store.upload() as upload:
        asyncio.run(receive(counted(), upload))
    assert list(tmp_path.rglob("*")) == []
    assert read < len(data), "the rest of the body was not read"
