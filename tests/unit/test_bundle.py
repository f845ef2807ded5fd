"""Signed archive bundles: a synthetic community chain, its Merkle tree and a signed,
cosigned checkpoint are written as bundles and verified offline; then every kind of
tampering an operator or a courier could try is shown to fail, naming what failed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import stat
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.bundle.contents import BundleContents
from ledger.bundle.format import (
    BundleReport,
    BundleVerificationError,
    ProofLines,
    json_line,
    manifest_sig_text,
    proof_json,
)
from ledger.bundle.verify import verify_bundle
from ledger.bundle.write import write_bundle
from ledger.chain.hashing import Head, chain_events, entry_hash
from ledger.seal import merkle
from ledger.seal.checkpoint import Checkpoint, sign_checkpoint
from ledger.seal.keys import KeyKind, PrivateKey, generate_key
from ledger.seal.note import NoteVerifier, Signature, add_signatures, sign_note
from ledger.store.base import RawRow

COMMUNITY = "tianhai"
ORIGIN = "gongkai.example/tianhai"
LOG = generate_key(ORIGIN, KeyKind.LOG)
COSIGNER = generate_key("committee.example/li-wei", KeyKind.COSIGNER)
STRANGER = generate_key("witness.example/stranger", KeyKind.COSIGNER)
IMPOSTOR_LOG = generate_key(ORIGIN, KeyKind.LOG)  # same name as the log, another key
NEIGHBOUR_LOG = generate_key("gongkai.example/xihu", KeyKind.LOG)  # another community's log
KEYS: list[NoteVerifier] = [LOG.verifier(), COSIGNER.verifier()]

STATES = [
    '{"title": "2024年第一季度财务公开", "amount": "1200.50元"}'.encode(),
    '{"title": "垃圾分类宣传", "body": "第一行\\n第二行"}'.encode(),
    b"\xff\xfe\x00 not UTF-8 \xc3\x28",
    '{"note": "换行\n与\u2028分隔符"}'.encode(),
]
TOPICS = ["gongkai/disclosure/submitted", "gongkai/disclosure/approved", "gongkai/objection"]
SIZE = 12  # entries in the chain, and the checkpoint's tree size
NON_UTF8_SEQ = 3  # the entry whose state is not UTF-8


ATTACHMENTS = {hashlib.sha256(d).hexdigest(): d for d in (b"%PDF-1.4 fake", "收据".encode())}
MISSING = [hashlib.sha256(b"lost scan").hexdigest()]
#: The entries that name files, by seq: a version's two attachments (in the bundle) and
#: a voucher the store does not hold (listed as missing).
COMPACT = (",", ":")  # as the store writes an event's state
NAMING = {
    8: json.dumps(
        {"title": "公示", "attachments": sorted(ATTACHMENTS)}, separators=COMPACT
    ).encode(),
    9: json.dumps({"amount_fen": 100, "voucher_sha256": MISSING[0]}, separators=COMPACT).encode(),
}


def _rows() -> list[RawRow]:
    events = [
        (
            UUID(int=0xA0 + i // 2),
            1 + i % 2,
            TOPICS[i % 3],
            NAMING.get(i + 1, STATES[i % 4] + b" #%d" % i),
        )
        for i in range(SIZE)
    ]
    return [
        (e.seq, e.prev_hash, e.hash, e.originator_id.bytes, e.originator_version,
         e.topic.encode(), e.state)
        for e in chain_events(COMMUNITY, Head(0, b""), events)
    ]  # fmt: skip


ROWS = _rows()
LEAVES = [merkle.leaf_hash(row[2]) for row in ROWS]
NODES = dict(merkle.append_leaves(0, {}, LEAVES))
BOARD = "<html><body><h1>天海社区居务公开栏</h1></body></html>"
NAMES = [
    "README.txt",
    "checkpoint.txt",
    "events.jsonl",
    "proofs.jsonl",
    "board.html",
    "attachments-missing.txt",
    *(f"attachments/{h}" for h in sorted(ATTACHMENTS)),
    "manifest.json",
    "manifest.sig",
]


def read_nodes(wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    return {node: NODES[node] for node in wanted}


def proof_of(seq: int, size: int = SIZE) -> list[bytes]:
    return merkle.inclusion_proof(seq - 1, size, read_nodes)


def signed_checkpoint(
    *,
    origin: str = ORIGIN,
    size: int = SIZE,
    log: PrivateKey = LOG,
    cosigners: Sequence[PrivateKey] = (COSIGNER,),
) -> str:
    root = merkle.root_of(LEAVES[:size])
    note = sign_checkpoint(Checkpoint(origin, size, root), log.signer())
    message = note.text.encode()
    cosignatures = [Signature(k.name, k.key_id, k.signer().sign(message)) for k in cosigners]
    return str(add_signatures(note, cosignatures))


def make_contents(first: int = 4, last: int = 9, **changes: Any) -> BundleContents:
    contents = BundleContents(
        community_id=COMMUNITY,
        community_name="天海社区",
        origin=ORIGIN,
        first_seq=first,
        last_seq=last,
        rows=ROWS[first - 1 : last],
        proofs=[proof_of(seq) for seq in range(first, last + 1)],
        signed_checkpoint=signed_checkpoint(),
        tree_size=SIZE,
        board_html=BOARD,
        period="2024-Q1",
        date_from=date(2024, 1, 1),
        date_to=date(2024, 3, 31),
        # The files the range's entries name (NAMING): a range without them has none.
        attachments=ATTACHMENTS if first <= 8 <= last else {},
        attachments_missing=MISSING if first <= 9 <= last else [],
        created_at=datetime(2024, 4, 1, 8, 30, tzinfo=UTC),
    )
    return replace(contents, **changes)


def write(
    tmp_path: Path, first: int = 4, last: int = 9, *, log: PrivateKey = LOG, **changes: Any
) -> Path:
    path = tmp_path / "bundle.zip"
    write_bundle(path, make_contents(first, last, **changes), log.signer())
    return path


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A bundle of entries 4..9 of 12."""
    return write(tmp_path)


