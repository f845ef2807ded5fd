"""C2SP signed notes: known answers from the spec and the Go note package, round trips,
and the ways a note must be refused."""

from __future__ import annotations

import base64
import json
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import FormatError, GongkaiError, VerificationError
from ledger.seal.note import (
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    NoteSigner,
    NoteVerificationError,
    NoteVerifier,
    Signature,
    VerifiedNote,
    add_signatures,
    check_key_name,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

VECTORS_DIR = Path(__file__).parent.parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "signed_note.json").read_text("utf-8"))

TEXT = "gongkai.example/tianhai\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
TS = 1_700_000_000


def vector_bytes(name: str) -> bytes:
    return (VECTORS_DIR / name).read_bytes()


def seed(n: int) -> bytes:
    return bytes([n]) * 32


def log_signer(n: int = 1, name: str = "log.example/tianhai") -> Ed25519Signer:
    return Ed25519Signer(seed(n), name)


def cosigner(n: int = 2, name: str = "witness.example/w1", ts: float = TS) -> CosignatureSigner:
    return CosignatureSigner(seed(n), name, clock=lambda: ts)


def flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :]


# ---------------------------------------------------------------------------------------
# Known answers


def test_spec_example_vkey_verifies_the_spec_example_note() -> None:
    case = VECTORS["signed_note_example"]
    verifier = parse_vkey(case["vkey"])
    assert isinstance(verifier, Ed25519Verifier)
    assert verifier.name == case["name"]
    assert verifier.sig_type == SIG_ED25519
    data = vector_bytes(case["note_file"])
    opened = open_note(data, [verifier])
    assert opened.text == case["text"]
    assert [(v, s.name, s.key_id.hex()) for v, s in opened.verified] == [
        (verifier, case["name"], case["key_id"])
    ]
    assert opened.unknown == ()
    assert str(opened.note).encode() == data


def test_spec_example_key_id_recomputed_from_name_and_key() -> None:
    case = VECTORS["signed_note_example"]
    raw = base64.b64decode(case["vkey"].split("+", 2)[2])
    assert key_id(case["name"], raw[0], raw[1:]).hex() == case["key_id"] == "530d903a"
    assert parse_vkey(case["vkey"]).key_id.hex() == "530d903a"
    assert parse_vkey(case["vkey"]).vkey == case["vkey"]


def test_spec_example_note_fails_when_its_text_changes() -> None:
    case = VECTORS["signed_note_example"]
    data = vector_bytes(case["note_file"]).replace(b"example message", b"example massage")
    with pytest.raises(NoteVerificationError, match=r"example\.com/foo\+530d903a does not verify"):
        open_note(data, [parse_vkey(case["vkey"])])


@pytest.mark.parametrize(
    "case", ["signed_note_example", "signed_note_intro", "cosigned_checkpoint"]
)
def test_spec_notes_parse_and_serialize_back_exactly(case: str) -> None:
    vector = VECTORS[case]
    data = vector_bytes(vector["note_file"])
    note = parse_note(data)
    assert note.text == vector["text"]
    assert str(note).encode() == data
    assert parse_note(data.decode()) == note
    for sig, want in zip(note.signatures, vector.get("signatures", []), strict=True):
        assert sig.name == want["name"]
        assert sig.key_id.hex() == want["key_id_from_signature_line"]
        assert len(sig.signature) == want["signature_size"]


def test_note_text_is_split_at_the_last_blank_line() -> None:
    """The intro example's text has a blank line of its own."""
    note = parse_note(vector_bytes(VECTORS["signed_note_intro"]["note_file"]))
    assert note.text.endswith(":\n\ned è subito sera.\n")
    assert len(note.signatures) == 1


def test_go_note_package_vectors() -> None:
    """golang.org/x/mod/sumdb/note's TestSign and TestOpen, byte for byte."""
    go = VECTORS["go_note"]
    peter, enoch = parse_vkey(go["vkey"]), parse_vkey(go["other_vkey"])
    raw = base64.b64decode(go["private_key"].split("+", 4)[4])
    signer = Ed25519Signer(raw[1:], "PeterNeumann")
    assert signer.key_id == peter.key_id
    assert str(sign_note(go["text"], [signer])) == go["signed_by_private_key"]

    data = vector_bytes(go["note_file"])
    only_peter = open_note(data, [peter])
    assert [v for v, _ in only_peter.verified] == [peter]
    assert [s.key for s in only_peter.unknown] == ["EnochRoot+af0cfe78"]
    both = open_note(data, [enoch, peter])
    assert [v for v, _ in both.verified] == [peter, enoch]
    assert both.unknown == ()


