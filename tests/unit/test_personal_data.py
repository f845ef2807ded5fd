"""The sealed personal field (ledger.domain.personal_data): the known-answer vector, computed
once with the cryptography package directly, and the input checks of recipients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.bundle.format import BundleVerificationError
from ledger.bundle.personal_keys import key_ids_in, parse_personal_keys, personal_keys_json
from ledger.domain import personal_data
from ledger.errors import InvalidInputError

VECTOR: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "personal_field_v1.json").read_text("utf-8")
)
KEY = bytes.fromhex(VECTOR["key_hex"])
WHO = (VECTOR["community"], VECTOR["person_id"], VECTOR["key_id"])
FIELDS = {
    "name": "张三",
    "id_number": "110101199003071234",
    "phone": "13812345678",
    "amount_fen": 80000,
    "note": "因病致贫",
}


def test_the_vector_opens_to_its_plaintext() -> None:
    opened = personal_data.open_sealed(*WHO, KEY, VECTOR["sealed"])
    assert opened == json.loads(VECTOR["plaintext_utf8"])


def test_sealing_with_the_vectors_nonce_gives_its_ciphertext() -> None:
    assert personal_data.aad(*WHO).hex() == VECTOR["aad_hex"]
    assert personal_data.canonical(FIELDS).decode() == VECTOR["plaintext_utf8"]
    nonce = bytes.fromhex(VECTOR["nonce_hex"])
    sealed = personal_data.seal(*WHO, KEY, FIELDS, nonce=nonce)
    assert sealed == VECTOR["sealed"]


def test_a_sealed_field_moved_to_another_person_or_key_does_not_open() -> None:
    community, person, key_id = WHO
    sealed = VECTOR["sealed"]
    assert personal_data.open_sealed(community, "3-201-2", key_id, KEY, sealed) is None
    assert personal_data.open_sealed("other", person, key_id, KEY, sealed) is None
    assert personal_data.open_sealed(community, person, "0" * 32, KEY, sealed) is None
    assert personal_data.open_sealed(community, person, key_id, bytes(32), sealed) is None
    assert personal_data.open_sealed(community, person, key_id, KEY, "not base64!") is None


def test_without_its_key_a_recipient_shows_erased() -> None:
    stored = {"person_id": WHO[1], "key_id": WHO[2], "sealed": VECTOR["sealed"]}
    shown = personal_data.shown(WHO[0], stored, {WHO[2]: KEY})
    assert (shown.name, shown.amount_fen, shown.erased) == ("张三", 80000, False)
    for keys in ({}, {WHO[2]: None}):
        gone = personal_data.shown(WHO[0], stored, keys)
        assert (gone.name, gone.id_number, gone.erased) == (personal_data.ERASED, "", True)
        assert personal_data.ERASED == "[已删除]"


def test_each_key_is_fresh() -> None:
    (a, ka), (b, kb) = personal_data.new_key(), personal_data.new_key()
    assert a != b
    assert ka != kb
    assert len(ka) == 32
    assert len(a) == 32


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        ({"name": "张三"}, "recipients[0].person_id"),
        ({"person_id": "13812345678", "name": "张三"}, "recipients[0].person_id"),
        ({"person_id": "a b", "name": "张三"}, "recipients[0].person_id"),
        ({"person_id": "p1"}, "recipients[0].name"),
        ({"person_id": "p1", "name": "张三", "id_number": "12345"}, "recipients[0].id_number"),
        ({"person_id": "p1", "name": "张三", "phone": "call me"}, "recipients[0].phone"),
        ({"person_id": "p1", "name": "张三", "amount_fen": 1.5}, "recipients[0].amount_fen"),
        ({"person_id": "p1", "name": "张三", "age": 3}, "recipients[0]"),
        ({"person_id": "p1", "name": "张\u202e三"}, "recipients[0].name"),
    ],
)
def test_bad_recipients_are_refused_naming_the_field(
    recipient: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        personal_data.recipients([recipient])
    assert caught.value.field == field


def test_a_person_is_listed_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        personal_data.recipients([{"person_id": "p1", "name": "张三"}] * 2)
    assert caught.value.field == "recipients[1].person_id"


def test_personal_keys_json_round_trips_and_is_checked() -> None:
    data = personal_keys_json("dongfeng", {WHO[2]: KEY, "f" * 32: None})
    assert parse_personal_keys(data, "dongfeng") == {WHO[2]: KEY, "f" * 32: None}
    with pytest.raises(BundleVerificationError, match="names community"):
        parse_personal_keys(data, "xihu")
    document = json.loads(data)
    document["keys"][0]["key"] = "c2hvcnQ="
    with pytest.raises(BundleVerificationError, match="32 bytes"):
        parse_personal_keys(json.dumps(document).encode(), "dongfeng")
    assert key_ids_in([b'{"recipients":[{"key_id":"' + WHO[2].encode() + b'"}]}']) == {WHO[2]}