# --- reading and rewriting a bundle's entries, as an operator with the log key could ---


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(path: Path, items: Iterable[tuple[str, bytes]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in items:
                zf.writestr(name, data)


def resign(
    items: dict[str, bytes],
    *,
    log: PrivateKey = LOG,
    manifest_change: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Recompute manifest.json's file hashes and sign it again with ``log``."""
    manifest = json.loads(items["manifest.json"])
    manifest["files"] = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in items.items()
        if name not in ("manifest.json", "manifest.sig")
    }
    if manifest_change:
        manifest_change(manifest)
    data = json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n"
    items["manifest.json"] = data
    text = manifest_sig_text(manifest["origin"], hashlib.sha256(data).hexdigest())
    items["manifest.sig"] = str(sign_note(text, [log.signer()])).encode()


def tamper(path: Path, change: Callable[[dict[str, bytes]], None], *, signed: bool = True) -> None:
    items = members(path)
    change(items)
    if signed:
        resign(items)
    rezip(path, items.items())


def lines_of(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def jsonl(objs: Iterable[Mapping[str, Any]]) -> bytes:
    # ASCII escapes, so that a test can write what the writer never would (a lone surrogate)
    return b"".join(json.dumps(obj).encode() + b"\n" for obj in objs)


def edit_events(
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None],
) -> Callable[[dict[str, bytes]], None]:
    def apply(items: dict[str, bytes]) -> None:
        events = lines_of(items["events.jsonl"])
        items["events.jsonl"] = jsonl(change(events) or events)

    return apply


def rechain(events: list[dict[str, Any]], start: int) -> None:
    """Recompute the hashes of events[start:] and link them, as a forger would."""
    for i in range(start, len(events)):
        e = events[i]
        if i > start:
            e["prev_hash"] = events[i - 1]["hash"]
        state = e["state"].encode() if "state" in e else base64.b64decode(e["state_base64"])
        e["hash"] = entry_hash(
            e["seq"],
            bytes.fromhex(e["prev_hash"]),
            bytes.fromhex(e["originator_id"]),
            e["originator_version"],
            e["topic"].encode(),
            state,
        ).hex()


def fails(path: Path, match: str, keys: Sequence[NoteVerifier] = KEYS) -> str:
    with pytest.raises(BundleVerificationError, match=match) as info:
        verify_bundle(path, keys)
    return str(info.value)


# --- bundles that verify ---------------------------------------------------------------


def test_a_middle_range_verifies(bundle: Path) -> None:
    report = verify_bundle(bundle, KEYS)
    assert isinstance(report, BundleReport)
    assert (report.community, report.community_name, report.origin) == (
        COMMUNITY,
        "天海社区",
        ORIGIN,
    )
    assert (report.range.first_seq, report.range.last_seq) == (4, 9)
    assert report.range.period == "2024-Q1"
    assert (report.range.date_from, report.range.date_to) == (date(2024, 1, 1), date(2024, 3, 31))
    assert report.entries == 6
    assert report.tree_size == SIZE
    assert report.root == merkle.root_of(LEAVES)
    assert report.log_keys == (f"{ORIGIN}+{LOG.key_id.hex()}",)
    assert [(c.name, c.key_id) for c in report.cosigners] == [(COSIGNER.name, COSIGNER.key_id)]
    assert report.ignored_signatures == ()
    assert report.attachments == 2
    assert report.attachments_missing == len(MISSING)
    assert report.created_at == datetime(2024, 4, 1, 8, 30, tzinfo=UTC)
    assert [c[:2] for c in report.checks] == ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8."]
    assert COSIGNER.name in report.checks[3]
    json.dumps(report.as_dict(), ensure_ascii=False)


def test_the_whole_chain_verifies_back_to_genesis(tmp_path: Path) -> None:
    report = verify_bundle(write(tmp_path, 1, SIZE), KEYS)
    assert report.entries == SIZE
    assert "genesis" in report.checks[4]


def test_a_range_inside_a_larger_tree_verifies(tmp_path: Path) -> None:
    report = verify_bundle(write(tmp_path, 1, 1), KEYS)
    assert (report.entries, report.tree_size) == (1, SIZE)


def test_log_key_alone_is_enough_and_the_cosignature_is_reported_ignored(bundle: Path) -> None:
    report = verify_bundle(bundle, [LOG.verifier()])
    assert report.cosigners == ()
    assert report.ignored_signatures == (f"{COSIGNER.name}+{COSIGNER.key_id.hex()}",)


def test_the_files_hold_what_the_format_says(tmp_path: Path) -> None:
    contents = make_contents()
    bundle = tmp_path / "bundle.zip"
    write_bundle(bundle, contents, LOG.signer())
    items = members(bundle)
    assert sorted(items) == sorted(NAMES)
    manifest = json.loads(items["manifest.json"])
    assert manifest["format"] == "gongkai-bundle/v1"
    assert manifest["range"] == {
        "first_seq": 4,
        "last_seq": 9,
        "period": "2024-Q1",
        "from": "2024-01-01",
        "to": "2024-03-31",
    }
    assert manifest["created_at"] == "2024-04-01T08:30:00Z"
    assert manifest["attachments_missing"] == len(MISSING)
    assert items["attachments-missing.txt"] == "".join(f"{h}\n" for h in MISSING).encode()
    assert set(manifest["files"]) == set(NAMES) - {"manifest.json", "manifest.sig"}
    assert (
        items["manifest.sig"]
        .decode()
        .startswith(
            manifest_sig_text(ORIGIN, hashlib.sha256(items["manifest.json"]).hexdigest()) + "\n— "
        )
    )
    assert items["checkpoint.txt"].decode() == contents.signed_checkpoint  # verbatim
    events = lines_of(items["events.jsonl"])
    assert [e["seq"] for e in events] == list(range(4, 10))
    assert "2024年第一季度财务公开" in items["events.jsonl"].decode()  # readable, not \u escapes
    for event, row in zip(events, ROWS[3:9], strict=True):
        assert event["hash"] == row[2].hex()
        assert event["originator_id"] == row[3].hex()
        if "state" in event:
            assert event["state"].encode() == row[6]
        else:
            assert base64.b64decode(event["state_base64"]) == row[6]
    assert [e["seq"] for e in events if "state_base64" in e] == [7]  # 3 + 4: not UTF-8
    proofs = lines_of(items["proofs.jsonl"])
    assert [(p["seq"], p["leaf_index"]) for p in proofs] == [(s, s - 1) for s in range(4, 10)]
    assert [base64.b64decode(h) for h in proofs[0]["hashes"]] == proof_of(4)
    readme = items["README.txt"].decode()
    assert readme.index("中文说明") < readme.index("English")
    assert "gongkai verify-bundle bundle.zip --key" in readme
    assert "SHA-256(0x00 || hash)" in readme
    assert items["board.html"].decode() == BOARD


def test_the_non_utf8_state_round_trips(tmp_path: Path) -> None:
    items = members(write(tmp_path, 1, SIZE))
    event = lines_of(items["events.jsonl"])[NON_UTF8_SEQ - 1]
    assert base64.b64decode(event["state_base64"]) == ROWS[NON_UTF8_SEQ - 1][6]


# --- the writer ------------------------------------------------------------------------


def test_the_writer_refuses_to_overwrite_unless_told(bundle: Path) -> None:
    before = bundle.read_bytes()
    with pytest.raises(FileExistsError):
        write_bundle(bundle, make_contents(), LOG.signer())
    assert bundle.read_bytes() == before
    write_bundle(bundle, make_contents(1, 2), LOG.signer(), overwrite=True)
    assert verify_bundle(bundle, KEYS).entries == 2
    assert [p.name for p in bundle.parent.iterdir()] == ["bundle.zip"]


def test_the_writer_streams_iterators(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    contents = make_contents(rows=iter(ROWS[3:9]), proofs=(proof_of(s) for s in range(4, 10)))
    summary = write_bundle(path, contents, LOG.signer())
    assert summary.entries == 6
    assert summary.attachments == 2
    assert summary.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary.size == path.stat().st_size
    assert summary.manifest_sha256 == hashlib.sha256(members(path)["manifest.json"]).hexdigest()
    verify_bundle(path, KEYS)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"proofs": [proof_of(s) for s in range(4, 9)]}, ValueError, "fewer proofs than rows"),
        ({"proofs": [proof_of(s) for s in range(4, 11)]}, ValueError, "more proofs than rows"),
        ({"rows": ROWS[3:8], "proofs": [proof_of(s) for s in range(4, 9)]}, ValueError, "end"),
        ({"origin": "gongkai.example/other"}, ValueError, "origin"),
        ({"tree_size": 11}, ValueError, "size"),
        ({"first_seq": 0}, ValueError, "range"),
        ({"attachments": {"00" * 32: b"x"}}, ValueError, "SHA-256"),
        ({"attachments_missing": sorted(ATTACHMENTS)[:1]}, ValueError, "missing"),
        ({"proofs": [proof_of(s, 11) for s in range(4, 10)]}, BundleVerificationError, "entry 4"),
        (
            {"rows": [*ROWS[3:5], (6, *ROWS[5][1:6], b"edited")]},
            BundleVerificationError,
            "entry 6",
        ),
    ],
)
def test_the_writer_refuses_contents_that_would_not_verify(
    tmp_path: Path, changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    if "rows" in changes and "proofs" not in changes:
        changes["proofs"] = [proof_of(s) for s in range(4, 4 + len(changes["rows"]))]
        changes["last_seq"] = 3 + len(changes["rows"])
    with pytest.raises(error, match=match):
        write_bundle(tmp_path / "b.zip", make_contents(**changes), LOG.signer())
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


# --- any byte changed, any file removed or added ----------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("where", [0, 0.5, -1])
def test_flipping_one_byte_of_any_file_fails_naming_it(
    bundle: Path, name: str, where: float
) -> None:
    def flip(items: dict[str, bytes]) -> None:
        data = bytearray(items[name])
        i = int(len(data) * where) if where >= 0 else len(data) - 1
        data[i] ^= 0x01
        items[name] = bytes(data)

    tamper(bundle, flip, signed=False)
    message = fails(bundle, rf"^{re.escape(name)}: ")
    if name != "manifest.sig":
        # Even where the lines are read in one pass with steps 5-6 (events, proofs), the
        # failure reported is the file's digest, not whatever its damaged line broke.
        assert "SHA-256" in message


def _local_data_offset(raw: bytes, info: zipfile.ZipInfo) -> int:
    header = info.header_offset
    name_len, extra_len = struct.unpack("<HH", raw[header + 26 : header + 30])
    return int(header + 30 + name_len + extra_len)


@pytest.mark.parametrize("name", NAMES)
def test_flipping_a_compressed_byte_fails_naming_the_file(bundle: Path, name: str) -> None:
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo(name)
    raw[_local_data_offset(bytes(raw), info) + info.compress_size // 2] ^= 0x10
    bundle.write_bytes(bytes(raw))
    fails(bundle, rf"^{re.escape(name)}: ")


@pytest.mark.parametrize("name", NAMES)
def test_removing_any_file_fails_naming_it(bundle: Path, name: str) -> None:
    def remove(items: dict[str, bytes]) -> None:
        del items[name]

    tamper(bundle, remove, signed=False)
    fails(bundle, rf"^{re.escape(name)}: (listed in manifest.json but )?missing")


@pytest.mark.parametrize("extra", ["extra.txt", f"attachments/{'ab' * 32}", "events.jsonl.bak"])
def test_an_unlisted_file_fails(bundle: Path, extra: str) -> None:
    tamper(bundle, lambda items: items.update({extra: b"ab" * 32}), signed=False)
    fails(bundle, rf"^{re.escape(extra)}: in the bundle but not listed in manifest.json")


def test_a_listed_file_outside_the_format_fails_even_when_signed(bundle: Path) -> None:
    tamper(bundle, lambda items: items.update({"notes.txt": b"trust me"}))
    fails(bundle, r"manifest.json: lists 'notes.txt', which is not part of gongkai-bundle/v1")


def test_an_attachment_not_named_by_its_hash_fails_even_when_signed(bundle: Path) -> None:
    name = f"attachments/{sorted(ATTACHMENTS)[0]}"
    tamper(bundle, lambda items: items.update({name: b"another file"}))
    fails(bundle, rf"^{re.escape(name)}: an attachment not named by its SHA-256")


# --- an operator who holds the log key rewrites the entries -----------------------------


@pytest.mark.parametrize("seq", [4, 6, 9])
def test_an_entry_removed_and_the_manifest_resigned_fails_at_that_seq(
    bundle: Path, seq: int
) -> None:
    tamper(bundle, edit_events(lambda events: [e for e in events if e["seq"] != seq]))
    if seq == 9:
        fails(bundle, r"^events.jsonl: ends before entry 9; the manifest's range ends at 9")
    else:
        fails(bundle, rf"^events.jsonl: entry {seq} is missing or out of place")


def test_an_extra_proof_line_fails(bundle: Path) -> None:
    def add(items: dict[str, bytes]) -> None:
        items["proofs.jsonl"] += items["proofs.jsonl"].splitlines(keepends=True)[-1]

    tamper(bundle, add)
    fails(bundle, r"^proofs.jsonl: line 7: a proof for no entry of events.jsonl")


def test_a_missing_proof_line_fails(bundle: Path) -> None:
    def drop_last(items: dict[str, bytes]) -> None:
        items["proofs.jsonl"] = b"".join(items["proofs.jsonl"].splitlines(keepends=True)[:-1])

    tamper(bundle, drop_last)
    fails(bundle, r"^proofs.jsonl: no inclusion proof for entry 9")


def test_the_range_shrunk_in_a_resigned_manifest_fails(bundle: Path) -> None:
    def shrink(items: dict[str, bytes]) -> None:
        resign(items, manifest_change=lambda m: m["range"].update(last_seq=8))

    tamper(bundle, shrink, signed=False)
    fails(bundle, r"^events.jsonl: line 6: entry 9 is past the manifest's range")


def test_an_edited_state_fails_on_its_hash(bundle: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        events[2]["state"] = events[2]["state"].replace("宣传", "通知")

    tamper(bundle, edit_events(edit))
    fails(bundle, r"^events.jsonl: entry 6: the hash recomputed from the stored form")


def test_an_edited_state_with_its_hash_recomputed_fails_at_its_proof(bundle: Path) -> None:
    """The entry checks out on its own; the tree, which the log signed, does not hold it."""

    def edit(events: list[dict[str, Any]]) -> None:
        events[2]["state"] = events[2]["state"].replace("宣传", "通知")
        rechain(events[:3], 2)

    tamper(bundle, edit_events(edit))
    fails(bundle, r"^proofs.jsonl: entry 6 is not shown to be in the checkpoint's tree")


def test_an_entry_relinked_to_a_forged_predecessor_fails_on_the_link(bundle: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        events[3]["prev_hash"] = "00" * 32
        rechain(events[:4], 3)

    tamper(bundle, edit_events(edit))
    fails(bundle, r"^events.jsonl: entry 7: prev_hash does not match the hash of entry 6")


@pytest.mark.parametrize("first", [1, 4])
def test_an_edited_state_with_the_chain_recomputed_fails_at_the_proof(
    tmp_path: Path, first: int
) -> None:
    path = write(tmp_path, first, 9)

    def edit(events: list[dict[str, Any]]) -> None:
        i = 6 - first
        events[i]["state"] = events[i]["state"].replace("宣传", "通知")
        rechain(events, i)

    tamper(path, edit_events(edit))
    fails(path, r"^proofs.jsonl: entry 6 is not shown to be in the checkpoint's tree")


def test_the_first_entry_of_a_middle_range_recomputed_fails_at_its_proof(bundle: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        events[0]["prev_hash"] = "00" * 32
        rechain(events, 0)

    tamper(bundle, edit_events(edit))
    fails(bundle, r"^proofs.jsonl: entry 4 is not shown")


def test_reordered_entries_fail(bundle: Path) -> None:
    def swap(events: list[dict[str, Any]]) -> None:
        events[2], events[3] = events[3], events[2]

    tamper(bundle, edit_events(swap))
    fails(bundle, r"^events.jsonl: entry 6 is missing or out of place: its line holds entry 7")


def test_reordered_entries_renumbered_fail_on_their_hash(bundle: Path) -> None:
    def swap(events: list[dict[str, Any]]) -> None:
        events[2], events[3] = events[3], events[2]
        events[2]["seq"], events[3]["seq"] = 6, 7

    tamper(bundle, edit_events(swap))
    fails(bundle, r"^events.jsonl: entry 6: ")


def test_an_entry_repeated_fails(bundle: Path) -> None:
    tamper(bundle, edit_events(lambda events: [*events[:3], events[2], *events[3:]]))
    fails(bundle, r"^events.jsonl: entry 6 appears again or out of order, after entry 6")


def test_a_proof_line_for_the_wrong_entry_fails(bundle: Path) -> None:
    def swap(items: dict[str, bytes]) -> None:
        lines = items["proofs.jsonl"].splitlines(keepends=True)
        lines[1], lines[2] = lines[2], lines[1]
        items["proofs.jsonl"] = b"".join(lines)

    tamper(bundle, swap)
    fails(bundle, r"^proofs.jsonl: line 2: a proof for entry 6 where the one for entry 5 belongs")


def test_entries_copied_into_another_community_fail_at_genesis(tmp_path: Path) -> None:
    path = write(tmp_path, 1, 3)
    tamper(path, lambda items: resign(items, manifest_change=lambda m: m.update(community="xihu")))
    fails(path, r"^events.jsonl: entry 1: prev_hash does not match the genesis hash of 'xihu'")


# --- keys, signatures and checkpoints ----------------------------------------------------


def test_a_bundle_signed_by_an_unknown_log_key_fails(tmp_path: Path) -> None:
    path = write(tmp_path, log=IMPOSTOR_LOG, signed_checkpoint=signed_checkpoint(log=IMPOSTOR_LOG))
    fails(path, r"^manifest.sig: no trusted key signed this note")


def test_a_checkpoint_signed_by_an_unknown_log_key_fails(bundle: Path) -> None:
    forged = signed_checkpoint(log=IMPOSTOR_LOG).encode()
    tamper(bundle, lambda items: items.update({"checkpoint.txt": forged}))
    fails(bundle, r"^checkpoint.txt: no trusted key signed this note")


def test_the_manifest_and_the_checkpoint_signed_by_different_log_keys_fail(
    bundle: Path,
) -> None:
    """Another community's log, trusted too, cannot wrap its own files (board, README,
    attachments) around this log's real checkpoint and entries."""
    tamper(bundle, lambda items: resign(items, log=NEIGHBOUR_LOG), signed=False)
    keys = [*KEYS, NEIGHBOUR_LOG.verifier()]
    fails(bundle, rf"^checkpoint.txt: .* but manifest.sig by {NEIGHBOUR_LOG.name}", keys=keys)


def test_the_writer_refuses_a_checkpoint_its_log_key_did_not_sign(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not signed by the log key"):
        write(tmp_path, log=IMPOSTOR_LOG)
    assert list(tmp_path.iterdir()) == []


def test_no_log_key_given_fails(bundle: Path) -> None:
    fails(bundle, r"no trusted log key given", keys=[COSIGNER.verifier()])


def test_a_cosignature_by_an_unknown_key_is_ignored_but_reported(tmp_path: Path) -> None:
    path = write(tmp_path, signed_checkpoint=signed_checkpoint(cosigners=[COSIGNER, STRANGER]))
    report = verify_bundle(path, KEYS)
    assert [c.name for c in report.cosigners] == [COSIGNER.name]
    assert report.ignored_signatures == (f"{STRANGER.name}+{STRANGER.key_id.hex()}",)
    assert "ignored 1 signature(s)" in report.checks[3]
    assert STRANGER.name in report.checks[3]
    both = verify_bundle(path, [*KEYS, STRANGER.verifier()])
    assert [c.name for c in both.cosigners] == [COSIGNER.name, STRANGER.name]
    assert both.ignored_signatures == ()


def test_a_forged_cosignature_by_a_given_cosigner_fails(tmp_path: Path) -> None:
    good = signed_checkpoint(cosigners=[])
    text = good[: good.index("\n\n") + 1]
    forged = COSIGNER.signer().sign(b"another text\n")  # a signature, but not of this text
    note = add_signatures(
        sign_note(text, [LOG.signer()]), [Signature(COSIGNER.name, COSIGNER.key_id, forged)]
    )
    path = write(tmp_path, signed_checkpoint=str(note))
    fails(path, rf"^checkpoint.txt: the signature by trusted key {re.escape(COSIGNER.name)}")
    assert verify_bundle(path, [LOG.verifier()]).ignored_signatures  # not given: ignored


def test_a_checkpoint_from_another_origin_fails(bundle: Path) -> None:
    other = signed_checkpoint(origin="gongkai.example/xihu")
    tamper(bundle, lambda items: items.update({"checkpoint.txt": other.encode()}))
    fails(bundle, r"^checkpoint.txt: origin 'gongkai.example/xihu' is not the manifest's origin")


def test_a_manifest_for_another_origin_fails(bundle: Path) -> None:
    def move(items: dict[str, bytes]) -> None:
        resign(items, manifest_change=lambda m: m.update(origin="gongkai.example/xihu"))

    tamper(bundle, move, signed=False)
    fails(bundle, r"^checkpoint.txt: origin 'gongkai.example/tianhai' is not the manifest's")


def test_a_manifest_signature_for_another_origin_fails(bundle: Path) -> None:
    def sign_other(items: dict[str, bytes]) -> None:
        digest = hashlib.sha256(items["manifest.json"]).hexdigest()
        text = manifest_sig_text("gongkai.example/xihu", digest)
        items["manifest.sig"] = str(sign_note(text, [LOG.signer()])).encode()

    tamper(bundle, sign_other, signed=False)
    fails(bundle, r"^manifest.json: origin 'gongkai.example/tianhai' is not the origin")


def test_a_checkpoint_of_another_size_fails(bundle: Path) -> None:
    smaller = signed_checkpoint(size=10)
    tamper(bundle, lambda items: items.update({"checkpoint.txt": smaller.encode()}))
    fails(bundle, r"^checkpoint.txt: tree size 10 is not the manifest's tree_size 12")


def test_a_checkpoint_too_small_for_the_range_fails(bundle: Path) -> None:
    def shrink(items: dict[str, bytes]) -> None:
        items["checkpoint.txt"] = signed_checkpoint(size=8).encode()
        resign(items, manifest_change=lambda m: m.update(tree_size=8))

    tamper(bundle, shrink, signed=False)
    fails(bundle, r"^manifest.json: tree_size: expected an integer from 9")


def test_keys_of_an_unsupported_type_are_refused(bundle: Path) -> None:
    class OddKey:
        name, key_id, sig_type, public_key, vkey = "odd", b"\0\0\0\1", 0x02, b"", ""

        def verify(self, text: bytes, signature: bytes) -> bool:
            return False

    fails(bundle, r"key odd\+00000001: signature type 0x02", keys=[*KEYS, OddKey()])


# --- malformed ZIPs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "evil",
    ["../evil.txt", "/etc/passwd", "attachments/../../x", "a\\b.txt", "./README.txt", "dir/"],
)
def test_unsafe_entry_names_fail(bundle: Path, evil: str) -> None:
    items = members(bundle)
    rezip(bundle, [*items.items(), (evil, b"x")])
    fails(bundle, rf"^{re.escape(repr(evil))}: unsafe entry name")


def test_a_symlink_entry_fails(bundle: Path) -> None:
    items = members(bundle)
    link = zipfile.ZipInfo("board.html")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    rezip(bundle, [(n, d) for n, d in items.items() if n != "board.html"])
    with zipfile.ZipFile(bundle, "a") as zf:
        zf.writestr(link, items["board.html"])
    fails(bundle, r"^board.html: not a regular file")


def test_a_duplicate_entry_name_fails(bundle: Path) -> None:
    items = members(bundle)
    rezip(bundle, [*items.items(), ("events.jsonl", b"{}\n")])
    fails(bundle, r"^events.jsonl: appears twice in the ZIP")


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22, -1])
def test_a_truncated_zip_fails(bundle: Path, keep: float) -> None:
    raw = bundle.read_bytes()
    cut = int(len(raw) * keep) if isinstance(keep, float) else keep % len(raw) if keep else 0
    bundle.write_bytes(raw[:cut])
    fails(bundle, r"^bundle.zip: not a readable ZIP file")


def test_a_missing_file_or_not_a_zip_fails(tmp_path: Path) -> None:
    fails(tmp_path / "nothing.zip", r"^nothing.zip: not a readable ZIP file")
    (tmp_path / "text.zip").write_text("not a zip\n")
    fails(tmp_path / "text.zip", r"^text.zip: not a readable ZIP file")


def test_an_oversized_entry_fails(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger.bundle.verify_zip.MAX_MEMBER_SIZE", 100)
    fails(bundle, r"bytes, more than the limit 100")


# --- malformed contents, signed: always the bundle's own error ---------------------------


def _set(field: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(events: list[dict[str, Any]]) -> None:
        events[1][field] = value

    return change


def _drop(field: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(events: list[dict[str, Any]]) -> None:
        del events[1][field]

    return change


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set("seq", True), r"events.jsonl: line 2: seq: expected an integer"),
        (_set("seq", "5"), r"events.jsonl: line 2: seq: expected an integer"),
        (_set("hash", "AB" * 32), r"entry 5: hash: expected lowercase hex"),
        (_set("originator_id", "ab" * 32), r"entry 5: originator_id: expected lowercase hex"),
        (_set("originator_version", 2**64), r"entry 5: originator_version: expected an integer"),
        (_set("state", "\ud800"), r"entry 5: .*surrogate"),
        (_set("state_base64", "AAAA"), r"entry 5: fields missing \[\], unexpected \['state"),
        (_set("topic", None), r"entry 5: topic: expected a string"),
        (_set("extra", 1), r"entry 5: fields missing \[\], unexpected \['extra'\]"),
        (_drop("prev_hash"), r"entry 5: fields missing \['prev_hash'\]"),
    ],
)
def test_malformed_events_fail_cleanly(
    bundle: Path, change: Callable[[list[dict[str, Any]]], None], match: str
) -> None:
    tamper(bundle, edit_events(change))
    fails(bundle, match)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"seq": 4,\n', r"events.jsonl: line 1: not valid JSON"),
        (b'{"seq": 4, "seq": 4}\n', r"line 1: not valid JSON: a key appears twice"),
        (b'{"seq": NaN}\n', r"line 1: not valid JSON: NaN"),
        (b"[4]\n", r"events.jsonl: line 1 is not a JSON object"),
        (b"\xff\n", r"events.jsonl: line 1: not valid JSON"),
        (b"", r"events.jsonl: ends before entry 4"),
        (b'{"seq": 4}', r"events.jsonl: line 1 does not end with a newline"),
    ],
)
def test_malformed_lines_fail_cleanly(bundle: Path, data: bytes, match: str) -> None:
    tamper(bundle, lambda items: items.update({"events.jsonl": data}))
    fails(bundle, match)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p: p.update(leaf_index=5), r"proofs.jsonl: entry 5: leaf_index: expected"),
        (lambda p: p.update(hashes=["!!"]), r"proofs.jsonl: entry 5: a proof hash is not base64"),
        (lambda p: p.update(hashes=["AAAA"]), r"proofs.jsonl: entry 5: a proof hash is 3 bytes"),
        (lambda p: p.update(hashes="AAAA"), r"proofs.jsonl: entry 5: hashes is not a list"),
        (lambda p: p["hashes"].pop(), r"proofs.jsonl: entry 5 is not shown .*too few hashes"),
    ],
)
def test_malformed_proofs_fail_cleanly(
    bundle: Path, change: Callable[[dict[str, Any]], None], match: str
) -> None:
    def apply(items: dict[str, bytes]) -> None:
        proofs = lines_of(items["proofs.jsonl"])
        change(proofs[1])
        items["proofs.jsonl"] = jsonl(proofs)

    tamper(bundle, apply)
    fails(bundle, match)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.update(format="gongkai-bundle/v2"), r"manifest.json: format"),
        (lambda m: m.update(extra=1), r"manifest.json: fields missing \[\], unexpected"),
        (lambda m: m.pop("files"), r"manifest.json: fields missing \['files'\]"),
        (lambda m: m.update(community="Bad Id"), r"manifest.json: community ID"),
        (lambda m: m["range"].update(first_seq=0), r"manifest.json: first_seq"),
        (lambda m: m["range"].update({"from": "2024-13-01"}), r"manifest.json: from: not an ISO"),
        (lambda m: m.update(created_at="yesterday"), r"manifest.json: created_at"),
        (lambda m: m.update(attachments_missing=["x"]), r"manifest.json: attachments_missing"),
        (lambda m: m.update(files=[]), r"manifest.json: files is not an object"),
    ],
)
def test_malformed_manifests_fail_cleanly(
    bundle: Path, change: Callable[[dict[str, Any]], None], match: str
) -> None:
    tamper(bundle, lambda items: resign(items, manifest_change=change), signed=False)
    fails(bundle, match)


