"""``gongkai evaluation recount``: a democratic evaluation's tally (民主评议测评结果)
counted again from the community's chain alone, and compared with the one published.

It checks the chain's hashes first (as ``gongkai verify`` does, without the signed
checkpoints: run that too against the community's log key), then recounts with
:func:`ledger.domain.evaluation_tally.recount`, which reads nothing but the chain's
entries. Exit 0 when the recount equals the published tally; 1 when the chain does not
verify or the recount differs; 2 when no tally is published yet, or there is no such
evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from api.cli.common import EXIT_ERROR, EXIT_OK, EXIT_VERIFY_FAILED, UsageError, add_db
from ledger.chain.hashing import ChainedEvent
from ledger.chain.verify import ChainIntegrityError, verify_store
from ledger.domain.evaluation import DIMENSION_NAMES, GRADE_NAMES, Dimension, Grade
from ledger.domain.evaluation_tally import RecountError, Tally, published_tally, recount
from ledger.store import default_url, open_store
from ledger.store.backend import Store

#: Chain entries read per page.
PAGE = 1_000


def _entries(store: Store, community_id: str, evaluation: UUID) -> Iterator[ChainedEvent]:
    """The evaluation's entries, in the chain's order."""
    recorder = store.recorder(community_id)
    after = 0
    while page := recorder.read_chain(after=after, limit=PAGE):
        yield from (e for e in page if e.originator_id == evaluation)
        after = page[-1].seq


def _grade(code: str | None) -> str:
    return GRADE_NAMES[Grade(code)] if code else "(无选票)"


def show(counted: Tally) -> str:
    """The tally as the board would show it, one line per person and dimension."""
    lines = [f"ballots counted: {counted['ballots']} of {counted['codes']} codes issued"]
    grades = list(Grade)
    header = "  ".join(GRADE_NAMES[g] for g in grades)
    for person in counted["people"]:
        lines.append(
            f"{person['name']}（{person['post']}）  测评结果: {_grade(person['overall'])}"
        )
        lines.append(f"    {header}")
        for code, marks in person["dimensions"].items():
            label = DIMENSION_NAMES[Dimension(code)]
            lines.append(f"  {label} " + "  ".join(str(marks.get(g.value, 0)) for g in grades))
        pooled = person["pooled"]
        lines.append("  计 " + "  ".join(str(pooled.get(g.value, 0)) for g in grades))
    return "\n".join(lines)


def cmd_recount(args: argparse.Namespace) -> int:
    try:
        evaluation = UUID(args.evaluation)
    except ValueError:
        raise UsageError(f"evaluation ID {args.evaluation!r} is not a UUID") from None
    with open_store(args.db or default_url()) as store:
        store.community(args.community)  # a clear error for an unknown one
        try:
            verify_store(store, args.community)
        except ChainIntegrityError as e:
            print(f"gongkai: the chain does not verify, nothing is recounted: {e}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_VERIFY_FAILED
        entries = list(_entries(store, args.community, evaluation))
    try:
        counted = recount(entries, evaluation)
    except RecountError as e:
        print(f"gongkai: error: {e} in {args.community}", file=sys.stderr)
        return EXIT_ERROR
    published = published_tally(entries, evaluation)
    print(json.dumps(counted, ensure_ascii=False, indent=2) if args.json else show(counted))
    if published is None:
        print(f"gongkai: evaluation {evaluation} has published no tally yet: nothing to "
              "compare the recount with", file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    if published != counted:
        print(f"gongkai: the tally published differs from the recount of the chain:\n"
              f"{_differences(published, counted)}", file=sys.stderr)  # fmt: skip
        return EXIT_VERIFY_FAILED
    print("the recount equals the tally published")
    return EXIT_OK


def _differences(published: Tally, counted: Tally) -> str:
    found = []
    for field in ("ballots", "codes"):
        if published.get(field) != counted.get(field):
            found.append(f"  {field}: published {published.get(field)}, recounted "
                         f"{counted.get(field)}")  # fmt: skip
    theirs: dict[str, Any] = {p.get("name"): p for p in published.get("people", [])}
    for person in counted["people"]:
        was = theirs.get(person["name"])
        if was != person:
            before = json.dumps(was, ensure_ascii=False)
            after = json.dumps(person, ensure_ascii=False)
            found.append(f"  {person['name']}: published {before}, recounted {after}")
    return "\n".join(found) or "  (the tallies differ in their form)"


def add_evaluation_commands(sub: Any) -> None:
    evaluation = sub.add_parser(
        "evaluation", help="democratic evaluation (民主评议): recount a tally from the chain"
    ).add_subparsers(dest="evaluation_command", required=True, metavar="ACTION")
    counting = evaluation.add_parser(
        "recount", help="recount an evaluation's ballots from the chain; exit 1 if it differs"
    )
    add_db(counting)
    counting.add_argument("--community", required=True, metavar="ID")
    counting.add_argument("--evaluation", required=True, metavar="ID")
    counting.add_argument("--json", action="store_true", help="print the recount as JSON")
    counting.set_defaults(func=cmd_recount)
