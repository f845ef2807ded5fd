"""A ledger that says when it has stored something: after each command's transaction
commits, ``on_commit(community_id, last_seq)`` is called in the thread that ran the
command, before the command's caller is answered.

The service gives this to its in-process projection worker, so that a publication
reaches the board as soon as it is stored instead of at the worker's next poll. Only
this process's writes are heard: another process (a second server, ``gongkai demo``)
writes unheard, which is why the worker also polls, slowly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ledger.application.community import CommunityLedger, Ledger
from ledger.application.runner import HoldsFiles
from ledger.store.backend import Store
from ledger.store.base import Community
from ledger.store.recorder import ChainedRecorder

#: Told the community and the last ``seq`` of a transaction that has just committed.
OnCommit = Callable[[str, int], None]

log = logging.getLogger("gongkai.ledger")


class NotifyingCommunityLedger(CommunityLedger):
    """A community's ledger that calls ``on_commit`` after each save."""

    def __init__(
        self,
        community: Community,
        recorder: ChainedRecorder,
        on_commit: OnCommit,
        attachments: HoldsFiles | None = None,
    ) -> None:
        self._on_commit = on_commit
        super().__init__(community, recorder, attachments)

    def _notify(self, recordings: list[Any]) -> None:
        # eventsourcing calls this after the recorder's transaction has committed: the
        # entries are there for any reader by now.
        if not recordings:
            return
        last = int(recordings[-1].notification.id)
        try:
            self._on_commit(self.community.id, last)
        except Exception:
            # The command is stored; a listener's failure must not turn its answer into
            # an error (the caller would retry a command that succeeded).
            log.exception("a commit listener failed after entry %d of %s", last, self.community.id)


class NotifyingLedger(Ledger):
    """Every community of ``store``, each calling ``on_commit`` after each save."""

    def __init__(
        self, store: Store, on_commit: OnCommit, attachments: HoldsFiles | None = None
    ) -> None:
        super().__init__(store, attachments)
        self.on_commit = on_commit

    def community(self, community_id: str) -> CommunityLedger:
        with self._lock:
            if community_id not in self._communities:
                community = self.store.community(community_id)
                self._communities[community_id] = NotifyingCommunityLedger(
                    community, self.store.recorder(community_id), self.on_commit, self.attachments
                )
        # The community is cached now: the parent hands out the same object.
        return super().community(community_id)