def test_random_damage_never_escapes_as_another_error(bundle: Path) -> None:
    """Whatever byte of the file is changed, the verifier either accepts (a byte outside
    anything signed, such as a ZIP timestamp) or raises BundleVerificationError."""
    raw = bundle.read_bytes()
    rng = random.Random(6962)
    rejected = 0
    for _ in range(300):
        damaged = bytearray(raw)
        damaged[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        bundle.write_bytes(bytes(damaged))
        try:
            verify_bundle(bundle, KEYS)
        except BundleVerificationError:
            rejected += 1
    assert rejected > 200


def test_a_zip_built_in_memory_by_hand_still_verifies(bundle: Path) -> None:
    """The format does not depend on how the ZIP was written: rezipped, it verifies."""
    items = members(bundle)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name in reversed(list(items)):
            zf.writestr(name, items[name])
    bundle.write_bytes(buffer.getvalue())
    assert verify_bundle(bundle, KEYS).entries == 6


# --- the list of attachments the store does not hold ------------------------------------


def test_the_missing_list_must_be_ascending_and_unique(tmp_path: Path) -> None:
    """The writer refuses an unordered, repeated or upper-case list, and leaves no file."""
    two = sorted(["a" * 64, "b" * 64])
    for bad in (two[::-1], [two[0], two[0]], ["A" * 64]):
        with pytest.raises(ValueError, match=r"attachments_missing|missing attachment"):
            write_bundle(tmp_path / "x.zip", make_contents(attachments_missing=bad), LOG.signer())
    assert list(tmp_path.iterdir()) == []


def _with_missing(lines: list[str]) -> Callable[[dict[str, bytes]], None]:
    def change(items: dict[str, bytes]) -> None:
        items["attachments-missing.txt"] = "".join(f"{x}\n" for x in lines).encode()

    return change


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["b" * 64, "a" * 64], "ascending order"),
        (["a" * 64, "a" * 64], "ascending order"),
        (["A" * 64, "b" * 64], "lowercase hex"),
        (["a" * 64], "lists 1 attachments; manifest.json says 2"),
    ],
)
def test_a_rewritten_missing_list_fails(tmp_path: Path, lines: list[str], message: str) -> None:
    """An operator who rewrites the list and re-signs the manifest is still caught."""
    bundle = tmp_path / "bundle.zip"
    write_bundle(bundle, make_contents(attachments_missing=["a" * 64, "b" * 64]), LOG.signer())
    tamper(bundle, _with_missing(lines))
    with pytest.raises(BundleVerificationError, match=message):
        verify_bundle(bundle, KEYS)


