"""The names every backend shares, and the layout of a store's tables.

A *store* is one database (an SQLite file with its community files beside it, or one
PostgreSQL database). It holds a registry of communities and, per community, two
append-only tables:

* ``<community>_events``: eventsourcing's stored events, each with its chain columns
  ``seq``, ``prev_hash`` and ``hash`` (see :mod:`ledger.chain.hashing`);
* ``<community>_commands``: one row per idempotency key, written in the same
  transaction as the events it produced, so that a retried command answers the first
  result and stores nothing twice. It names the command's first event by originator ID
  and version, and how many events it wrote: the events of one transaction have
  consecutive ``seq`` numbers, so the row can be written before they are numbered,
  outside the community's write lock.

Beside them, the key table ``<community>_personal_keys`` holds each person's key for
their sealed personal fields (:mod:`ledger.domain.personal_data`); it is not hashed and not
append-only, so that erasing a person can destroy their key.

Four append-only tables keep the community's seal (:mod:`ledger.store.seal`
describes them); their names and the rows they hold are defined here too, so that the
backends, the seal store and its SQL share them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ledger.errors import InvalidInputError, StoreError

COMMUNITY_ID_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{1,31}")
REGISTRY_TABLE: Final = "gongkai_communities"
DEFAULT_DB_URL: Final = "sqlite:///data/gongkai.sqlite3"

# A raw chain row, exactly as the verifier reads it:
# (seq, prev_hash, hash, originator_id, originator_version, topic, state).
# originator_id is the 16 UUID bytes; topic and state are bytes.
RawRow = tuple[int, bytes, bytes, bytes, int, bytes, bytes]


def check_community_id(community_id: str) -> str:
    """Return ``community_id`` if it can name a community, else raise.

    IDs become parts of table names, so they are restricted to lower-case ASCII letters,
    digits and underscores, starting with a letter, 2 to 32 characters.
    """
    if not isinstance(community_id, str) or not COMMUNITY_ID_PATTERN.fullmatch(community_id):
        raise InvalidInputError(
            f"community ID {community_id!r} must be 2-32 characters of a-z, 0-9 and _, "
            "starting with a letter",
            field="community",
        )
    return community_id


def events_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_events"


def commands_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_commands"


def personal_keys_table(community_id: str) -> str:
    """The community's personal keys (:mod:`ledger.domain.personal_data`): beside the chain,
    not part of it, and not append-only, since erasing a person destroys their key."""
    return f"{check_community_id(community_id)}_personal_keys"


@dataclass(frozen=True, slots=True)
class Community:
    """A registered community: its ID (used in URLs and table names) and its name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class PersonalKey:
    """One person's key as the key table holds it; ``key`` is None once erased."""

    person_id: str
    key_id: str
    key: bytes | None
    created_at: str
    erased_at: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """What a command stores with its events, keyed by its idempotency key."""

    idempotency_key: str
    fingerprint: bytes
    result: str


@dataclass(frozen=True, slots=True)
class StoredCommand:
    """A command found by its idempotency key."""

    idempotency_key: str
    fingerprint: bytes
    result: str
    first_seq: int
    last_seq: int


class DuplicateCommandError(StoreError):
    """Raised inside the insert transaction when the idempotency key is already stored.

    The transaction is rolled back, so the events of the second attempt are not stored;
    the application then answers the first attempt's result.
    """


Node = tuple[int, int]


def tree_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_tree"


def checkpoints_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_checkpoints"


def cosignatures_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_cosignatures"


def cosigners_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_cosigners"


def seal_tables(community_id: str) -> list[str]:
    return [
        tree_table(community_id),
        checkpoints_table(community_id),
        cosignatures_table(community_id),
        cosigners_table(community_id),
    ]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint the log signed: its size, root, and the signed note (log signature
    only; cosignatures are kept apart and added when it is served)."""

    tree_size: int
    root: bytes
    note: str
    signed_at: str


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    """One cosignature line added to the checkpoint of ``tree_size``."""

    tree_size: int
    key_name: str
    key_id: bytes
    line: str
    timestamp: int
    added_at: str


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A key whose cosignatures the community accepts: a committee member's seal or a
    witness. ``label`` says whose it is, for people reading the board."""

    vkey: str
    name: str
    key_id: bytes
    role: str
    label: str
    added_at: str
