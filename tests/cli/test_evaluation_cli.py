"""``gongkai evaluation recount``: it prints the tally recounted from the chain and exits
0 when it is the one published; 1 when a ballot was edited in the database, whether
the chain's hashes were left as they were or rewritten to match; 2 when there is
nothing to compare or no such evaluation."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from api.cli.main import main
from ledger.application import Ledger
from ledger.chain.hashing import entry_hash
from ledger.domain.clock import held_at
from ledger.domain.evaluation import Evaluation
from ledger.store import open_store
from ledger.store.base import Community
from tests.contract.test_evaluations import STREET, VOTER, everyone, voting
from tests.rawdb import Row, raw_table

Capsys = pytest.CaptureFixture[str]
CHINA = dt.timezone(dt.timedelta(hours=8))


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/gongkai.sqlite3"


def evaluate(url: str, *, publish: bool = True) -> str:
    """A June round of three ballots, all competent but one excellent."""
    with (
        held_at(dt.datetime(2026, 6, 10, 9, tzinfo=CHINA)),
        open_store(url) as store,
        Ledger(store) as whole,
    ):
        store.init_schema()
        ledger = whole.add_community(Community("pingyi", "评议社区"))
        evaluation, codes = voting(ledger, codes=4)
        for n, code in enumerate(codes[:3]):
            grades = everyone("excellent" if n == 0 else "competent")
            ledger.cast_ballot(VOTER, evaluation, code=code, grades=grades)
        ledger.close_voting(STREET, "close", evaluation)
        if publish:
            ledger.publish_tally(STREET, "publish", evaluation)
    return evaluation


def recount(capsys: Capsys, url: str, evaluation: str, *more: str) -> tuple[int, str, str]:
    return run(capsys, "evaluation", "recount", "--db", url, "--community", "pingyi",
               "--evaluation", evaluation, *more)  # fmt: skip


def test_the_recount_equals_the_tally_published(url: str, capsys: Capsys) -> None:
    evaluation = evaluate(url)
    code, out, err = recount(capsys, url, evaluation)
    assert (code, err) == (0, "")
    assert "ballots counted: 3 of 4 codes issued" in out
    assert "张秀英（居委会主任）  测评结果: 合格" in out
    assert "  廉 1  2  0  0" in out
    assert "  计 5  10  0  0" in out
    assert out.rstrip().endswith("the recount equals the tally published")


def test_the_recount_as_json(url: str, capsys: Capsys) -> None:
    evaluation = evaluate(url)
    code, out, _ = recount(capsys, url, evaluation, "--json")
    assert code == 0
    counted = json.loads(out[: out.rindex("}") + 1])
    assert counted["ballots"] == 3
    assert [p["overall"] for p in counted["people"]] == ["competent"] * 3


def test_nothing_published_is_nothing_to_compare(url: str, capsys: Capsys) -> None:
    evaluation = evaluate(url, publish=False)
    code, out, err = recount(capsys, url, evaluation)
    assert code == 2
    assert "ballots counted: 3" in out
    assert "has published no tally yet" in err


def test_no_such_evaluation(url: str, capsys: Capsys) -> None:
    evaluate(url)
    code, _, err = recount(capsys, url, str(uuid.uuid4()))
    assert code == 2
    assert "holds no evaluation" in err
    code, _, err = recount(capsys, url, "june")
    assert code == 2
    assert "is not a UUID" in err


def _edit_a_ballot(url: str) -> tuple[list[Row], int]:
    raw = raw_table("sqlite", url, "pingyi")
    rows = raw.read()
    k = next(i for i, r in enumerate(rows) if r["topic"] == Evaluation.BallotReceived.TOPIC)
    state = bytes(rows[k]["state"])
    rows[k] = {**rows[k], "state": state.replace(b'"excellent"', b'"competent"')}
    return rows, k


def test_a_ballot_edited_in_the_database_fails_the_chain(url: str, capsys: Capsys) -> None:
    evaluation = evaluate(url)
    rows, _ = _edit_a_ballot(url)
    raw_table("sqlite", url, "pingyi").replace_all(rows)
    code, out, err = recount(capsys, url, evaluation)
    assert code == 1
    assert out == ""
    assert "the chain does not verify" in err
    code, _, _ = run(capsys, "verify", "--db", url, "--community", "pingyi")
    assert code == 1


def test_a_ballot_edited_with_the_hashes_rewritten_fails_the_recount(
    url: str, capsys: Capsys
) -> None:
    evaluation = evaluate(url)
    rows, k = _edit_a_ballot(url)
    # An administrator who rewrites every hash from the edit on: the chain verifies on
    # its own (only the signed checkpoints of 'gongkai verify' would catch it), but
    # the recount of the ballots is not the tally published.
    for i in range(k, len(rows)):
        row = rows[i]
        prev = rows[i - 1]["hash"]
        digest = entry_hash(
            row["seq"], prev, bytes.fromhex(row["originator_id"]), row["originator_version"],
            row["topic"].encode(), bytes(row["state"]),
        )  # fmt: skip
        rows[i] = {**row, "prev_hash": prev, "hash": digest}
    raw_table("sqlite", url, "pingyi").replace_all(rows)
    code, out, err = recount(capsys, url, evaluation)
    assert code == 1
    assert "ballots counted: 3" in out
    assert "the tally published differs from the recount" in err
    assert "张秀英: published" in err