def test_an_attachment_both_held_and_listed_missing_fails(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    write_bundle(bundle, make_contents(), LOG.signer())
    listed = sorted([*MISSING, sorted(ATTACHMENTS)[0]])
    items = members(bundle)
    _with_missing(listed)(items)
    resign(items, manifest_change=lambda m: m.update(attachments_missing=len(listed)))
    rezip(bundle, items.items())
    with pytest.raises(BundleVerificationError, match="is in the bundle"):
        verify_bundle(bundle, KEYS)


# --- proofs.jsonl lines, fast and exact ---------------------------------------------------


def test_proof_lines_are_byte_for_byte_json_lines() -> None:
    rng = random.Random(7)
    pool = [rng.randbytes(32) for _ in range(30)]
    lines = ProofLines()
    proofs = [merkle.inclusion_proof(i, SIZE, read_nodes) for i in range(SIZE)]
    # Neighbours (shared tops), then unrelated proofs of other lengths, empty, repeated.
    proofs += [rng.sample(pool, rng.randrange(0, 25)) for _ in range(200)]
    proofs += [[], [], proofs[0], proofs[0][:1], pool[:3], pool[1:3]]
    for seq, proof in enumerate(proofs, start=1):
        assert lines.line(seq, proof) == json_line(proof_json(seq, proof)), seq


def test_proofs_in_another_json_form_verify_alike(bundle: Path) -> None:
    """The verifier reads the writer's own form without a JSON parser; any other valid
    form of the same objects is parsed in full and verifies the same."""

    def reform(items: dict[str, bytes]) -> None:
        proofs = lines_of(items["proofs.jsonl"])
        items["proofs.jsonl"] = b"".join(
            json.dumps(dict(reversed(list(p.items()))), separators=(",", ":")).encode() + b"\n"
            for p in proofs
        )

    tamper(bundle, reform)
    assert verify_bundle(bundle, KEYS).entries == 6


@pytest.mark.parametrize(
    ("form", "match"),
    [
        (lambda p: {**p, "hashes": [h[:-1] + "A" for h in p["hashes"]]}, "is 33 bytes"),
        (lambda p: {**p, "hashes": [h[:-2] + "$=" for h in p["hashes"]]}, "not base64"),
        (lambda p: {**p, "hashes": p["hashes"][1:]}, "too few hashes"),
        (lambda p: {**p, "hashes": [*p["hashes"], p["hashes"][0]]}, "too many hashes"),
        (lambda p: {**p, "hashes": p["hashes"][::-1]}, "does not lead to the expected root"),
    ],
)
def test_a_damaged_proof_in_the_writers_form_fails(
    bundle: Path, form: Callable[[dict[str, Any]], dict[str, Any]], match: str
) -> None:
    def damage(items: dict[str, bytes]) -> None:
        proofs = lines_of(items["proofs.jsonl"])
        proofs[2] = form(proofs[2])
        items["proofs.jsonl"] = b"".join(json_line(p) for p in proofs)

    tamper(bundle, damage)
    fails(bundle, rf"^proofs.jsonl: entry 6 .*{match}|^proofs.jsonl: entry 6: .*{match}")


EVENT_FIELDS = [
    *("seq", "prev_hash", "hash", "originator_id", "originator_version", "topic"),
    *("state", "state_base64", "extra"),
]
_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2**64 + 1),
    st.sampled_from(["", "ab" * 32, "AB" * 32, "ab" * 16, "ab" * 31 + "a ", "\ud800", "天海"]),
    st.text(max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(EVENT_FIELDS),
        _FIELD_VALUES,
    ),
    st.booleans(),
)
def test_the_fast_event_reader_agrees_with_the_checked_one(
    changes: dict[str, Any], keep_the_rest: bool
) -> None:
    """events.jsonl objects of the usual form are read without composing messages; for any
    object, that reading gives the checked reading's row, or declines it."""
    from ledger.bundle.verify_lines import _checked_event, _well_formed_event

    good = lines_of(members_of_a_bundle())[0]
    obj = {**good, **changes} if keep_the_rest else changes
    fast = _well_formed_event(obj)
    try:
        checked = _checked_event(1, obj)
    except BundleVerificationError:
        assert fast is None
    else:
        assert fast is None or fast == checked
    if obj == good:
        assert fast is not None