@pytest.mark.parametrize("bad", VECTORS["go_note"]["bad_vkeys"], ids=lambda b: b["why"])
def test_go_note_package_bad_vkeys(bad: dict[str, str]) -> None:
    with pytest.raises(FormatError):
        parse_vkey(bad["vkey"])


def test_every_mangled_vkey_is_refused() -> None:
    """As the Go package's TestNewVerifier: every proper substring and every one-byte
    change of a valid vkey is refused, with a FormatError and nothing else."""
    vkey = VECTORS["go_note"]["vkey"]
    for i in range(len(vkey) + 1):
        for j in range(i + 1, len(vkey) + 1):
            if (i, j) != (0, len(vkey)):
                with pytest.raises(FormatError):
                    parse_vkey(vkey[i:j])
    for i in range(len(vkey)):
        with pytest.raises(FormatError):
            parse_vkey(vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :])


# ---------------------------------------------------------------------------------------
# Cosignatures (type 0x04)


def test_cosignature_message_is_the_spec_layout_byte_for_byte() -> None:
    case = VECTORS["cosigned_checkpoint"]
    want = vector_bytes(case["cosignature_message_file"])
    assert cosignature_message(case["text"].encode(), case["cosignature_timestamp"]) == want
    assert want == b"cosignature/v1\ntime 1679315147\n" + case["text"].encode()


def test_spec_cosignature_carries_the_timestamp_of_the_spec_message() -> None:
    """The example witness cosignature and the example signed message agree on the time."""
    case = VECTORS["cosigned_checkpoint"]
    note = parse_note(vector_bytes(case["note_file"]))
    witness = note.signatures[1]
    assert witness.name == "witness.example.com/w1"
    assert cosignature_timestamp(witness.signature) == case["cosignature_timestamp"]


def test_cosignature_round_trip_signs_the_exact_spec_message() -> None:
    case = VECTORS["cosigned_checkpoint"]
    signer = CosignatureSigner(seed(7), "witness.example.com/w1", clock=lambda: 1679315147.9)
    sig = signer.sign(case["text"].encode())
    assert len(sig) == 72
    assert sig[:8] == (1679315147).to_bytes(8, "big")
    # Checked with the primitive directly, over the spec's message file, not our own code.
    public = Ed25519PublicKey.from_public_bytes(signer.public_key)
    public.verify(sig[8:], vector_bytes(case["cosignature_message_file"]))
    verifier = signer.verifier()
    assert isinstance(verifier, CosignatureVerifier)
    assert verifier.sig_type == SIG_COSIGNATURE_V1
    assert verifier.verify(case["text"].encode(), sig)
    assert verifier.timestamp_of(sig) == 1679315147
    assert parse_vkey(verifier.vkey) == verifier


def test_cosignature_with_another_timestamp_in_its_message_fails() -> None:
    signer = cosigner()
    sig = signer.sign(TEXT.encode())
    verifier = signer.verifier()
    for ts in (TS - 1, TS + 1, 0):
        assert not verifier.verify(TEXT.encode(), ts.to_bytes(8, "big") + sig[8:])
    # A signature over a message with another time, relabelled with this one.
    raw = Ed25519PrivateKey.from_private_bytes(seed(2))
    other = raw.sign(cosignature_message(TEXT.encode(), TS + 1))
    forged = TS.to_bytes(8, "big") + other
    assert not verifier.verify(TEXT.encode(), forged)
    note = Note(TEXT, (Signature(signer.name, signer.key_id, forged),))
    with pytest.raises(NoteVerificationError, match=r"witness\.example/w1\+[0-9a-f]{8} does not"):
        open_note(note, [verifier])


