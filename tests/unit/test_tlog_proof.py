"""C2SP tlog proofs: the spec's example layout, exact round trips, and strict parsing."""

from __future__ import annotations

import base64
import json
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import FormatError
from ledger.seal.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.seal.note import CosignatureSigner, Ed25519Signer, add_signatures, sign_note
from ledger.seal.tlog_proof import HEADER, TlogProof, format_tlog_proof, parse_tlog_proof

VECTORS_DIR = Path(__file__).parent.parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "signed_note.json").read_text("utf-8"))
SPEC = VECTORS["tlog_proof_example"]

LOG = Ed25519Signer(bytes([1]) * 32, "example.com/fancylog")
WITNESS = CosignatureSigner(bytes([2]) * 32, "witness1.example", clock=lambda: 1_700_000_000)
H = [bytes([i]) * 32 for i in range(5)]


def checkpoint_note(text: str = "gongkai.example/tianhai\n5\n" + "A" * 43 + "=\n") -> str:
    note = sign_note(text, [LOG])
    return str(add_signatures(note, sign_note(text, [WITNESS]).signatures))


CHECKPOINT = checkpoint_note()


def test_header() -> None:
    assert HEADER == "c2sp.org/tlog-proof@v1"


def test_spec_example_layout() -> None:
    """The spec's example elides its signatures ('[...]'), so as a whole it is refused;
    with a real signed checkpoint in their place its first lines parse to the spec's
    values."""
    spec_text = (VECTORS_DIR / SPEC["file"]).read_text("utf-8")
    with pytest.raises(FormatError, match="tlog proof checkpoint: signature on line 5"):
        parse_tlog_proof(spec_text)
    head, _, spec_checkpoint = spec_text.partition("\n\n")
    assert spec_checkpoint.startswith(SPEC["checkpoint_text"] + "\n")
    real = checkpoint_note(SPEC["checkpoint_text"])
    proof = parse_tlog_proof(head + "\n\n" + real)
    assert proof.extra == base64.b64decode(SPEC["extra_base64"])
    assert proof.index == SPEC["index"] == 73894
    assert [base64.b64encode(h).decode() for h in proof.hashes] == SPEC["hashes_base64"]
    assert proof.checkpoint == real
    assert format_tlog_proof(proof) == head + "\n\n" + real
    opened = open_checkpoint(proof.checkpoint, [LOG.verifier()], [WITNESS.verifier()])
    assert opened.checkpoint.size == 109482


@pytest.mark.parametrize(
    "proof",
    [
        TlogProof(0, (), CHECKPOINT),
        TlogProof(4, tuple(H[:3]), CHECKPOINT),
        TlogProof(2**64 - 1, tuple(H), CHECKPOINT, extra=b"age-v1.2.1"),
        TlogProof(1, (H[0],), CHECKPOINT, extra=b""),
        TlogProof(1, tuple(H[:1] * 64), CHECKPOINT, extra=bytes(range(256))),
    ],
    ids=["no-hashes", "three", "max-index", "empty-extra", "64-hashes"],
)
def test_round_trip(proof: TlogProof) -> None:
    text = format_tlog_proof(proof)
    assert parse_tlog_proof(text) == proof
    assert format_tlog_proof(parse_tlog_proof(text)) == text


def test_exact_layout() -> None:
    text = format_tlog_proof(TlogProof(3, (H[1], H[2]), CHECKPOINT, extra=b"hi"))
    b1, b2 = (base64.b64encode(h).decode() for h in (H[1], H[2]))
    assert text == f"{HEADER}\nextra aGk=\nindex 3\n{b1}\n{b2}\n\n{CHECKPOINT}"
    assert format_tlog_proof(TlogProof(0, (), CHECKPOINT)) == f"{HEADER}\nindex 0\n\n{CHECKPOINT}"


def test_checkpoint_is_kept_verbatim_and_still_verifies() -> None:
    signed = str(sign_checkpoint(Checkpoint("gongkai.example/a", 9, H[3]), LOG))
    proof = parse_tlog_proof(format_tlog_proof(TlogProof(8, (H[0],), signed)))
    assert proof.checkpoint == signed
    assert open_checkpoint(proof.checkpoint, [LOG.verifier()]).checkpoint.size == 9


