"""The service's sealer: signs each community's checkpoint after a publication and on a
schedule, in a background thread, so that readers always find a recent signed head.

It runs only for communities whose log key is in the keys directory, and signs only
extensions of what that key signed before, as the signer state beside the key records
it (:mod:`ledger.seal.signer_state`). A refusal (the database lost or changed signed
history, or the state is missing) is logged as critical and shown on ``/healthz`` until
it is resolved; readers meanwhile keep the last good checkpoint. Signing is
idempotent (an unchanged tree yields the latest checkpoint again) and serialized by the
community's seal lock, so a sealer in each of several service processes is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Final

from api.service.keyfiles import find_log_key, log_key_path
from api.witness.submit import submit_to_witness
from ledger.errors import GongkaiError
from ledger.seal.community_log import CommunityLog, InconsistentCheckpointError
from ledger.seal.keys import PrivateKey
from ledger.seal.signer_state import SignerState, SignerStateError
from ledger.store.backend import Store
from ledger.store.base import StoredCheckpoint

log = logging.getLogger("gongkai.sealer")

# Events after which the board changed for readers: sign without waiting for the schedule.
PUBLICATION_TOPICS: Final = frozenset(
    {
        b"gongkai/disclosure/published",
        b"gongkai/disclosure/corrected",
        b"gongkai/disclosure/withdrawn",
        b"gongkai/correction/correction-published",
    }
)


class Sealer:
    """Signs checkpoints for the communities it has keys for."""

    def __init__(
        self,
        store: Store,
        keys_dir: Path,
        *,
        interval: float,
        poll: float = 2.0,
        witnesses: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.witnesses = witnesses
        self.keys_dir = keys_dir
        self.interval = interval
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_signed: dict[str, float] = {}
        self._status_lock = threading.Lock()
        self._status: dict[str, str] = {}

    def keys(self) -> dict[str, PrivateKey]:
        found = {}
        for community in self.store.communities():
            key = find_log_key(self.keys_dir, community.id)
            if key is not None:
                found[community.id] = key
        return found

    def seal_once(self, keys: dict[str, PrivateKey], *, force: bool = False) -> None:
        """One pass: sign every community whose tree is due."""
        now = time.monotonic()
        for community_id, key in keys.items():
            try:
                community_log = CommunityLog(self.store, community_id)
                state = SignerState.beside(
                    log_key_path(self.keys_dir, community_id), key, community_id
                )
                latest = community_log.seal.checkpoint()
                signed = latest.tree_size if latest else 0
                if latest is not None and community_log.seal.chain_length() == signed:
                    # Nothing new to sign (one cheap query per poll), but a signer state
                    # gone or edited is an alarm now, not at the next publication.
                    state.load()
                    self._set(community_id, "ok")
                    continue
                new_rows = community_log.seal.chain_rows(signed, 10_000)
                published = any(row[5] in PUBLICATION_TOPICS for row in new_rows)
                due = now - self._last_signed.get(community_id, 0.0) >= self.interval
                if force or published or due or latest is None:
                    checkpoint = community_log.sign_checkpoint(key.signer(), state)
                    self._last_signed[community_id] = now
                    self._set(community_id, "ok")
                    log.info("signed %s at size %d", community_id, checkpoint.tree_size)
                    self._witness(community_log, checkpoint)
            except (InconsistentCheckpointError, SignerStateError) as e:
                # The database lost or changed what this key signed, or the signer's
                # memory is gone: never sign, and say so as loudly as the service can.
                self._set(community_id, f"refused: {e}", critical=True)
            except GongkaiError as e:
                # A broken chain must be loud, not fatal to the service: readers still
                # get the last good checkpoint.
                self._set(community_id, f"error: {e}", critical=False)

    def _set(self, community_id: str, status: str, *, critical: bool = False) -> None:
        with self._status_lock:
            before = self._status.get(community_id)
            self._status[community_id] = status
        if status == "ok" or status == before:
            return  # logged once per change, not at every poll
        if critical:
            log.critical("REFUSED to sign %s: %s", community_id, status)
        else:
            log.error("cannot seal %s: %s", community_id, status)

    def status(self) -> dict[str, str]:
        """Each community's seal: "ok", "refused: …" or "error: …" (for ``/healthz``)."""
        with self._status_lock:
            return dict(self._status)

    def _witness(self, community_log: CommunityLog, checkpoint: StoredCheckpoint) -> None:
        """Ask each witness to cosign; one that refuses or is down is logged, and asked
        again with the next checkpoint."""
        for url in self.witnesses:
            try:
                submit_to_witness(community_log, checkpoint, url)
            except GongkaiError as e:
                log.warning("witness %s did not cosign %s: %s", url, community_log.community_id, e)

    def start(self) -> None:
        keys = self.keys()
        if not keys:
            return

        def run() -> None:
            while not self._stop.is_set():
                self.seal_once(keys)
                self._stop.wait(self.poll)

        self._thread = threading.Thread(target=run, name="gongkai-sealer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
