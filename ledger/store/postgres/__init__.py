"""The PostgreSQL backend: one database, two tables and one append function per community.

Each community's entries are appended by a PL/pgSQL function of its own,
``<community>_append``, created by ``gongkai db init``. In one call it takes the
community's transaction-scoped advisory lock, reads the chain head, links and hashes the
new entries with the layout of :mod:`ledger.chain.hashing` (``gongkai_entry_hash``, PostgreSQL's
``sha256``), inserts them with the idempotency row, and returns the first ``seq``. Doing
this in the database keeps the lock held only for the insert and the commit, not for
extra client round trips, so writers of one community queue no longer than
eventsourcing's own; the verifier recomputes every hash in Python, an independent
implementation of the same layout.

No NOTIFY is sent: PostgreSQL serializes the commits of every transaction that
notifies, database-wide, which would make one community's writers wait for another's
commits. Readers of the chain poll it (see :meth:`PostgresChainedRecorder.subscribe`).

Why an advisory lock: eventsourcing takes ``LOCK TABLE ... IN EXCLUSIVE MODE``, which
PostgreSQL grants only to roles holding UPDATE, DELETE or TRUNCATE, exactly what the
service's role must not have. The lock is keyed by community, so two communities are
written in parallel, and it is held to commit, so entries commit in ``seq`` order. The
``seq`` is computed under it rather than taken from a ``bigserial``, whose values are
not gapless (a rolled-back insert leaves a hole); its primary key is the backstop.

Append-only is enforced twice: triggers refuse UPDATE, DELETE and TRUNCATE for every
role, including the owner; and ``gongkai db init --service-role ROLE`` grants the
service's role only SELECT and INSERT.

In this package: :mod:`.ddl` (the tables, triggers, grants and append functions),
:mod:`.recorder` (the chained eventsourcing recorder), :mod:`.store` (the store) and
:mod:`.seal` (the seal's tables). With :mod:`projections.db.postgres`, the only code
that imports psycopg.
"""

from ledger.store.postgres.recorder import PostgresChainedRecorder
from ledger.store.postgres.store import PostgresStore

__all__ = ["PostgresChainedRecorder", "PostgresStore"]
