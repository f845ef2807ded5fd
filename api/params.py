"""Bounds the routes' parameters share."""

from __future__ import annotations

from typing import Final

MAX_SEQ: Final = 2**63 - 1
"""The largest entry number or tree size: the stores hold them as signed 64-bit integers
(SQLite's INTEGER, PostgreSQL's BIGINT). A larger one names nothing, so a route refuses
it as invalid (422) before it reaches a query, where the database driver would fail on it."""