_EVENTS_OF_A_BUNDLE: list[bytes] = []


def members_of_a_bundle() -> bytes:
    """events.jsonl of a written bundle, made once."""
    if not _EVENTS_OF_A_BUNDLE:
        with tempfile.TemporaryDirectory() as directory:
            path = write(Path(directory))
            _EVENTS_OF_A_BUNDLE.append(members(path)["events.jsonl"])
    return _EVENTS_OF_A_BUNDLE[0]


def test_the_proof_reader_reads_back_every_line_the_writer_writes() -> None:
    """Lines that share their ends with the line before, and lines that do not: the
    reader that reuses the shared hashes reads what the JSON says, every time."""
    from ledger.bundle.verify_lines import ProofParser

    rng = random.Random(11)
    pool = [rng.randbytes(32) for _ in range(30)]
    proofs = [merkle.inclusion_proof(i, SIZE, read_nodes) for i in range(SIZE)]
    proofs += [rng.sample(pool, rng.randrange(0, 25)) for _ in range(200)]
    proofs += [[], pool[:3], pool[1:3], pool[:3], [pool[2]], pool[:5][::-1], pool[:5]]
    proofs += [[*p[:2], *rng.sample(pool, 3)] for p in proofs[-60:]]
    reader, lines = ProofParser(), ProofLines()
    for seq, proof in enumerate(proofs, start=1):
        line = lines.line(seq, proof)
        assert reader.parse(seq, line.removesuffix(b"\n")) == (seq, list(proof)), seq


