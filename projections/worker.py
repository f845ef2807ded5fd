"""The projection worker: a thread that keeps the read models current.

It catches a community up as soon as this process's ledger says it stored something
there (:class:`CommitSignal`, fed by :class:`ledger.application.notifying.NotifyingLedger`), and
every ``poll`` seconds looks at every community, for what other processes wrote. What
it applies and how often it is applied is the runner's business
(:class:`~projections.runner.ProjectionRunner`): each entry exactly once, in order,
refusing a gap, so a wake-up too many costs one empty transaction and none too few
loses anything.

A community whose catch-up fails (a projection that raises, a database that is
briefly unavailable, a gap) is logged and tried again after a delay that doubles up to
``max_backoff``; the other communities go on meanwhile, and so does the service.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from projections.runner import Progress, ProjectionRunner

log = logging.getLogger("gongkai.projections")

POLL: Final = 2.0
FIRST_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 30.0


class CommitSignal:
    """The communities written to since the worker last looked, and a way to wait for
    one. Told by the ledger's write path (:meth:`committed`); read by the worker."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pending: set[str] = set()

    def committed(self, community_id: str, last_seq: int) -> None:
        """A transaction of ``community_id`` ending at ``last_seq`` has committed."""
        del last_seq  # the worker reads whatever is there by the time it looks
        with self._changed:
            self._pending.add(community_id)
            self._changed.notify_all()

    def wake(self) -> None:
        """Wake the waiter with nothing new (to stop it)."""
        with self._changed:
            self._changed.notify_all()

    def wait(self, timeout: float) -> set[str]:
        """The communities written to since the last call; if none yet, wait up to
        ``timeout`` seconds for one (empty when none came)."""
        with self._changed:
            if not self._pending and timeout > 0:
                self._changed.wait(timeout)
            pending, self._pending = self._pending, set()
        return pending


@dataclass(frozen=True, slots=True)
class Failing:
    """A community whose last catch-up failed."""

    failures: int  # in a row
    error: str
    retry_at: float  # on the worker's clock


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What ``/healthz`` says of the worker."""

    #: "running", "retrying" (some community's last catch-up failed), "stopped"
    state: str
    applied: int  # applications since the worker started
    failing: dict[str, Failing]

    def json(self, now: float) -> dict[str, object]:
        return {
            "state": self.state,
            "applied": self.applied,
            "failing": {
                community: {
                    "failures": f.failures,
                    "error": f.error,
                    "retry_in": round(max(f.retry_at - now, 0.0), 3),
                }
                for community, f in sorted(self.failing.items())
            },
        }


class ProjectionWorker:
    """Runs ``runner`` for ``communities()`` in a thread until :meth:`stop`."""

    def __init__(
        self,
        runner: ProjectionRunner,
        communities: Callable[[], Iterable[str]],
        signal: CommitSignal | None = None,
        *,
        poll: float = POLL,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        on_applied: Callable[[str, int], None] | None = None,
        progress: Callable[[str], Progress] | None = None,
        after_pass: Callable[[str], None] | None = None,
    ) -> None:
        self.runner = runner
        self.communities = communities
        self.signal = signal or CommitSignal()
        self.poll = poll
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self.on_applied = on_applied
        #: Makes, for a community, what hears how far a long catch-up has come.
        self.progress = progress
        #: Called with a community once it is caught up (the service escalates what is
        #: due); its failure is logged and leaves the read models' health alone.
        self.after_pass = after_pass
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._applied = 0
        self._failing: dict[str, Failing] = {}

    # --- the thread ------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="gongkai-projections", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop and wait for it: a batch in progress is finished (and
        committed) or rolled back, never left half done."""
        self._stop.set()
        self.signal.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop (the thread's target; also usable in the caller's thread)."""
        next_poll = self.clock()
        pending: set[str] = set()
        while not self._stop.is_set():
            now = self.clock()
            if now >= next_poll:
                next_poll = now + self.poll
                pending |= self._every_community(now)
            for community in sorted(pending):
                if self._stop.is_set():
                    break
                failing = self._failing.get(community)
                if failing is None or failing.retry_at <= now:
                    self.pass_once(community)
                    if community not in self._failing:
                        pending.discard(community)
            retries = [f.retry_at for c, f in self._failing.items() if c in pending]
            wake_at = min([next_poll, *retries])
            pending |= self.signal.wait(wake_at - self.clock())

    def _every_community(self, now: float) -> set[str]:
        try:
            found = set(self.communities())
        except Exception as e:
            self._failed("", e, now)  # the registry itself: logged, tried at the next poll
            return set()
        with self._lock:
            self._failing.pop("", None)
        return found

    def pass_once(self, community_id: str) -> int:
        """Catch ``community_id`` up; a failure is logged and scheduled for a retry."""
        try:
            on_progress = self.progress(community_id) if self.progress else None
            applied = self.runner.catch_up(community_id, on_progress)
        except Exception as e:
            self._failed(community_id, e, self.clock())
            return 0
        with self._lock:
            self._applied += applied
            recovered = self._failing.pop(community_id, None)
        if recovered is not None:
            log.warning(
                "projections of %s current again after %d failures",
                community_id,
                recovered.failures,
            )
        if applied and self.on_applied is not None:
            self.on_applied(community_id, applied)
        if self.after_pass is not None:
            try:
                self.after_pass(community_id)
            except Exception:
                log.exception("after catching %s up", community_id)
        return applied

    def _failed(self, community_id: str, error: Exception, now: float) -> None:
        with self._lock:
            before = self._failing.get(community_id)
            failures = before.failures + 1 if before else 1
            delay = min(self.first_backoff * 2 ** (failures - 1), self.max_backoff)
            self._failing[community_id] = Failing(failures, str(error), now + delay)
        what = f"projections of {community_id}" if community_id else "the list of communities"
        if failures == 1:
            log.error("%s failed; retrying in %.1f s", what, delay, exc_info=error)
        else:
            log.error(
                "%s failed again (%d in a row): %s; retrying in %.1f s",
                what,
                failures,
                error,
                delay,
            )

    # --- what it says of itself ---------------------------------------------------------

    def status(self) -> WorkerStatus:
        alive = self._thread is not None and self._thread.is_alive()
        with self._lock:
            failing = dict(self._failing)
            applied = self._applied
        state = "stopped" if not alive else "retrying" if failing else "running"
        return WorkerStatus(state, applied, failing)
