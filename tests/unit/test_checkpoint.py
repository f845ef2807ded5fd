"""C2SP checkpoints: the spec's example, exact round trips, signing and cosigning, and
the texts that are not checkpoints."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import FormatError
from ledger.seal.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from ledger.seal.keys import KeyKind, PrivateKey
from ledger.seal.note import (
    CosignatureSigner,
    Ed25519Signer,
    Note,
    NoteVerificationError,
    Signature,
    add_signatures,
    parse_note,
    sign_note,
)

VECTORS_DIR = Path(__file__).parent.parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "signed_note.json").read_text("utf-8"))
SPEC = VECTORS["cosigned_checkpoint"]

ORIGIN = "gongkai.example/tianhai"
ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()
TS = 1_700_000_000
URLSAFE = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()  # has '-' and '_'


def log_key(n: int = 1, name: str = ORIGIN) -> Ed25519Signer:
    return Ed25519Signer(bytes([n]) * 32, name)


def witness(n: int, name: str, ts: int = TS) -> CosignatureSigner:
    return CosignatureSigner(bytes([n]) * 32, name, clock=lambda: ts)


def signed(checkpoint: Checkpoint | None = None) -> Note:
    return sign_checkpoint(checkpoint or Checkpoint(ORIGIN, 7, ROOT), log_key())


# ---------------------------------------------------------------------------------------
# The spec's example


def test_spec_example_checkpoint() -> None:
    note = parse_note((VECTORS_DIR / SPEC["note_file"]).read_bytes())
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == SPEC["origin"] == "example.com/behind-the-sofa"
    assert checkpoint.size == SPEC["size"] == 20852163
    assert checkpoint.root == base64.b64decode(SPEC["root_base64"])
    assert checkpoint.extensions == ()
    assert checkpoint.text() == SPEC["text"] == note.text


def test_spec_example_log_signature_is_matched_by_name_and_id_only() -> None:
    """Without the spec's (unpublished) keys, a key of the same name is not the key."""
    data = (VECTORS_DIR / SPEC["note_file"]).read_bytes()
    impostor = log_key(1, "example.com/behind-the-sofa")
    with pytest.raises(NoteVerificationError, match=r"example\.com/behind-the-sofa\+033de0ae"):
        open_checkpoint(data, [impostor.verifier()])


# ---------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint(ORIGIN, 0, bytes(32)),
        Checkpoint(ORIGIN, 7, ROOT),
        Checkpoint(ORIGIN, 2**64 - 1, ROOT),
        Checkpoint("天海社区 居委会", 12, ROOT, ("ext one", "ext+two", "— 3")),
    ],
    ids=["empty", "seven", "max", "extensions"],
)
def test_checkpoint_text_round_trip(checkpoint: Checkpoint) -> None:
    text = checkpoint.text()
    assert text.endswith("\n")
    assert parse_checkpoint(text) == checkpoint
    assert parse_checkpoint(text).text() == text


def test_text_layout() -> None:
    assert Checkpoint(ORIGIN, 7, ROOT, ("x",)).text() == f"{ORIGIN}\n7\n{ROOT64}\nx\n"


def test_sign_then_open() -> None:
    log = log_key()
    note = signed()
    assert note.signatures[0].name == ORIGIN
    for data in (note, str(note), str(note).encode()):
        result = open_checkpoint(data, [log.verifier()])
        assert isinstance(result, SignedCheckpoint)
        assert result.checkpoint == Checkpoint(ORIGIN, 7, ROOT)
        assert result.note == note
        assert result.log_keys == (log.verifier(),)
        assert result.cosignatures == ()


def test_cosignatures_are_verified_and_their_times_reported() -> None:
    log, w1, w2, w3 = (
        log_key(),
        witness(2, "w1.example", TS),
        witness(3, "w2.example", TS + 5),
        witness(4, "w3.example"),
    )
    note = signed()
    cosigned = add_signatures(note, sign_note(note.text, [w1, w2, w3]).signatures)
    result = open_checkpoint(str(cosigned), [log.verifier()], [w2.verifier(), w1.verifier()])
    assert result.cosignatures == ((w1.verifier(), TS), (w2.verifier(), TS + 5))
    # Cosigners that were not given are ignored, as are cosignatures nobody asked about.
    assert open_checkpoint(cosigned, [log.verifier()]).cosignatures == ()