@settings(max_examples=300, deadline=None)
@given(
    topic=st.text(max_size=12),
    state=st.text(max_size=40),
    seq=st.sampled_from([0, 1, 7, 2**64 - 1, 2**64]),
    version=st.sampled_from([0, 1, 2**64 - 1, 2**64, -1]),
    ascii_only=st.booleans(),
)
def test_the_event_line_reader_reads_what_the_json_says(
    topic: str, state: str, seq: int, version: int, ascii_only: bool
) -> None:
    """The reader of the writer's own line form (no dict built) gives the row the JSON
    parse gives, for any strings: quotes, backslashes, control characters, lone
    surrogates, text that looks like the next key; and fails alike where that fails."""
    from ledger.bundle.verify_lines import _parse_event
    from ledger.bundle.verify_lines import read_event as _read_event

    obj = {
        "seq": seq,
        "prev_hash": "ab" * 32,
        "hash": "cd" * 32,
        "originator_id": "ef" * 16,
        "originator_version": version,
        "topic": topic,
        "state": state,
    }
    line = (json.dumps(obj, ensure_ascii=ascii_only) + "\n").encode("utf-8", "surrogatepass")
    line = line.removesuffix(b"\n")
    try:
        expected: Any = _parse_event(1, json.loads(line.decode("utf-8")))
    except (BundleVerificationError, ValueError) as e:
        expected = type(e)
    try:
        actual: Any = _read_event(1, line)
    except (BundleVerificationError, ValueError) as e:
        actual = type(e)
    if expected is ValueError:  # not UTF-8: the reader says so as a bundle failure
        assert actual is BundleVerificationError
    else:
        assert actual == expected


