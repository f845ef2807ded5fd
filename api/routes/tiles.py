"""The Merkle tree as C2SP ``tlog-tiles``: static, cacheable resources from which any
client computes any proof, so that tools written for other tiled logs can audit ours.

``/v1/communities/{id}/tile/<L>/<N>[.p/<W>]`` serves level ``L`` tile ``N``: the hashes
of the complete subtrees of height ``8·L`` over leaves ``[(N·256 + i)·256^L, …)``, which
are exactly the stored tree's nodes at level ``8·L`` (see :mod:`ledger.store.seal`).
``/tile/entries/<N>[.p/<W>]`` serves the entries: each is the 32-byte chain hash that is
the leaf's data, prefixed by its big-endian uint16 length, as the spec's entry bundles.
Partial tiles are served up to the tree's current size; full tiles never change.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response

from api.service.deps import LedgerDep
from api.service.params import MAX_SEQ
from ledger.errors import InvalidInputError, NotFoundError
from ledger.seal.community_log import CommunityLog

router = APIRouter(prefix="/v1/communities", tags=["seal"])

TILE_WIDTH: Final = 256
TILE_HEIGHT: Final = 8
# The spec's indexes are uint64s: at most 20 digits, 7 elements of 3.
MAX_INDEX_ELEMENTS: Final = 7
_ELEMENT = re.compile(r"x\d{3}")
_LAST = re.compile(r"\d{3}")
_LEVEL = re.compile(r"0|[1-9]\d?")
_WIDTH = re.compile(r"[1-9]\d{0,2}")
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
PARTIAL = {"Cache-Control": "public, max-age=5"}


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """``(level or None for entries, index, width)`` of a tile path; width 256 is full."""
    parts = path.split("/")
    head, rest = parts[0], parts[1:]
    if head == "entries":
        level = None
    elif _LEVEL.fullmatch(head) and int(head) <= 63:
        level = int(head)
    else:
        raise InvalidInputError(f"not a tile level: {head!r}", field="path")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
            raise InvalidInputError(f"not a partial tile width: {rest[-1]!r}", field="path")
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][:-2]]
    if (
        not rest
        or len(rest) > MAX_INDEX_ELEMENTS
        or not _LAST.fullmatch(rest[-1])
        or not all(_ELEMENT.fullmatch(e) for e in rest[:-1])
    ):
        raise InvalidInputError(
            "a tile index is 1 to 7 zero-padded 3-digit elements, all but the last with an 'x', "
            "e.g. x001/x234/067",
            field="path",
        )
    index = int("".join(e.lstrip("x") for e in rest))
    return level, index, width


@router.get("/{community_id}/tile/{path:path}", response_class=Response)
def tile(community_id: str, path: str, ledger: LedgerDep) -> Response:
    """A tile or an entry bundle of the community's tree (C2SP tlog-tiles)."""
    level, index, width = parse_tile_path(path)
    ledger.store.community(community_id)
    seal = CommunityLog(ledger.store, community_id).seal
    start = index * TILE_WIDTH
    if start + width > MAX_SEQ:
        raise NotFoundError(f"no tile {path!r}: it lies beyond any log's largest size")
    if level is None:
        size = seal.tree_size()
        rows = seal.chain_rows(start, width) if start + width <= size else []
        hashes = [row[2] for row in rows]
    else:
        hashes = seal.read_node_range(level * TILE_HEIGHT, start, start + width)
    if len(hashes) != width:
        raise NotFoundError(f"no {'partial ' if width < TILE_WIDTH else ''}tile {path!r} yet")
    if level is None:
        body = b"".join(len(h).to_bytes(2, "big") + h for h in hashes)
    else:
        body = b"".join(hashes)
    headers = IMMUTABLE if width == TILE_WIDTH else PARTIAL
    return Response(body, media_type="application/octet-stream", headers=headers)
