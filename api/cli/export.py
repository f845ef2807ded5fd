"""``gongkai export``: gather a range of a community's log into a signed archive bundle.

The range is chosen by the time each entry was recorded, as a date in China Standard
Time (UTC+8, no daylight saving): a quarter (``2026Q3``) or ``--from``/``--to`` dates,
both inclusive. The bundle holds the contiguous run of entries from the first to the
last one recorded in the range (so its links can be checked), up to the latest signed
checkpoint, with each entry's inclusion proof in that checkpoint. See
:mod:`ledger.bundle.write` for the format and the offline checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ledger.attachments import FileAttachmentStore
from ledger.bundle.contents import BundleContents, BundleSummary, ProofWriter
from ledger.bundle.named_files import SortedDigests, named_files
from ledger.bundle.personal_keys import key_ids_in, personal_keys_json
from ledger.bundle.proof_writer import ProofWriterProcess
from ledger.bundle.write import write_bundle
from ledger.errors import InvalidInputError, NotFoundError
from ledger.seal.community_log import CommunityLog
from ledger.seal.keys import PrivateKey
from ledger.seal.merkle import inclusion_proofs
from ledger.store.backend import Store
from ledger.store.base import Community, RawRow, StoredCheckpoint
from ledger.store.seal import BlockReader
from projections.board import BoardFold, render_board_html

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
_QUARTER = re.compile(r"(\d{4})Q([1-4])")


@dataclass(frozen=True, slots=True)
class DateRange:
    first: dt.date | None
    last: dt.date | None
    period: str | None

    def __contains__(self, day: dt.date) -> bool:
        return (self.first is None or day >= self.first) and (
            self.last is None or day <= self.last
        )


def parse_range(period: str | None, date_from: str | None, date_to: str | None) -> DateRange:
    """``2026Q3`` or ISO dates; clear errors for anything else."""
    if period and (date_from or date_to):
        raise InvalidInputError("give --period or --from/--to, not both", field="period")
    if period:
        match = _QUARTER.fullmatch(period)
        if match is None:
            raise InvalidInputError(f"--period must look like 2026Q3, not {period!r}")
        year, quarter = int(match.group(1)), int(match.group(2))
        first = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
        return DateRange(first, after - dt.timedelta(days=1), period)
    try:
        start = dt.date.fromisoformat(date_from) if date_from else None
        end = dt.date.fromisoformat(date_to) if date_to else None
    except ValueError as e:
        raise InvalidInputError(f"dates are YYYY-MM-DD: {e}") from None
    if start and end and start > end:
        raise InvalidInputError("--from is after --to")
    return DateRange(start, end, None)


# Events store their timestamp first; reading it without parsing the whole state keeps a
# scan of a million entries quick. Anything unusual falls back to parsing JSON.
_TIMESTAMP = re.compile(rb'^\{"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"')


def recorded_day(state: bytes) -> dt.date | None:
    """The China-time date an event was recorded, from its stored ``timestamp``."""
    try:
        match = _TIMESTAMP.match(state)
        if match is not None:
            text = match.group(1).decode()
        else:
            value: Any = json.loads(state)["timestamp"]
            text = value["_data_"] if isinstance(value, dict) else value
        return dt.datetime.fromisoformat(text).astimezone(CHINA_TIME).date()
    except (ValueError, KeyError, TypeError):
        return None


def _chain_range(log: CommunityLog, first: int, last: int) -> Iterator[RawRow]:
    """Entries ``first..last`` in order, read a page at a time."""
    after = first - 1
    while after < last:
        page = log.seal.chain_rows(after, min(10_000, last - after))
        if not page:
            return
        yield from page
        after = page[-1][0]


@dataclass(slots=True)
class _Found:
    """What the first pass over the chain finds."""

    first: int = 0
    last: int = 0
    referenced: SortedDigests = field(default_factory=SortedDigests)
    board: BoardFold = field(default_factory=BoardFold)


#: From this many entries the proofs are worked out, checked and written by a process of
#: their own beside the entries (ledger.bundle.proof_writer): two cores for a long range.
PARALLEL_FROM: Final = 50_000

#: Rows after the last one in the range so far are held back from the board until the
#: next one in the range comes; past this many, the board is finished by a second read.
HOLD_LIMIT: Final = 20_000


def _scan(store: Store, log: CommunityLog, size: int, dates: DateRange) -> _Found:
    """One read of entries 1..``size``: the first and last recorded in ``dates``, the
    attachments entries first..last name, and the board folded up to the last."""
    found = _Found()
    held: list[RawRow] | None = []  # rows after found.last, not folded (None: too many)
    resume = 0  # with held None: the first row not folded
    scan = store.chain_rows(log.community_id)
    for row in scan:
        seq = row[0]
        if seq > size:
            scan.close()
            break
        day = recorded_day(row[6])
        in_range = day is not None and day in dates
        if found.first or in_range:
            for digest in named_files(row[6]):
                found.referenced.add(digest)
        if in_range:
            if held:
                for earlier in held:
                    found.board.apply(earlier)
                held.clear()
            if held is not None:
                found.board.apply(row)
            found.first = found.first or seq
            found.last = seq
            found.referenced.keep()
        elif not found.first:
            found.board.apply(row)  # before the range: on the board at its end
        elif held is not None:
            held.append(row)
            if len(held) > HOLD_LIMIT:
                resume, held = held[0][0], None
    if held is None and resume <= found.last:
        for row in _chain_range(log, resume, found.last):
            found.board.apply(row)
    return found


def export_bundle(
    store: Store,
    community_id: str,
    dates: DateRange,
    output: Path,
    log_key: PrivateKey,
    *,
    overwrite: bool = False,
    parallel_from: int = PARALLEL_FROM,
    files: FileAttachmentStore | None = None,
    personal_keys: bool = False,
) -> BundleSummary:
    """Write the bundle of ``dates`` for ``community_id`` to ``output``: one pass finds
    the range, the attachments it names and the board at its end, a second streams the
    entries and their proofs into the bundle. Memory holds the board and about 32 bytes
    per attachment named, never the entries. ``personal_keys``: the bundle is for readers
    who may see the personal data (the street's auditors), and carries the keys of the
    people its entries name (personal-keys.json); a public bundle never does."""
    if output.exists() and not overwrite:
        raise InvalidInputError(f"{output} exists; pass --force to replace it", field="output")
    community = store.community(community_id)
    log = CommunityLog(store, community.id)
    checkpoint = log.latest_checkpoint()
    size = checkpoint.tree_size
    found = _scan(store, log, size, dates)
    if not found.first:
        raise NotFoundError(
            f"no entry of {community.id!r} up to the checkpoint of size {size} was recorded "
            "in that range"
        )
    first, last = found.first, found.last
    with contextlib.ExitStack() as stack:
        proofs: Iterable[Sequence[bytes]] | ProofWriter
        if last - first + 1 >= parallel_from:
            proofs = stack.enter_context(
                ProofWriterProcess(
                    store.url, community.id, first, last, size, checkpoint.root, output.parent
                )
            )
        else:
            proofs = inclusion_proofs(first - 1, last - 1, size, BlockReader(log.seal))
        contents = _contents(log, community, checkpoint, dates, found, proofs, log_key.name, files)
        if personal_keys:
            ids = key_ids_in(row[6] for row in _chain_range(log, first, last))
            held = store.recorder(community.id).personal_keys(ids)
            keys = {key_id: held.get(key_id) for key_id in ids}
            contents = dataclasses.replace(
                contents, personal_keys=personal_keys_json(community.id, keys)
            )
        return write_bundle(output, contents, log_key.signer(), overwrite=overwrite)


def _contents(
    log: CommunityLog,
    community: Community,
    checkpoint: StoredCheckpoint,
    dates: DateRange,
    found: _Found,
    proofs: Iterable[Sequence[bytes]] | ProofWriter,
    origin: str,
    files: FileAttachmentStore | None,
) -> BundleContents:
    first, last = found.first, found.last
    # The files the range names go in, read from the store as they are written; any it
    # does not hold are listed as missing.
    held: dict[str, Path] = {}
    missing: list[str] = []
    for digest in found.referenced.sorted_hex():
        if files is not None and files.has(digest):
            held[digest] = files.path_of(digest)
        else:
            missing.append(digest)
    last_rows = log.seal.chain_rows(last - 1, 1)
    as_of = recorded_day(last_rows[0][6]) if last_rows else None
    return BundleContents(
        community_id=community.id,
        community_name=community.name,
        origin=origin,
        first_seq=first,
        last_seq=last,
        rows=_chain_range(log, first, last),
        proofs=proofs,
        signed_checkpoint=log.cosigned_note(checkpoint),
        tree_size=checkpoint.tree_size,
        board_html=render_board_html(community.name, found.board.items(), as_of=str(as_of or "?")),
        period=dates.period,
        date_from=dates.first,
        date_to=dates.last,
        attachments=held,
        attachments_missing=missing,
    )