def test_cosignature_timestamp_beyond_2_63_is_refused() -> None:
    raw = Ed25519PrivateKey.from_private_bytes(seed(2))
    ts = 2**63
    message = b"cosignature/v1\ntime %d\n" % ts + TEXT.encode()
    sig = ts.to_bytes(8, "big") + raw.sign(message)
    verifier = cosigner().verifier()
    assert not verifier.verify(TEXT.encode(), sig)
    with pytest.raises(FormatError, match="exceeds 2"):
        verifier.timestamp_of(sig)
    with pytest.raises(FormatError, match="outside"):
        cosignature_message(TEXT.encode(), ts)
    with pytest.raises(FormatError, match="outside"):
        cosigner(ts=2.0**63).sign(TEXT.encode())
    with pytest.raises(FormatError, match="outside"):
        cosigner(ts=-1).sign(TEXT.encode())
    with pytest.raises(FormatError, match="not a time"):
        cosigner(ts=float("nan")).sign(TEXT.encode())
    with pytest.raises(FormatError, match="not a time"):
        cosigner(ts=float("inf")).sign(TEXT.encode())
    with pytest.raises(FormatError, match="72 bytes"):
        cosignature_timestamp(sig[:-1])


def test_log_key_and_cosigner_key_do_not_stand_in_for_each_other() -> None:
    """Same seed, same name: the type is part of the key ID and of what is signed."""
    log, cos = log_signer(3, "k.example/x"), cosigner(3, "k.example/x")
    assert log.public_key == cos.public_key
    assert log.key_id != cos.key_id
    plain = log.sign(TEXT.encode())
    timestamped = cos.sign(TEXT.encode())
    # A 0x01 verifier does not accept a cosignature, nor a 0x04 verifier a plain signature,
    # even when asked directly.
    assert not log.verifier().verify(TEXT.encode(), timestamped)
    assert not log.verifier().verify(TEXT.encode(), timestamped[8:])
    assert not cos.verifier().verify(TEXT.encode(), plain)
    assert not cos.verifier().verify(TEXT.encode(), TS.to_bytes(8, "big") + plain)
    # In a note, the other type's key is simply not the key that signed.
    cosigned = sign_note(TEXT, [cos])
    with pytest.raises(NoteVerificationError, match="none of which is trusted"):
        open_note(cosigned, [log.verifier()])
    signed = sign_note(TEXT, [log])
    with pytest.raises(NoteVerificationError, match="none of which is trusted"):
        open_note(signed, [cos.verifier()])


# ---------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("kind", ["log", "cosigner"])
def test_sign_then_open(kind: str) -> None:
    signer: Ed25519Signer | CosignatureSigner = log_signer() if kind == "log" else cosigner()
    note = sign_note(TEXT, [signer])
    assert note.text == TEXT
    for data in (note, str(note), str(note).encode()):
        opened = open_note(data, [signer.verifier()])
        assert isinstance(opened, VerifiedNote)
        assert opened.note == note
        assert opened.verified == ((signer.verifier(), note.signatures[0]),)


def test_several_signers_and_added_cosignatures() -> None:
    log, w1, w2 = log_signer(), cosigner(2, "w1.example"), cosigner(3, "w2.example")
    note = sign_note(TEXT, [log])
    cosigned = add_signatures(note, sign_note(TEXT, [w1, w2]).signatures)
    assert str(cosigned).startswith(str(note))
    assert add_signatures(cosigned, cosigned.signatures) == cosigned
    opened = open_note(str(cosigned), [w2.verifier(), log.verifier()])
    assert [v.name for v, _ in opened.verified] == ["log.example/tianhai", "w2.example"]
    assert [s.name for s in opened.unknown] == ["w1.example"]


def test_vkey_round_trip_including_a_plus_in_the_base64() -> None:
    for n in range(256):
        for signer in (log_signer(n, "a.example/k"), cosigner(n, "a.example/k")):
            verifier = signer.verifier()
            assert parse_vkey(verifier.vkey) == verifier
            assert type(parse_vkey(verifier.vkey)) is type(verifier)
        if "+" in verifier.vkey.split("+", 2)[2]:
            break
    else:
        pytest.fail("no seed gave a key with '+' in its base64")