@settings(max_examples=300, deadline=None)
@given(
    topic=st.binary(max_size=12)
    | st.text(max_size=12).map(lambda t: t.encode("utf-8", "replace")),
    state=st.binary(max_size=40)
    | st.text(max_size=40).map(lambda t: t.encode("utf-8", "replace")),
    seq=st.integers(1, 2**64 - 1),
    version=st.integers(0, 2**64 - 1),
)
def test_event_lines_are_byte_for_byte_json_lines(
    topic: bytes, state: bytes, seq: int, version: int
) -> None:
    from ledger.bundle.format import event_json, event_line

    row = (seq, bytes(32), bytes(range(32)), bytes(range(16)), version, topic, state)
    try:
        expected = json_line(event_json(row))
    except ValueError:  # a topic that is not UTF-8
        with pytest.raises(ValueError, match="topic is not UTF-8"):
            event_line(row)
    else:
        assert event_line(row) == expected


def test_a_failing_write_reaches_the_writer_and_stops_its_thread() -> None:
    """The lines' writing thread hands a failure of the file (a full disk) back to the
    caller, and leaving the block stops the thread whatever happened."""
    from ledger.bundle.stream import Chunked as _Chunked

    class Full(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    def fill(lines: _Chunked) -> str:
        for _ in range(5):
            lines.write(b"x" * (1 << 20))
        return lines.close()

    with _Chunked(Full()) as lines, pytest.raises(OSError, match="No space left"):
        fill(lines)
    assert not lines._thread.is_alive()

    out = io.BytesIO()
    with _Chunked(out) as lines:
        for i in range(3000):
            lines.write(b"%d\n" % i)
        digest = lines.close()
    assert out.getvalue() == b"".join(b"%d\n" % i for i in range(3000))
    assert digest == hashlib.sha256(out.getvalue()).hexdigest()
    assert not lines._thread.is_alive()

    def stop(lines: _Chunked) -> None:
        lines.write(b"data\n")
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"), _Chunked(io.BytesIO()) as lines:
        stop(lines)
    assert not lines._thread.is_alive()


# --- proofs checked in a process of their own (large bundles) ---------------------------


def _lines_edit(name: str, change: Callable[[list[bytes]], list[bytes]]) -> Callable[..., None]:
    def apply(items: dict[str, bytes]) -> None:
        items[name] = b"".join(change(items[name].splitlines(keepends=True)))

    return apply


def _break_proof(index: int) -> Callable[[list[bytes]], list[bytes]]:
    def change(lines: list[bytes]) -> list[bytes]:
        proof = json.loads(lines[index])
        proof["hashes"] = proof["hashes"][1:]
        lines[index] = json_line(proof)
        return lines

    return change


def _break_event(index: int) -> Callable[[list[bytes]], list[bytes]]:
    def change(lines: list[bytes]) -> list[bytes]:
        event = json.loads(lines[index])
        event["originator_version"] += 1  # its hash no longer matches
        lines[index] = json_line(event)
        return lines

    return change


def _both(first: Callable[..., None], second: Callable[..., None]) -> Callable[..., None]:
    def apply(items: dict[str, bytes]) -> None:
        first(items)
        second(items)

    return apply


SCENARIOS: dict[str, tuple[Callable[[dict[str, bytes]], None] | None, bool]] = {
    "intact": (None, True),
    "a flipped byte in proofs.jsonl": (None, False),  # flipped below
    "an extra proof line": (_lines_edit("proofs.jsonl", lambda ls: [*ls, ls[-1]]), True),
    "a missing proof line": (_lines_edit("proofs.jsonl", lambda ls: ls[:-1]), True),
    "swapped proof lines": (_lines_edit("proofs.jsonl", lambda ls: [ls[1], ls[0], *ls[2:]]), True),
    "a proof too short": (_lines_edit("proofs.jsonl", _break_proof(3)), True),
    "an entry too short": (_lines_edit("events.jsonl", lambda ls: ls[:-1]), True),
    "a proof before a bad entry": (
        _both(
            _lines_edit("proofs.jsonl", _break_proof(2)),
            _lines_edit("events.jsonl", _break_event(4)),
        ),
        True,
    ),
    "a bad entry before a bad proof": (
        _both(
            _lines_edit("proofs.jsonl", _break_proof(4)),
            _lines_edit("events.jsonl", _break_event(2)),
        ),
        True,
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_proof_worker_says_what_the_verifier_in_one_process_says(
    tmp_path: Path, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bundle, verified with the proofs checked in this process and in a process
    of their own: the same report, or the same first failure, word for word."""
    import ledger.bundle.verify

    change, signed = SCENARIOS[scenario]
    path = write(tmp_path, 1, 9)
    if scenario == "a flipped byte in proofs.jsonl":
        items = members(path)
        data = bytearray(items["proofs.jsonl"])
        data[len(data) // 2] ^= 0x01
        items["proofs.jsonl"] = bytes(data)
        rezip(path, items.items())
    elif change is not None:
        tamper(path, change, signed=signed)

    def outcome() -> str:
        try:
            report = verify_bundle(path, KEYS)
        except BundleVerificationError as e:
            return f"FAILED {e}"
        return json.dumps(report.as_dict()["checks"])

    alone = outcome()
    monkeypatch.setattr(ledger.bundle.verify, "PARALLEL_FROM", 0)
    assert outcome() == alone
    assert alone.startswith("FAILED") == (scenario != "intact"), alone
    if scenario == "a flipped byte in proofs.jsonl":
        assert "proofs.jsonl: its SHA-256" in alone


# --- step 8: the files the entries name ---------------------------------------------------


def _drop_attachment(items: dict[str, bytes]) -> None:
    del items[f"attachments/{sorted(ATTACHMENTS)[0]}"]


def _add_unnamed_attachment(items: dict[str, bytes]) -> None:
    extra = b"%PDF-1.4 a file no entry names"
    items[f"attachments/{hashlib.sha256(extra).hexdigest()}"] = extra


def test_an_attachment_dropped_from_the_bundle_and_the_missing_list_fails(bundle: Path) -> None:
    """An operator who leaves a file out, and out of the missing list too, re-signing the
    manifest: the entry that names it still does."""
    tamper(bundle, _drop_attachment)
    fails(bundle, rf"^events.jsonl: an entry names the file {sorted(ATTACHMENTS)[0]}, which")


def test_an_attachment_no_entry_names_fails(bundle: Path) -> None:
    tamper(bundle, _add_unnamed_attachment)
    fails(bundle, r"^attachments/[0-9a-f]{64}: in the bundle, but no entry names it")


def test_a_missing_file_no_entry_names_fails(tmp_path: Path) -> None:
    listed = sorted([*MISSING, "f" * 64])
    bundle = write(tmp_path, attachments_missing=listed)
    fails(bundle, rf"^attachments-missing.txt: lists {'f' * 64}, which no entry")


def test_a_named_file_neither_held_nor_listed_fails(tmp_path: Path) -> None:
    """The writer itself given too little: a voucher the range names, not listed."""
    bundle = write(tmp_path, attachments_missing=[])
    fails(bundle, rf"^events.jsonl: an entry names the file {MISSING[0]}, which is neither")


def test_files_held_from_disk_are_checked_as_they_are_copied(tmp_path: Path) -> None:
    """Attachments given as files are streamed into the bundle; a file on disk that is
    not the bytes of its name stops the export with nothing written."""
    on_disk = {}
    for digest, data in ATTACHMENTS.items():
        (tmp_path / digest).write_bytes(data)
        on_disk[digest] = tmp_path / digest
    report = verify_bundle(write(tmp_path, attachments=on_disk), KEYS)
    assert report.attachments == len(ATTACHMENTS)
    changed = sorted(ATTACHMENTS)[1]
    (tmp_path / changed).write_bytes(b"%PDF-1.4 replaced on disk")
    out = tmp_path / "second.zip"
    with pytest.raises(ValueError, match="not the attachment it is named for"):
        write_bundle(out, make_contents(attachments=on_disk), LOG.signer())
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix) == ["bundle.zip"]