def test_a_failing_cosignature_rejects_the_checkpoint() -> None:
    log, w1 = log_key(), witness(2, "w1.example")
    note = signed()
    good = sign_note(note.text, [w1]).signatures[0]
    # The cosignature's time relabelled: the signed message no longer matches.
    relabelled = Signature(
        good.name, good.key_id, (TS + 1).to_bytes(8, "big") + good.signature[8:]
    )
    with pytest.raises(NoteVerificationError, match=r"trusted key w1\.example\+[0-9a-f]{8} does"):
        open_checkpoint(add_signatures(note, [relabelled]), [log.verifier()], [w1.verifier()])
    # A cosignature of another checkpoint.
    other = sign_note(Checkpoint(ORIGIN, 8, ROOT).text(), [w1]).signatures[0]
    with pytest.raises(NoteVerificationError, match="does not verify"):
        open_checkpoint(add_signatures(note, [other]), [log.verifier()], [w1.verifier()])


def test_cosignature_alone_does_not_open_a_checkpoint() -> None:
    """Step 1 uses the log keys only: cosignatures cannot stand in for the log."""
    w1 = witness(2, "w1.example")
    note = sign_note(Checkpoint(ORIGIN, 7, ROOT).text(), [w1])
    with pytest.raises(NoteVerificationError, match="none of which is trusted"):
        open_checkpoint(note, [log_key().verifier()], [w1.verifier()])


def test_log_and_cosigner_keys_cannot_swap_roles() -> None:
    log, w1 = log_key(), witness(2, "w1.example")
    note = add_signatures(signed(), sign_note(signed().text, [w1]).signatures)
    with pytest.raises(NoteVerificationError, match=r"type 0x04 key and cannot serve as a log"):
        open_checkpoint(note, [w1.verifier()])
    with pytest.raises(NoteVerificationError, match=r"type 0x01 key and cannot serve as a cos"):
        open_checkpoint(note, [log.verifier()], [log.verifier()])
    # The same seed as both kinds: still two different keys.
    same = PrivateKey("w1.example", KeyKind.LOG, bytes([2]) * 32)
    with pytest.raises(NoteVerificationError, match="none of which is trusted"):
        open_checkpoint(note, [same.verifier()])


def test_tampered_checkpoint_fails() -> None:
    log = log_key()
    data = str(signed())
    for old, new in [("\n7\n", "\n8\n"), (ORIGIN, ORIGIN.upper()), (ROOT64[:5], ROOT64[:4] + "B")]:
        with pytest.raises(NoteVerificationError, match="does not verify"):
            open_checkpoint(data.replace(old, new, 1), [log.verifier()])


def test_expected_origin() -> None:
    log = log_key()
    assert open_checkpoint(signed(), [log.verifier()], origin=ORIGIN).checkpoint.origin == ORIGIN
    with pytest.raises(NoteVerificationError, match=r"expected 'other\.example/log'"):
        open_checkpoint(signed(), [log.verifier()], origin="other.example/log")


def test_signed_note_that_is_not_a_checkpoint() -> None:
    log = log_key()
    with pytest.raises(FormatError, match="at least 3 lines"):
        open_checkpoint(sign_note("hello\n", [log]), [log.verifier()])