def test_chinese_key_names_are_fine() -> None:
    signer = cosigner(4, "天海社区.example/居委会")
    opened = open_note(str(sign_note(TEXT, [signer])).encode("utf-8"), [signer.verifier()])
    assert opened.verified[0][1].name == "天海社区.example/居委会"


def test_signers_do_not_show_their_seed() -> None:
    signer = log_signer(9)
    text = repr(signer) + repr(cosigner(9))
    assert seed(9).hex() not in text
    assert base64.b64encode(seed(9)).decode()[:20] not in text
    assert "log.example/tianhai+" in repr(signer)


def test_the_classes_satisfy_the_protocols() -> None:
    verifiers: list[NoteVerifier] = [log_signer().verifier(), cosigner().verifier()]
    signers: list[NoteSigner] = [log_signer(), cosigner()]
    assert [v.key_id for v in verifiers] == [s.key_id for s in signers]


# ---------------------------------------------------------------------------------------
# Verification failures


def test_flipped_byte_in_the_text_fails() -> None:
    signer = log_signer()
    data = str(sign_note(TEXT, [signer])).encode()
    for i in (0, 5, len(TEXT) - 2):
        with pytest.raises(NoteVerificationError, match="does not verify") as exc:
            open_note(flip(data, i), [signer.verifier()])
        assert exc.value.key_name == signer.name
        assert exc.value.key_id == signer.key_id


@pytest.mark.parametrize("kind", ["log", "cosigner"])
def test_flipped_byte_in_the_signature_fails(kind: str) -> None:
    signer: Ed25519Signer | CosignatureSigner = log_signer() if kind == "log" else cosigner()
    note = sign_note(TEXT, [signer])
    sig = note.signatures[0]
    for i in range(0, len(sig.signature), 7):
        bad = Note(TEXT, (Signature(sig.name, sig.key_id, flip(sig.signature, i)),))
        with pytest.raises(NoteVerificationError, match=rf"{signer.name}\+[0-9a-f]{{8}} does not"):
            open_note(str(bad), [signer.verifier()])


def test_signature_from_an_unknown_key_is_ignored() -> None:
    log, stranger = log_signer(), log_signer(5, "stranger.example")
    note = sign_note(TEXT, [stranger, log])
    opened = open_note(note, [log.verifier()])
    assert [v for v, _ in opened.verified] == [log.verifier()]
    assert opened.unknown == (note.signatures[0],)


def test_note_signed_only_by_unknown_keys_names_them() -> None:
    stranger, other = log_signer(5, "stranger.example"), cosigner(6, "other.example")
    note = sign_note(TEXT, [stranger, other])
    want = (
        rf"signed by stranger\.example\+{stranger.key_id.hex()}, "
        rf"other\.example\+{other.key_id.hex()}, none of which is trusted"
    )
    with pytest.raises(NoteVerificationError, match=want):
        open_note(note, [log_signer().verifier()])
    with pytest.raises(NoteVerificationError, match=r"trusted keys: none"):
        open_note(note, [])


def test_same_name_different_key_id_is_ignored() -> None:
    trusted, impostor = log_signer(1, "log.example"), log_signer(2, "log.example")
    assert trusted.key_id != impostor.key_id
    both = sign_note(TEXT, [impostor, trusted])
    opened = open_note(both, [trusted.verifier()])
    assert opened.unknown == (both.signatures[0],)
    with pytest.raises(NoteVerificationError, match=r"none of which is trusted"):
        open_note(sign_note(TEXT, [impostor]), [trusted.verifier()])


def test_same_key_id_different_name_is_ignored() -> None:
    trusted = log_signer(1, "log.example")
    sig = sign_note(TEXT, [trusted]).signatures[0]
    renamed = Note(TEXT, (Signature("other.example", sig.key_id, sig.signature),))
    with pytest.raises(NoteVerificationError, match=r"signed by other\.example\+"):
        open_note(renamed, [trusted.verifier()])
    opened = open_note(add_signatures(renamed, [sig]), [trusted.verifier()])
    assert opened.unknown == renamed.signatures


