"""The PostgreSQL schema of a community, as statements: its two append-only tables
(triggers refuse UPDATE, DELETE and TRUNCATE for every role), the grants of the
service's role, the SQL entry-hash functions and the ``<community>_append`` function
that links and hashes new entries under the community's advisory lock."""

from __future__ import annotations

import hashlib
from typing import Final

from psycopg import sql

from ledger.store.base import commands_table, events_table, personal_keys_table, seal_tables
from ledger.store.postgres.seal import seal_ddl

SCHEMA: Final = "public"


REFUSE_FUNCTION: Final = "gongkai_refuse_change"


# Serializes concurrent 'db init' runs: DDL on the same catalog rows from two sessions
# at once fails with "tuple concurrently updated".
SCHEMA_LOCK_KEY: Final = 0x676F6E676B6169  # "gongkai"


def advisory_key(table: str) -> int:
    """A signed 64-bit advisory lock key for one community's writers."""
    digest = hashlib.sha256(f"gongkai:{SCHEMA}.{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def refuse_function_ddl() -> sql.Composed:
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{fn}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'gongkai: % on %.% refused: the table is append-only', "
        "TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
    ).format(schema=ident(SCHEMA), fn=ident(REFUSE_FUNCTION))


def append_only_ddl(table: str, service_role: str | None) -> list[sql.Composed]:
    target = ident(SCHEMA, table)
    fn = ident(SCHEMA, REFUSE_FUNCTION)
    statements = [
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION {fn}()"
        ).format(name=ident(f"{table}_append_only"), t=target, fn=fn),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {name} BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(name=ident(f"{table}_no_truncate"), t=target, fn=fn),
        sql.SQL("REVOKE ALL ON {t} FROM PUBLIC").format(t=target),
    ]
    if service_role:
        statements += [
            sql.SQL("REVOKE ALL ON {t} FROM {role}").format(t=target, role=ident(service_role)),
            sql.SQL("GRANT SELECT, INSERT ON {t} TO {role}").format(
                t=target, role=ident(service_role)
            ),
        ]
    return statements


def personal_keys_ddl(community_id: str, service_role: str | None) -> list[sql.Composed]:
    """The key table's grants, and ``<community>_destroy_key``, the one way a key is
    destroyed. The service's role may only read and add keys (as the tables made later
    get by default); the function runs with its owner's rights (SECURITY DEFINER), so the
    service never holds UPDATE on the table, and it refuses a key that is not held."""
    target = ident(SCHEMA, personal_keys_table(community_id))
    statements = [sql.SQL("REVOKE ALL ON {t} FROM PUBLIC").format(t=target)]
    if service_role:
        statements.append(
            sql.SQL("GRANT SELECT, INSERT ON {t} TO {role}").format(
                t=target, role=ident(service_role)
            )
        )
    body = f"""
BEGIN
  UPDATE {SCHEMA}."{personal_keys_table(community_id)}" SET key = NULL, erased_at = now()
    WHERE key_id = p_key_id AND key IS NOT NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gongkai: personal key % is not held, or is already erased', p_key_id
      USING ERRCODE = 'no_data_found';
  END IF;
  RETURN 1;
END"""
    statements.append(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}(p_key_id text) RETURNS integer LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, public AS {body}"
        ).format(fn=ident(SCHEMA, f"{community_id}_destroy_key"), body=sql.Literal(body))
    )
    return statements


def hash_functions_ddl() -> list[sql.Composed]:
    """The chain's byte layout (see ledger.chain.hashing) in SQL. int8send and int4send give
    big-endian bytes; sequence numbers, versions and lengths are never negative."""
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {schema}.gongkai_genesis_hash(community text) "
            "RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
            "SELECT sha256(convert_to(E'gongkai/chain/v1/genesis\\n', 'UTF8') "
            "|| convert_to(community, 'UTF8')) $$"
        ).format(schema=ident(SCHEMA)),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {schema}.gongkai_entry_hash(seq bigint, prev_hash bytea, "
            "originator_id uuid, originator_version bigint, topic text, state bytea) "
            "RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
            "SELECT sha256(convert_to(E'gongkai/chain/v1/entry\\n', 'UTF8') "
            "|| int8send(seq) || prev_hash || uuid_send(originator_id) "
            "|| int8send(originator_version) "
            "|| int4send(octet_length(convert_to(topic, 'UTF8'))) || convert_to(topic, 'UTF8') "
            "|| int4send(octet_length(state)) || state) $$"
        ).format(schema=ident(SCHEMA)),
    ]


