"""``gongkai export``: gather a range of a community's log into a signed archive bundle.

The range is chosen by the time each entry was recorded, as a date in China Standard
Time (UTC+8, no daylight saving): a quarter (``2026Q3``) or ``--from``/``--to`` dates,
both inclusive. The bundle holds the contiguous run of entries from the first to the
last one recorded in the range (so its links can be checked), up to the latest signed
checkpoint, with each entry's inclusion proof in that checkpoint. See
:mod:`ledger.bundle` for the format and the offline checks.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.bundle import BundleContents, BundleSummary, write_bundle
from ledger.errors import InvalidInputError, NotFoundError
from ledger.keys import PrivateKey
from ledger.merkle import inclusion_proof
from ledger.seal import CommunityLog
from ledger.store.base import RawRow, Store
from ledger.store.seal import BlockReader
from projections.board import fold_board, render_board_html

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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


def _attachments(state: bytes) -> Iterator[str]:
    """The SHA-256 of each file an event names (disclosure attachments, vouchers)."""
    if b'"attachments"' not in state and b'"voucher_sha256"' not in state:
        return
    try:
        value = json.loads(state)
    except ValueError:
        return
    if not isinstance(value, dict):
        return
    names = [*(value.get("attachments") or ()), value.get("voucher_sha256")]
    for digest in names:
        if isinstance(digest, str) and _SHA256_HEX.fullmatch(digest):
            yield digest


def _chain_range(log: CommunityLog, first: int, last: int) -> Iterator[RawRow]:
    """Entries ``first..last`` in order, read a page at a time."""
    after = first - 1
    while after < last:
        page = log.seal.chain_rows(after, min(10_000, last - after))
        if not page:
            return
        yield from page
        after = page[-1][0]


def export_bundle(
    store: Store,
    community_id: str,
    dates: DateRange,
    output: Path,
    log_key: PrivateKey,
    *,
    overwrite: bool = False,
) -> BundleSummary:
    """Write the bundle of ``dates`` for ``community_id`` to ``output``, in constant
    memory: one pass finds the range, a second folds the board, a third streams the
    entries and their proofs into the bundle."""
    if output.exists() and not overwrite:
        raise InvalidInputError(f"{output} exists; pass --force to replace it", field="output")
    community = store.community(community_id)
    log = CommunityLog(store, community.id)
    checkpoint = log.latest_checkpoint()
    size = checkpoint.tree_size
    first = last = 0
    # Attachments named by entries first..last, as 32-byte digests: those after the last
    # entry in the range so far wait in `pending` until another entry in range comes.
    referenced: set[bytes] = set()
    pending: set[bytes] = set()
    scan = store.chain_rows(community.id)
    for row in scan:
        if row[0] > size:
            scan.close()
            break
        if first:
            pending.update(bytes.fromhex(d) for d in _attachments(row[6]))
        day = recorded_day(row[6])
        if day is not None and day in dates:
            if not first:
                first = row[0]
                pending.update(bytes.fromhex(d) for d in _attachments(row[6]))
            last = row[0]
            referenced |= pending
            pending.clear()
    if not first:
        raise NotFoundError(
            f"no entry of {community.id!r} up to the checkpoint of size {size} was recorded "
            "in that range"
        )
    history = store.chain_rows(community.id)
    items = fold_board(itertools.takewhile(lambda r: r[0] <= last, history))
    history.close()
    last_rows = log.seal.chain_rows(last - 1, 1)
    as_of = recorded_day(last_rows[0][6]) if last_rows else None
    reader = BlockReader(log.seal)
    contents = BundleContents(
        community_id=community.id,
        community_name=community.name,
        origin=log_key.name,
        first_seq=first,
        last_seq=last,
        rows=_chain_range(log, first, last),
        proofs=(inclusion_proof(seq - 1, size, reader) for seq in range(first, last + 1)),
        signed_checkpoint=log.cosigned_note(checkpoint),
        tree_size=size,
        board_html=render_board_html(community.name, items, as_of=str(as_of or "?")),
        period=dates.period,
        date_from=dates.first,
        date_to=dates.last,
        # The store keeps attachments' hashes, not the files themselves (yet).
        attachments={},
        attachments_missing=(digest.hex() for digest in sorted(referenced)),
    )
    return write_bundle(output, contents, log_key.signer(), overwrite=overwrite)