def test_known_key_with_a_bad_signature_rejects_the_note_even_if_another_verifies() -> None:
    log, witness = log_signer(), cosigner()
    note = sign_note(TEXT, [log, witness])
    bad = note.signatures[1]
    broken = Note(TEXT, (note.signatures[0], Signature(bad.name, bad.key_id, bytes(72))))
    assert open_note(broken, [log.verifier()]).unknown == broken.signatures[1:]
    with pytest.raises(NoteVerificationError, match=r"trusted key witness\.example/w1\+") as exc:
        open_note(broken, [log.verifier(), witness.verifier()])
    assert exc.value.key_name == "witness.example/w1"
    assert isinstance(exc.value, VerificationError)


def test_exact_duplicate_signature_lines_count_once() -> None:
    log = log_signer()
    note = sign_note(TEXT, [log])
    twice = parse_note(str(note) + note.signatures[0].line())
    assert len(twice.signatures) == 2
    assert len(open_note(twice, [log.verifier()]).verified) == 1


def test_two_different_signatures_by_one_known_key_reject_the_note() -> None:
    early, late = cosigner(ts=TS), cosigner(ts=TS + 60)
    a = sign_note(TEXT, [early]).signatures[0]
    b = sign_note(TEXT, [late]).signatures[0]
    note = Note(TEXT, (a, b))
    with pytest.raises(NoteVerificationError, match="two different signatures"):
        open_note(note, [early.verifier()])
    with pytest.raises(FormatError, match=r"already signed by .* with a different signature"):
        add_signatures(Note(TEXT, (a,)), [b])


@dataclass(frozen=True)
class _FakeVerifier:
    """A verifier with a chosen key ID, to stage a key-ID collision."""

    name: str
    key_id: bytes
    public_key: bytes
    sig_type: int = SIG_ED25519
    vkey: str = "fake"

    def verify(self, text: bytes, signature: bytes) -> bool:
        return True


def test_two_trusted_keys_with_one_name_and_key_id_are_ambiguous() -> None:
    log = log_signer()
    note = sign_note(TEXT, [log])
    fake = _FakeVerifier(log.name, log.key_id, b"x" * 32)
    with pytest.raises(NoteVerificationError, match="two different trusted keys"):
        open_note(note, [log.verifier(), fake])
    # The same key given twice is not ambiguous.
    assert len(open_note(note, [log.verifier(), log.verifier()]).verified) == 1


# ---------------------------------------------------------------------------------------
# Malformed notes


def good_note() -> str:
    return str(sign_note(TEXT, [log_signer()]))