# ---------------------------------------------------------------------------------------
# Malformed checkpoints


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param(f"{ORIGIN}\n020852163\n{ROOT64}\n", "leading zeroes", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT64}\n", "leading zeroes", id="00"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT64}\n", "ASCII decimal", id="negative"),
        pytest.param(f"{ORIGIN}\n+1\n{ROOT64}\n", "ASCII decimal", id="plus"),
        pytest.param(f"{ORIGIN}\n 1\n{ROOT64}\n", "ASCII decimal", id="space"),
        pytest.param(f"{ORIGIN}\n1.0\n{ROOT64}\n", "ASCII decimal", id="float"),
        pytest.param(f"{ORIGIN}\n0x10\n{ROOT64}\n", "ASCII decimal", id="hex"),
        pytest.param(f"{ORIGIN}\n1_000\n{ROOT64}\n", "ASCII decimal", id="underscore"),
        pytest.param(f"{ORIGIN}\n７\n{ROOT64}\n", "ASCII decimal", id="fullwidth-digit"),
        pytest.param(f"{ORIGIN}\n٧\n{ROOT64}\n", "ASCII decimal", id="arabic-digit"),
        pytest.param(f"{ORIGIN}\n\n{ROOT64}\n", "ASCII decimal", id="empty-size"),
        pytest.param(f"{ORIGIN}\n{2**64}\n{ROOT64}\n", "larger than", id="too-big"),
        pytest.param(f"{ORIGIN}\n{'9' * 5000}\n{ROOT64}\n", "larger than", id="huge"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64[:-1]}\n", "not valid base64", id="bad-base64"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64.replace('=', '')}\n", "base64", id="unpadded"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64[:-2]}B=\n", "not canonical", id="non-canonical"),
        pytest.param(f"{ORIGIN}\n7\n{URLSAFE}\n", "not valid base64", id="urlsafe"),
        pytest.param(
            f"{ORIGIN}\n7\n{base64.b64encode(bytes(31)).decode()}\n", "31 bytes", id="31"
        ),
        pytest.param(
            f"{ORIGIN}\n7\n{base64.b64encode(bytes(33)).decode()}\n", "33 bytes", id="33"
        ),
        pytest.param(f"{ORIGIN}\n7\n\n", "not valid base64|0 bytes", id="empty-root"),
        pytest.param(f"\n7\n{ROOT64}\n", "origin is empty", id="empty-origin"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64}\n\n", "extension line 4 is empty", id="empty-ext"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64}\na\n\nb\n", "line 5 is empty", id="empty-ext-mid"),
        pytest.param(f"{ORIGIN}\n7\n", "at least 3 lines", id="two-lines"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64}", "must end in a newline", id="no-newline"),
        pytest.param(f"{ORIGIN}\r\n7\n{ROOT64}\n", "U\\+000D", id="crlf"),
        pytest.param(f"{ORIGIN}\n7\n{ROOT64}\n\x00\n", "U\\+0000", id="nul-extension"),
        pytest.param("", "must end in a newline", id="empty"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        parse_checkpoint(text)


def test_malformed_checkpoint_in_a_validly_signed_note_is_refused() -> None:
    log = log_key()
    note = sign_note(f"{ORIGIN}\n007\n{ROOT64}\n", [log])
    with pytest.raises(FormatError, match="leading zeroes"):
        open_checkpoint(note, [log.verifier()])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((ORIGIN, -1, ROOT), "between 0 and 2\\^64-1"),
        ((ORIGIN, 2**64, ROOT), "between 0 and 2\\^64-1"),
        ((ORIGIN, True, ROOT), "between 0 and 2\\^64-1"),
        ((ORIGIN, 1, ROOT[:31]), "32 bytes, not 31"),
        (("", 1, ROOT), "origin is empty"),
        (("a\nb", 1, ROOT), "origin contains a newline"),
        (("\ud800", 1, ROOT), "not valid UTF-8"),
        ((ORIGIN, 1, ROOT, ("",)), "extension line is empty"),
        ((ORIGIN, 1, ROOT, ("a\nb",)), "extension line contains a newline"),
    ],
)
def test_checkpoint_fields_are_checked(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(FormatError, match=match):
        Checkpoint(*args)


@given(st.text(max_size=200))
def test_parse_checkpoint_raises_only_format_error(text: str) -> None:
    try:
        checkpoint = parse_checkpoint(text)
    except FormatError:
        return
    assert checkpoint.text() == text


@given(st.integers(min_value=0, max_value=2**64 - 1), st.binary(min_size=32, max_size=32))
def test_any_size_and_root_round_trip(size: int, root: bytes) -> None:
    checkpoint = Checkpoint(ORIGIN, size, root)
    assert parse_checkpoint(checkpoint.text()) == checkpoint