def append_function_ddl(community_id: str) -> sql.Composed:
    """``<community>_append``: lock, read the head, chain, insert, record the command.
    Community IDs are checked to be ``[a-z][a-z0-9_]*``, so they are safe in the body."""
    events = events_table(community_id)
    body = f"""
DECLARE
  head_seq bigint;
  head_hash bytea;
  n integer := cardinality(states);
  seqs bigint[] := '{{}}';
  prevs bytea[] := '{{}}';
  hashes bytea[] := '{{}}';
BEGIN
  -- Before the lock: what does not depend on the head. A second attempt with the same
  -- idempotency key fails here, on the key, without queueing for the lock.
  IF command_key IS NOT NULL THEN
    INSERT INTO {SCHEMA}."{commands_table(community_id)}"
        (idempotency_key, fingerprint, result, originator_id, originator_version,
         event_count, recorded_at)
      VALUES (command_key, command_fingerprint, command_result, originator_ids[1],
              originator_versions[1], n, now());
  END IF;
  PERFORM pg_advisory_xact_lock({advisory_key(events)});
  SELECT e.seq, e.hash INTO head_seq, head_hash
    FROM {SCHEMA}."{events}" e ORDER BY e.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := {SCHEMA}.gongkai_genesis_hash('{community_id}');
  END IF;
  FOR i IN 1 .. n LOOP
    seqs[i] := head_seq + i;
    prevs[i] := head_hash;
    head_hash := {SCHEMA}.gongkai_entry_hash(head_seq + i, head_hash, originator_ids[i],
                                            originator_versions[i], topics[i], states[i]);
    hashes[i] := head_hash;
  END LOOP;
  INSERT INTO {SCHEMA}."{events}"
      (seq, prev_hash, hash, originator_id, originator_version, topic, state)
    SELECT * FROM unnest(seqs, prevs, hashes, originator_ids, originator_versions, topics,
                         states);
  RETURN head_seq + 1;
END"""
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {fn}(originator_ids uuid[], originator_versions bigint[], "
        "topics text[], states bytea[], command_key text, command_fingerprint bytea, "
        "command_result text) RETURNS bigint LANGUAGE plpgsql "
        "SET lock_timeout = '{timeout}s' AS {body}"
    ).format(
        fn=ident(SCHEMA, f"{community_id}_append"),
        timeout=sql.SQL(str(LOCK_TIMEOUT_SECONDS)),
        body=sql.Literal(body),
    )


def community_ddl(community_id: str, service_role: str | None) -> list[sql.Composed]:
    events = events_table(community_id)
    commands = commands_table(community_id)
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "seq bigint PRIMARY KEY, "
            "prev_hash bytea NOT NULL, "
            "hash bytea NOT NULL, "
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text NOT NULL, "
            "state bytea NOT NULL, "
            "UNIQUE (originator_id, originator_version))"
        ).format(t=ident(SCHEMA, events)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "idempotency_key text PRIMARY KEY, "
            "fingerprint bytea NOT NULL, "
            "result text NOT NULL, "
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "event_count integer NOT NULL, "
            "recorded_at timestamptz NOT NULL)"
        ).format(t=ident(SCHEMA, commands)),
        # Not append-only: erasing a person sets their key to NULL (personal_data). The
        # old row version, key and all, stays in the table's file as a dead tuple: no
        # query sees it, and plain VACUUM only marks its space free. **fact** it is gone
        # from the file once VACUUM FULL rewrites the table (tests/contract/
        # test_personal_data.py); WAL segments and backups keep copies until recycled.
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "key_id text PRIMARY KEY, "
            "person_id text NOT NULL UNIQUE, "
            "key bytea, "
            "created_at timestamptz NOT NULL, "
            "erased_at timestamptz)"
        ).format(t=ident(SCHEMA, personal_keys_table(community_id))),
        *personal_keys_ddl(community_id, service_role),
        *seal_ddl(community_id),
        *[
            statement
            for table in (events, commands, *seal_tables(community_id))
            for statement in append_only_ddl(table, service_role)
        ],
        append_function_ddl(community_id),
    ]


LOCK_TIMEOUT_SECONDS: Final = 60