def sig_line() -> str:
    return sign_note(TEXT, [log_signer()]).signatures[0].line()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(TEXT + sig_line(), "no blank line", id="no-blank-line"),
        pytest.param(TEXT, "no blank line", id="text-only"),
        pytest.param(TEXT + "\n", "no signature lines", id="no-signatures"),
        pytest.param(good_note()[:-1], "does not end in a newline", id="no-final-newline"),
        pytest.param("\x01" + good_note(), "control character U\\+0001 on line 1", id="ctrl"),
        pytest.param(good_note().replace("\n7\n", "\n7\r\n"), "U\\+000D on line 2", id="cr"),
        pytest.param(good_note().replace("\n7\n", "\n\t7\n"), "U\\+0009", id="tab"),
        pytest.param(good_note() + "\x00", "U\\+0000", id="nul"),
        pytest.param("\ud800" + good_note(), "not valid UTF-8", id="lone-surrogate"),
        pytest.param(good_note() + "Unexpected line.\n", "line 6 does not start", id="extra"),
        pytest.param(good_note().replace("— ", "- "), "does not start with '— '", id="hyphen"),
        pytest.param(good_note().replace("— ", "—"), "does not start with '— '", id="no-space"),
        pytest.param(TEXT + "\n— \n", "no space between", id="only-dash"),
        pytest.param(TEXT + "\n— name\n", "no space between", id="no-signature"),
        pytest.param(good_note().replace("— log", "—  log"), "key name is empty", id="empty-name"),
        pytest.param(good_note().replace("log.example", "log+example"), "contains '\\+'", id="+"),
        pytest.param(TEXT + "\n— a.b AAA=\n", "too short \\(2 bytes\\)", id="short"),
        pytest.param(TEXT + "\n— a.b \n", "too short \\(0 bytes\\)", id="empty-signature"),
        pytest.param(TEXT + "\n— a.b AAAAAAA\n", "not valid base64", id="unpadded"),
        pytest.param(TEXT + "\n— a.b AAAAAAAA=\n", "base64", id="excess-padding"),
        pytest.param(TEXT + "\n— a.b AAAAAA=A\n", "base64", id="padding-inside"),
        pytest.param(TEXT + "\n— a.b AAAA AAAA\n", "not valid base64", id="space-in-b64"),
        pytest.param(TEXT + "\n— a.b AAAAAAB=\n", "not canonical", id="non-canonical"),
        pytest.param(TEXT + "\n— a.b AAAAAA==\n", "too short", id="4-bytes"),
        pytest.param(TEXT + "\n— a.b ＡＡＡＡＡＡＡＡ\n", "not valid base64", id="fullwidth-b64"),
        pytest.param(TEXT + "\n— a.b AAAAAAAA \n", "not valid base64", id="trailing-space"),
    ],
)
def test_malformed_notes_are_refused(data: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        parse_note(data)
    with pytest.raises(FormatError, match=match):
        open_note(data, [log_signer().verifier()])


@pytest.mark.parametrize(
    ("space", "name"),
    [("\u3000", "ideographic"), ("\u00a0", "no-break"), ("\u2009", "thin"), ("\u2028", "ls")],
)
def test_unicode_spaces_in_key_names_are_refused(space: str, name: str) -> None:
    data = good_note().replace("log.example", f"log{space}example")
    with pytest.raises(FormatError, match=f"contains the space U\\+{ord(space):04X}"):
        parse_note(data)
    with pytest.raises(FormatError, match="contains the space"):
        check_key_name(f"a{space}b")


def test_invalid_utf8_is_refused() -> None:
    for data in (
        b"\xff" + good_note().encode(),
        good_note().encode().replace(b"\xe2\x80\x94", b"\xe2\x80"),
    ):
        with pytest.raises(FormatError, match="not valid UTF-8"):
            parse_note(data)


def test_signature_count_limit() -> None:
    lines = [cosigner(1, f"w{i}.example").sign(TEXT.encode()) for i in range(MAX_SIGNATURES + 1)]
    sigs = [Signature(f"w{i}.example", b"\0\0\0\1", s) for i, s in enumerate(lines)]
    assert len(parse_note(TEXT + "\n" + "".join(s.line() for s in sigs[:16])).signatures) == 16
    at_limit = TEXT + "\n" + "".join(s.line() for s in sigs[:MAX_SIGNATURES])
    assert len(parse_note(at_limit).signatures) == MAX_SIGNATURES
    with pytest.raises(FormatError, match=f"65 signature lines; at most {MAX_SIGNATURES}"):
        parse_note(at_limit + sigs[-1].line())
    with pytest.raises(FormatError, match="at most 64 signatures"):
        Note(TEXT, tuple(sigs))
    with pytest.raises(FormatError, match="at most 64 signatures"):
        add_signatures(parse_note(at_limit), sigs[-1:])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("no newline", "must end in a newline"),
        ("", "must end in a newline"),
        ("bell\x07\n", "control character U\\+0007"),
        ("\udc80\n", "not valid UTF-8"),
    ],
)
def test_bad_texts_cannot_be_signed_or_held(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        sign_note(text, [log_signer()])
    with pytest.raises(FormatError, match=match):
        Note(text, (Signature("a", b"\0\0\0\0", b"s"),))


def test_sign_note_needs_distinct_signers() -> None:
    with pytest.raises(FormatError, match="at least one signer"):
        sign_note(TEXT, [])
    with pytest.raises(FormatError, match="same key is given twice"):
        sign_note(TEXT, [log_signer(), log_signer()])


def test_signature_and_note_objects_check_their_fields() -> None:
    with pytest.raises(FormatError, match="at least one signature"):
        Note(TEXT, ())
    with pytest.raises(FormatError, match="key ID is 4 bytes"):
        Signature("a", b"\0\0\0", b"s")
    with pytest.raises(FormatError, match="must not be empty"):
        Signature("a", b"\0\0\0\0", b"")
    with pytest.raises(FormatError, match="key name is empty"):
        Signature("", b"\0\0\0\0", b"s")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", "empty"),
        ("a+b", "contains '\\+'"),
        ("a b", "space U\\+0020"),
        ("a\tb", "space U\\+0009"),
        ("a\nb", "space U\\+000A"),
        ("a\x00b", "control character"),
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_bad_key_names(name: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        check_key_name(name)
    with pytest.raises(FormatError, match=match):
        Ed25519Signer(seed(1), name)
    with pytest.raises(FormatError):
        key_id(name, SIG_ED25519, seed(1))


def test_good_key_names() -> None:
    for name in ("a", "example.com/log42", "oid/1.3.6.1.4.1", "社区/居委会", "—", "a=b", "a\x7f"):
        assert check_key_name(name) == name


# ---------------------------------------------------------------------------------------
# Verifier keys


def _vkey(name: str, sig_type: int, public_key: bytes, hex_id: str | None = None) -> str:
    kid = hex_id if hex_id is not None else key_id(name, sig_type, public_key).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([sig_type]) + public_key).decode()}"


