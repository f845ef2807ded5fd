"""``gongkai verify``: the chain, the stored checkpoints, and checkpoints held outside.

gongkai verify [--community ID] [--log-key VKEY ...] [--checkpoint FILE ...]
               [--witness-state FILE] [--expect-head SEQ:HASH] [--json]

A database owner can rewrite the chain, rebuild the tree and delete the stored
checkpoints; what they cannot reach is a checkpoint held elsewhere. So besides every
checkpoint in the store, verify checks the store against:

- the signer state beside the log key (``KEYS_DIR/ID.log.state``), read when present;
- each ``--checkpoint FILE``: any checkpoint note held outside (a witness's, a printed
  sheet's, a bundle's, an auditor's copy), matched to the community its origin names;
- the witness's state file (``--witness-state``), which holds the latest checkpoint it
  cosigned for each origin.

And it says what it could not check:

- with a log key known (given, or ``ID.log.vkey`` in the keys directory), a store with
  no checkpoint, or with fewer than a checkpoint held outside, fails: the database has
  lost signed checkpoints;
- without any log key, signatures are not checked: the result is "unverified", exit 3.

Exit status: 0 verified; 1 a failure (the first is named); 3 unverified; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from api.cli.common import (
    EXIT_OK,
    EXIT_UNVERIFIED,
    EXIT_VERIFY_FAILED,
    UsageError,
    add_db,
)
from api.service.keyfiles import DEFAULT_KEYS_DIR, log_key_path, vkey_path
from ledger.chain.hashing import Head
from ledger.chain.verify import ChainIntegrityError, VerifiedChain, verify_store
from ledger.errors import FormatError, GongkaiError
from ledger.seal.checkpoint import Checkpoint, parse_checkpoint
from ledger.seal.key_files import read_public_file
from ledger.seal.note import NoteVerifier, parse_note, parse_vkey
from ledger.seal.signer_state import MAX_STATE_BYTES, state_path
from ledger.seal.verify import (
    CheckpointMismatchError,
    VerifiedCheckpoints,
    verify_checkpoints_against,
)
from ledger.seal.witness import WitnessState
from ledger.store import open_store
from ledger.store.backend import Store
from ledger.store.base import StoredCheckpoint


class ProgressLine:
    """A one-line progress display on a terminal, redrawn at most ten times a second."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1 and done < total:
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        share = f" ({100 * done // total}%)" if total else ""
        self.stream.write(
            f"\r{self.label}: {done:,}/{total:,}{share}, {rate:,.0f} entries/s\033[K"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


# --- checkpoints held outside ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutsideCheckpoint:
    """A checkpoint from outside the store: where it came from, and its note."""

    source: str
    checkpoint: Checkpoint
    note: str

    def community(self) -> str:
        """The community the origin names (``<host>/<community>``)."""
        return self.checkpoint.origin.rsplit("/", 1)[-1]

    def stored(self) -> StoredCheckpoint:
        c = self.checkpoint
        return StoredCheckpoint(c.size, c.root, self.note, f"outside ({self.source})")


def _read_checkpoint(path: Path, what: str) -> OutsideCheckpoint:
    try:
        data = read_public_file(path, MAX_STATE_BYTES, what)
        note = data.decode("utf-8")
        checkpoint = parse_checkpoint(parse_note(note).text)
    except (UnicodeDecodeError, FormatError) as e:
        raise UsageError(f"{path} is not a checkpoint note: {e}") from None
    except GongkaiError as e:
        raise UsageError(str(e)) from None
    if "/" not in checkpoint.origin:
        raise UsageError(f"{path}: origin {checkpoint.origin!r} names no community")
    return OutsideCheckpoint(str(path), checkpoint, note)


def _from_witness(path: Path, origins: set[str]) -> list[OutsideCheckpoint]:
    if not path.is_file():
        raise UsageError(f"no witness state at {path}")
    found = []
    for origin in sorted(origins):
        latest = WitnessState(path).latest(origin)
        if latest is not None:
            checkpoint = parse_checkpoint(parse_note(latest.note).text)
            found.append(OutsideCheckpoint(f"witness state {path}", checkpoint, latest.note))
    return found


# --- one community -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    chain: VerifiedChain | ChainIntegrityError
    seal: VerifiedCheckpoints | CheckpointMismatchError | None = None
    #: Signatures checked with a log key; False when none was known.
    keyed: bool = False
    outside: tuple[OutsideCheckpoint, ...] = ()
    #: The store lost signed checkpoints (none stored, or fewer than held outside).
    lost: str | None = None


@dataclass
class Request:
    """What the command was asked to check against."""

    args: argparse.Namespace
    outside: list[OutsideCheckpoint] = field(default_factory=list)

    def log_keys(self, community_id: str) -> list[NoteVerifier]:
        """--log-key, else the community's .vkey file in the keys directory. Never read
        from the database being checked."""
        if self.args.log_key:
            return [parse_vkey(k) for k in self.args.log_key]
        path = vkey_path(log_key_path(Path(self.args.keys_dir), community_id))
        return [parse_vkey(path.read_text(encoding="utf-8").strip())] if path.exists() else []

    def outside_of(
        self, community_id: str, keys: Sequence[NoteVerifier]
    ) -> list[OutsideCheckpoint]:
        held = [o for o in self.outside if o.community() == community_id]
        state = state_path(log_key_path(Path(self.args.keys_dir), community_id))
        if state.is_file():
            held.append(_read_checkpoint(state, "signer state"))
        if self.args.witness_state:
            origins = {k.name for k in keys} | {o.checkpoint.origin for o in held}
            held += _from_witness(Path(self.args.witness_state), origins)
        return held


def _verify_one(
    store: Store, community_id: str, expect: Head | None, request: Request
) -> VerifyOutcome:
    args = request.args
    show_progress = not args.json and sys.stderr.isatty()
    progress = ProgressLine(f"verifying {community_id}", sys.stderr) if show_progress else None
    try:
        chain = verify_store(store, community_id, expect_head=expect, on_progress=progress)
    except ChainIntegrityError as e:
        return VerifyOutcome(e)
    finally:
        if progress is not None:
            progress.close()
    keys = request.log_keys(community_id)
    outside = tuple(request.outside_of(community_id, keys))
    stored = store.seal(community_id).checkpoints(limit=1 << 30)
    try:
        seal = _check_all(store, community_id, stored, outside, keys)
    except CheckpointMismatchError as e:
        return VerifyOutcome(chain, e, bool(keys), outside)
    return VerifyOutcome(chain, seal, bool(keys), outside, _lost(stored, outside, keys))


def _check_all(
    store: Store,
    community_id: str,
    stored: Sequence[StoredCheckpoint],
    outside: Sequence[OutsideCheckpoint],
    keys: Sequence[NoteVerifier],
) -> VerifiedCheckpoints:
    """Every stored and outside checkpoint against the chain, in one streaming pass."""
    # Outside checkpoints are checked like stored ones, signatures included: a copy
    # the log key did not sign is no evidence either way.
    everything = [*stored, *(o.stored() for o in outside)]
    if not everything:
        return VerifiedCheckpoints(0, 0, None)
    rows = store.chain_rows(community_id)
    try:
        verified = verify_checkpoints_against(community_id, everything, rows, log_keys=keys)
    finally:
        rows.close()
    latest = max((c.tree_size for c in stored), default=0)
    return VerifiedCheckpoints(len(stored), latest, verified.signed_by)


def _lost(
    stored: Sequence[StoredCheckpoint],
    outside: Sequence[OutsideCheckpoint],
    keys: Sequence[NoteVerifier],
) -> str | None:
    if keys and not stored:
        return (
            "a log key is known but the store holds no signed checkpoint: the database "
            "has lost its checkpoints (or the log was never sealed)"
        )
    latest = max((c.tree_size for c in stored), default=0)
    ahead = [o for o in outside if o.checkpoint.size > latest]
    if ahead:
        best = max(ahead, key=lambda o: o.checkpoint.size)
        return (
            f"the store's latest checkpoint has size {latest}, but a checkpoint of size "
            f"{best.checkpoint.size} was signed ({best.source}): the database has lost "
            "signed checkpoints"
        )
    return None


# --- reports -----------------------------------------------------------------------------


def _verify_report(outcome: VerifyOutcome) -> dict[str, Any]:
    chain = outcome.chain
    if isinstance(chain, ChainIntegrityError):
        return {
            "community": chain.community_id,
            "ok": False,
            "status": "failed",
            "seq": chain.seq,
            "defect": chain.defect.value,
            "detail": chain.detail,
        }
    report: dict[str, Any] = {
        "community": chain.community_id,
        "ok": True,
        "status": "ok" if outcome.keyed else "unverified",
        "count": chain.count,
        "head": str(chain.head) if chain.count else None,
        "signatures": "checked" if outcome.keyed else "not checked: no log key",
        "outside": [{"source": o.source, "size": o.checkpoint.size} for o in outcome.outside],
    }
    seal = outcome.seal
    if isinstance(seal, CheckpointMismatchError):
        report.update(
            ok=False,
            status="failed",
            checkpoint=seal.tree_size,
            defect="checkpoint mismatch",
            detail=seal.detail,
        )
        return report
    if seal is not None and seal.count:
        report["checkpoints"] = {
            "count": seal.count,
            "latest_size": seal.latest_size,
            "signatures_checked_with": seal.signed_by,
        }
    if outcome.lost is not None:
        report.update(ok=False, status="failed", defect="checkpoints lost", detail=outcome.lost)
    return report


def _verify_line(r: dict[str, Any]) -> str:
    if r["status"] == "failed" and "checkpoint" in r:
        return (
            f"{r['community']}: FAILED at the checkpoint of size {r['checkpoint']}: {r['detail']}"
        )
    if r["status"] == "failed" and "seq" in r:
        return f"{r['community']}: FAILED at entry {r['seq']}: {r['defect']}: {r['detail']}"
    if r["status"] == "failed":
        return f"{r['community']}: FAILED: {r['detail']}"
    line = f"{r['community']}: intact, {r['count']:,} entries, head {r['head'] or 'empty'}"
    cps = r.get("checkpoints")
    if cps and cps["count"]:
        line += f"; {cps['count']} signed checkpoint(s) match, latest of size {cps['latest_size']}"
        if cps["signatures_checked_with"]:
            line += f", signatures checked with {cps['signatures_checked_with']}"
    if r["outside"]:
        held = ", ".join(f"{o['source']} (size {o['size']})" for o in r["outside"])
        line += f"; consistent with checkpoints held outside: {held}"
    if r["status"] == "unverified":
        line += (
            "\n  UNVERIFIED: signatures were not checked, no log key is known: give "
            "--log-key VKEY or put ID.log.vkey in the keys directory"
        )
    return line


def _status(reports: Sequence[dict[str, Any]]) -> str:
    """Failed over unverified over ok; an empty store is ok (there is nothing to prove)."""
    statuses = {r["status"] for r in reports}
    return next((s for s in ("failed", "unverified") if s in statuses), "ok")


EXIT_FOR: dict[str, int] = {
    "ok": EXIT_OK,
    "failed": EXIT_VERIFY_FAILED,
    "unverified": EXIT_UNVERIFIED,
}


def cmd_verify(args: argparse.Namespace) -> int:
    expect = None
    if args.expect_head:
        try:
            expect = Head.parse(args.expect_head)
        except ValueError as e:
            raise UsageError(f"--expect-head: {e}") from None
    request = Request(
        args, [_read_checkpoint(Path(f), "checkpoint") for f in args.checkpoint or ()]
    )
    with open_store(args.db) as store:
        if args.community:
            ids = [store.community(args.community).id]
        else:
            ids = [c.id for c in store.communities()]
            if expect is not None and len(ids) != 1:
                raise UsageError("--expect-head needs --community when there are several")
        for held in request.outside:
            if held.community() not in ids:
                raise UsageError(
                    f"{held.source}: origin {held.checkpoint.origin!r} names no community "
                    f"being verified ({', '.join(ids) or 'none'})"
                )
        outcomes = [_verify_one(store, cid, expect, request) for cid in ids]
    reports = [_verify_report(o) for o in outcomes]
    status = _status(reports)
    if args.json:
        body = {"ok": status == "ok", "status": status, "communities": reports}
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(_verify_line(r))
        if not ids:
            print("no communities in this store")
    return EXIT_FOR[status]


def add_verify_command(sub: Any) -> None:
    verify = sub.add_parser(
        "verify", help="recompute every chain hash; check the checkpoints, inside and out"
    )
    add_db(verify)
    verify.add_argument("--community", metavar="ID", help="only this community")
    verify.add_argument(
        "--expect-head", metavar="SEQ:HASH", help="a head printed by an earlier verify"
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument(
        "--log-key",
        metavar="VKEY",
        action="append",
        help="check checkpoint signatures with this log verifier key "
        "(default: KEYS_DIR/ID.log.vkey if present)",
    )
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        action="append",
        help="a signed checkpoint held outside the store (a witness's, a sheet's QR, a "
        "bundle's, an auditor's copy): the store must be consistent with it",
    )
    verify.add_argument(
        "--witness-state",
        metavar="FILE",
        help="a witness's state file: the latest checkpoint it cosigned must match",
    )
    verify.add_argument(
        "--keys-dir",
        metavar="DIR",
        default=str(DEFAULT_KEYS_DIR),
        help="default data/keys (the log's .vkey and signer state are read from it)",
    )
    verify.set_defaults(func=cmd_verify)
