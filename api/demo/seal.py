"""The demo community, sealed: a log key and a committee member's key under the keys
directory (never in the database, never committed), a signed checkpoint, and the
committee's cosignature on it. Safe to run again: existing keys are reused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.service.keyfiles import log_key_path, vkey_path
from ledger.seal.community_log import CommunityLog
from ledger.seal.keys import (
    KeyKind,
    PrivateKey,
    generate_key,
    load_private_key,
    write_private_key,
    write_vkey,
)
from ledger.seal.note import Signature, parse_note
from ledger.seal.signer_state import SignerState
from ledger.store.backend import Store

ORIGIN_HOST = "gongkai.local"
COMMITTEE_MEMBER = "居务监督委员会 王丽"


@dataclass(frozen=True, slots=True)
class SealedDemo:
    log_vkey: str
    committee_vkey: str
    tree_size: int


def _key(path: Path, name: str, kind: KeyKind) -> PrivateKey:
    if path.exists():
        return load_private_key(path)
    key = generate_key(name, kind)
    write_private_key(key, path)
    write_vkey(key.vkey, vkey_path(path))
    if kind is KeyKind.LOG:
        # A new log key's memory: it has signed only the empty tree.
        SignerState.beside(path, key, name.rsplit("/", 1)[-1]).create_empty(key.signer())
    return key


def seal_demo(store: Store, community_id: str, keys_dir: Path) -> SealedDemo:
    log_key = _key(
        log_key_path(keys_dir, community_id), f"{ORIGIN_HOST}/{community_id}", KeyKind.LOG
    )
    member = _key(
        keys_dir / f"{community_id}.committee.key",
        f"committee.{ORIGIN_HOST}/{community_id}/wangli",
        KeyKind.COSIGNER,
    )
    log = CommunityLog(store, community_id)
    log.add_cosigner(member.vkey, role="committee", label=COMMITTEE_MEMBER)
    state = SignerState.beside(log_key_path(keys_dir, community_id), log_key, community_id)
    checkpoint = log.sign_checkpoint(log_key.signer(), state)
    signer = member.signer()
    text = parse_note(checkpoint.note).text.encode("utf-8")
    line = Signature(signer.name, signer.key_id, signer.sign(text)).line()
    log.add_cosignature(checkpoint.tree_size, line)
    return SealedDemo(log_key.vkey, member.vkey, checkpoint.tree_size)
