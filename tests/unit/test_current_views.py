"""The service's cache of current views: what was built from a read model is kept at the
position it was built at, never answered for another, never replaced by what a slower
request built from an older state, and never kept longer than its maximum age."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from api.service.read_models import CurrentViews


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_view_is_answered_at_its_position_only() -> None:
    views = CurrentViews(clock=Clock())
    assert views.get("board", "tianhai", 7) is None
    views.put("board", "tianhai", 7, "at 7")
    assert views.get("board", "tianhai", 7) == "at 7"
    assert views.get("board", "tianhai", 8) is None, "the worker applied another entry"
    assert views.get("board", "xinhe", 7) is None, "another community"
    assert views.get("finance", "tianhai", 7) is None, "another projection"


def test_a_newer_position_replaces_an_older_one_and_not_the_reverse() -> None:
    views = CurrentViews(clock=Clock())
    views.put("board", "tianhai", 7, "at 7")
    views.put("board", "tianhai", 9, "at 9")
    views.put("board", "tianhai", 8, "at 8")  # a slower request, an older state
    assert views.get("board", "tianhai", 9) == "at 9"
    assert views.get("board", "tianhai", 7) is None
    assert views.get("board", "tianhai", 8) is None


def test_nothing_is_kept_longer_than_its_maximum_age() -> None:
    """A rebuild comes back through the same positions: a view ages out regardless."""
    clock = Clock()
    views = CurrentViews(max_age=5.0, clock=clock)
    views.put("board", "tianhai", 9, "before the rebuild")
    clock.now += 5.0
    assert views.get("board", "tianhai", 9) == "before the rebuild"
    clock.now += 0.1
    assert views.get("board", "tianhai", 9) is None
    views.put("board", "tianhai", 3, "during the rebuild")  # the old view is stale
    assert views.get("board", "tianhai", 3) == "during the rebuild"


def test_one_request_builds_a_stale_view_while_the_others_wait_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load, a view going stale would otherwise be built by every request in
    flight at once."""
    from api.routes import board as board_route

    built = []

    def slow_board(db: object, community_id: str) -> list[object]:
        built.append(community_id)
        time.sleep(0.05)
        return []

    monkeypatch.setattr(board_route, "board_as_of", slow_board)
    monkeypatch.setattr(board_route, "tracked_position", lambda *_: 9)
    ledger = SimpleNamespace(store=SimpleNamespace(community=lambda _: None))
    views = CurrentViews()
    with ThreadPoolExecutor(16) as pool:
        boards = list(
            pool.map(
                lambda _: board_route.current_board(ledger, None, views, "tianhai", 9),  # type: ignore[arg-type]
                range(16),
            )
        )
    assert built == ["tianhai"]
    assert all(b is boards[0] for b in boards)
    assert views.building("board", "tianhai") is views.building("board", "tianhai")
    assert views.building("board", "xinhe") is not views.building("board", "tianhai")


def test_an_answer_of_a_board_is_made_by_one_request() -> None:
    """A new board's page (or JSON) is rendered once, however many requests ask for it at
    once; each key has its own answer."""
    from api.routes.board import CurrentBoard

    board = CurrentBoard.of([])
    made: list[str] = []

    def make(text: str) -> bytes:
        made.append(text)
        time.sleep(0.05)
        return text.encode()

    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(lambda _: board.answer(("page", "zh-CN"), lambda: make("zh")), range(16))
        )
    assert made == ["zh"]
    assert answers == [b"zh"] * 16
    assert board.answer(("page", "en"), lambda: make("en")) == b"en"
    assert board.answer(("page", "zh-CN"), lambda: make("again")) == b"zh"
    assert made == ["zh", "en"]
