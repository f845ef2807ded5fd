"""The review seal's statement and its check, against the known-answer vectors in
tests/vectors/review_seal_v1.json (built by hand from the layout, not by this code),
and each way a seal can be wrong."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger.errors import FormatError
from ledger.seal.keys import KeyKind, PrivateKey, generate_key
from ledger.seal.review_seal import (
    ReviewSealError,
    SealedReview,
    key_ref,
    seal_key_verifier,
    sign_review,
    verify_seal,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "review_seal_v1.json").read_text()
)
KEY = PrivateKey(
    VECTORS["key"]["name"], KeyKind.COSIGNER, bytes.fromhex(VECTORS["key"]["seed_hex"])
)
REGISTERED = seal_key_verifier(VECTORS["key"]["vkey"])


def review_of(case: dict[str, Any]) -> SealedReview:
    return SealedReview(
        community_id=case["community"],
        disclosure_id=UUID(case["disclosure"]),
        version=case["version"],
        stage=case["stage"],
        outcome=case["outcome"],
        category=case["category"],
        scope=case["scope"],
        title=case["title"],
        body=case["body"],
        attachments=case["attachments"],
    )


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["disclosure"][:8])
def test_the_known_answers(case: dict[str, Any]) -> None:
    review = review_of(case)
    assert review.content_encoding().hex() == case["content_encoding_hex"]
    assert review.statement() == case["statement"].encode()
    assert f"content {case['content_sha256']}\n" in case["statement"]
    ref, signature = sign_review(KEY, review)
    assert (ref, signature) == (VECTORS["key"]["key_ref"], case["signature"])
    verify_seal(review, REGISTERED, ref, signature)


def test_the_key_is_the_vectors_key() -> None:
    assert KEY.vkey == VECTORS["key"]["vkey"]
    assert key_ref(REGISTERED) == VECTORS["key"]["key_ref"]


CASE = VECTORS["cases"][0]
CASE_REF = VECTORS["key"]["key_ref"]
REVIEW = review_of(CASE)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 3},  # another version
        {"attachments": CASE["attachments"][:1]},  # an attachment left out
        {"attachments": list(reversed(CASE["attachments"]))},  # in another order
        {"attachments": [*CASE["attachments"][:1], "00" * 32]},  # other attachment bytes
        {"body": CASE["body"] + " "},
        {"title": CASE["title"].replace("公示", "公告")},
        {"scope": "internal"},
        {"category": "policies"},
        {"outcome": "rejected"},
        {"stage": "party_branch"},
        {"community_id": "xinhe"},
        {"disclosure_id": UUID(int=1)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_seal_over_anything_else_fails(change: dict[str, Any]) -> None:
    with pytest.raises(ReviewSealError, match="not the member's signature"):
        verify_seal(replace(REVIEW, **change), REGISTERED, CASE_REF, CASE["signature"])


def test_a_seal_by_another_key_fails_at_the_key() -> None:
    other = generate_key(VECTORS["key"]["name"], KeyKind.COSIGNER)  # same name, other key
    ref, signature = sign_review(other, REVIEW)
    with pytest.raises(ReviewSealError, match="not the key registered"):
        verify_seal(REVIEW, REGISTERED, ref, signature)
    # Naming the registered key does not help: the signature is still the other key's.
    with pytest.raises(ReviewSealError, match="not the member's signature"):
        verify_seal(REVIEW, REGISTERED, CASE_REF, signature)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"\x00" * 63).decode(), "63 bytes"),
        (base64.b64encode(b"\x00" * 64).decode(), "not the member's signature"),
        ("", "0 bytes"),
    ],
)
def test_a_malformed_signature_fails(signature: str, message: str) -> None:
    with pytest.raises(ReviewSealError, match=message):
        verify_seal(REVIEW, REGISTERED, CASE_REF, signature)


def test_a_cosignature_of_the_same_text_is_no_seal() -> None:
    """The same key's cosignature/v1 signs another message: it does not pass as a seal."""
    timestamped = KEY.signer().sign(REVIEW.statement())
    with pytest.raises(ReviewSealError):
        verify_seal(REVIEW, REGISTERED, CASE_REF, base64.b64encode(timestamped[8:]).decode())


def test_only_a_cosigner_key_seals() -> None:
    log_key = generate_key("gongkai.example/tianhai", KeyKind.LOG)
    with pytest.raises(FormatError, match="type 0x04"):
        seal_key_verifier(log_key.vkey)
    with pytest.raises(FormatError):
        sign_review(log_key, REVIEW)