PUB = log_signer().public_key


@pytest.mark.parametrize(
    ("vkey", "match"),
    [
        pytest.param(_vkey("a.example", 0x02, PUB), "type 0x02", id="ecdsa-type"),
        pytest.param(_vkey("a.example", 0x06, PUB), "type 0x06", id="ml-dsa-type"),
        pytest.param(_vkey("a.example", 0xFF, PUB), "type 0xff", id="0xff"),
        pytest.param(_vkey("a.example", 0x01, PUB[:31]), "32 bytes, not 31", id="short-key"),
        pytest.param(_vkey("a.example", 0x01, PUB + b"\0"), "32 bytes, not 33", id="long-key"),
        pytest.param(_vkey("a.example", 0x01, PUB, "00000000"), "does not match", id="wrong-id"),
        pytest.param(
            _vkey("a.example", 0x01, PUB, key_id("a.example", 4, PUB).hex()),
            "does not match",
            id="0x04-id-on-0x01-key",
        ),
        pytest.param(
            _vkey("a.example", 0x01, PUB).replace("+", "+" + "0", 1)[:-1], "8 lowercase", id="hex9"
        ),
        pytest.param(_vkey("a.example", 0x01, PUB).upper(), "8 lowercase", id="uppercase"),
        pytest.param("a.example+530d903a+", "no public key", id="empty-key"),
        pytest.param("a.example+530d903a", "not <name>", id="two-parts"),
        pytest.param("a.example", "not <name>", id="one-part"),
        pytest.param(
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "empty", id="noname"
        ),
        pytest.param(
            "a b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "space", id="sp"
        ),
        pytest.param(
            "a+530d903a+Aeky eRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "base64", id="b64"
        ),
        pytest.param(
            VECTORS["signed_note_example"]["vkey"] + "\n", "not valid base64", id="newline"
        ),
    ],
)
def test_bad_vkeys_are_refused(vkey: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        parse_vkey(vkey)


# ---------------------------------------------------------------------------------------
# Nothing but FormatError escapes the parsers


@given(st.text(max_size=300))
def test_parse_note_raises_only_format_error(data: str) -> None:
    try:
        note = parse_note(data)
    except FormatError:
        return
    assert str(note) == data


@given(st.binary(max_size=300))
def test_parse_note_bytes_raises_only_format_error(data: bytes) -> None:
    try:
        note = parse_note(data)
    except FormatError:
        return
    assert str(note).encode() == data


@given(st.text(alphabet="ab+/=0123456789cdef.\n— ", max_size=120))
def test_parse_vkey_raises_only_format_error(data: str) -> None:
    with suppress(FormatError):
        parse_vkey(data)


@given(st.lists(st.sampled_from(["a", "\n", "— ", "x ", "AAAAAAAAAA==", " ", "+"]), max_size=40))
def test_note_like_inputs_raise_only_format_error(parts: list[str]) -> None:
    data = "".join(parts)
    try:
        note = parse_note(data)
    except FormatError:
        return
    assert str(note) == data


def test_errors_belong_to_the_gongkai_family() -> None:
    assert issubclass(NoteVerificationError, VerificationError)
    assert issubclass(FormatError, GongkaiError)
    assert not issubclass(FormatError, ValueError)