B64 = base64.b64encode(H[1]).decode()
NOT_A_CHECKPOINT = str(sign_note("hello\n", [LOG]))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param(f"c2sp.org/tlog-proof@v2\nindex 0\n\n{CHECKPOINT}", "must start", id="v2"),
        pytest.param(f"{HEADER} \nindex 0\n\n{CHECKPOINT}", "must start", id="header-space"),
        pytest.param(f"{HEADER}\r\nindex 0\n\n{CHECKPOINT}", "must start", id="crlf"),
        pytest.param(f"\n{HEADER}\nindex 0\n\n{CHECKPOINT}", "must start", id="leading-blank"),
        pytest.param(f"{HEADER}\n\n{CHECKPOINT}", "line 2 must be 'index", id="no-index"),
        pytest.param(f"{HEADER}\nextra aGk=\n\n{CHECKPOINT}", "line 3 must be", id="extra-only"),
        pytest.param(f"{HEADER}\nindex\n\n{CHECKPOINT}", "must be 'index", id="index-no-space"),
        pytest.param(f"{HEADER}\nindex 01\n\n{CHECKPOINT}", "leading zeroes", id="index-00"),
        pytest.param(f"{HEADER}\nindex -1\n\n{CHECKPOINT}", "ASCII decimal", id="negative"),
        pytest.param(f"{HEADER}\nindex \n\n{CHECKPOINT}", "ASCII decimal", id="index-empty"),
        pytest.param(f"{HEADER}\nindex  1\n\n{CHECKPOINT}", "ASCII decimal", id="two-spaces"),
        pytest.param(f"{HEADER}\nindex {2**64}\n\n{CHECKPOINT}", "larger than", id="index-big"),
        pytest.param(f"{HEADER}\nINDEX 1\n\n{CHECKPOINT}", "must be 'index", id="upper"),
        pytest.param(f"{HEADER}\nextra !!\nindex 1\n\n{CHECKPOINT}", "extra data is not", id="x"),
        pytest.param(f"{HEADER}\nextra aGk\nindex 1\n\n{CHECKPOINT}", "extra data", id="x-pad"),
        pytest.param(f"{HEADER}\nextra aGl=\nindex 1\n\n{CHECKPOINT}", "canonical", id="x-bits"),
        pytest.param(f"{HEADER}\nindex 1\nextra aGk=\n\n{CHECKPOINT}", "line 3", id="x-after"),
        pytest.param(f"{HEADER}\nindex 1\n{B64[:-1]}\n\n{CHECKPOINT}", "line 3 is not", id="h"),
        pytest.param(f"{HEADER}\nindex 1\n{B64} \n\n{CHECKPOINT}", "line 3 is not", id="h-sp"),
        pytest.param(
            f"{HEADER}\nindex 1\n{base64.b64encode(bytes(31)).decode()}\n\n{CHECKPOINT}",
            "line 3 is 31 bytes",
            id="31-byte-hash",
        ),
        pytest.param(
            f"{HEADER}\nindex 1\n" + f"{B64}\n" * 65 + f"\n{CHECKPOINT}",
            "65 hashes; at most 64",
            id="65-hashes",
        ),
        pytest.param(f"{HEADER}\nindex 1\n{B64}\n{CHECKPOINT}", "line 4 is not", id="no-blank"),
        pytest.param(f"{HEADER}\nindex 1\n", "no blank line", id="no-checkpoint-at-all"),
        pytest.param(f"{HEADER}\nindex 1\n\n", "checkpoint: note has no blank", id="empty-cp"),
        pytest.param(
            f"{HEADER}\nindex 1\n\n\n{CHECKPOINT}", "checkpoint: .*origin is empty", id="2-blank"
        ),
        pytest.param(
            f"{HEADER}\nindex 1\n{B64}\n\n{B64}\n\n{CHECKPOINT}",
            "checkpoint: checkpoint tree size must be an ASCII decimal",
            id="hash-after-blank",
        ),
        pytest.param(
            f"{HEADER}\nindex 1\n\n{CHECKPOINT}trailing\n",
            "checkpoint: signature line",
            id="trailing-junk",
        ),
        pytest.param(
            f"{HEADER}\nindex 1\n\n{CHECKPOINT[:-1]}", "checkpoint: note does not end", id="cut"
        ),
        pytest.param(
            f"{HEADER}\nindex 1\n\n{NOT_A_CHECKPOINT}",
            "checkpoint: .*at least 3 lines",
            id="not-a-checkpoint",
        ),
    ],
)
def test_malformed_proofs_are_refused(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        parse_tlog_proof(text)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1, (), CHECKPOINT), "between 0 and 2\\^64-1"),
        ((2**64, (), CHECKPOINT), "between 0 and 2\\^64-1"),
        ((True, (), CHECKPOINT), "between 0 and 2\\^64-1"),
        ((0, (b"x" * 31,), CHECKPOINT), "hash 0 is 31 bytes"),
        ((0, tuple(H[:1] * 65), CHECKPOINT), "65 hashes"),
        ((0, (), "example.com/log\n1\n" + "A" * 43 + "=\n"), "checkpoint: note has no blank"),
    ],
)
def test_proof_fields_are_checked(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(FormatError, match=match):
        TlogProof(*args)


@given(st.text(max_size=300))
def test_parse_raises_only_format_error(text: str) -> None:
    with suppress(FormatError):
        parse_tlog_proof(text)


@given(
    st.lists(
        st.sampled_from([HEADER, "extra aGk=", "index 1", "index 01", B64, "", "x"]), max_size=8
    )
)
def test_proof_like_inputs_raise_only_format_error(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n\n" + CHECKPOINT
    try:
        proof = parse_tlog_proof(text)
    except FormatError:
        return
    assert format_tlog_proof(proof) == text
