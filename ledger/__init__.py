"""gongkai's ledger: hash-chained, append-only event logs, one per community.

Dependencies point inward: nothing here imports FastAPI, and only
``ledger.store.postgres`` imports psycopg.
"""
