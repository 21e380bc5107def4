"""Rows as dictionaries, written once for every store.

sqlite3 returns tuples; the stores hand their callers dictionaries keyed by column name,
so that adding a column never shifts an index somewhere else.
"""
from __future__ import annotations

import sqlite3
from typing import Any


def dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Every remaining row of ``cursor``, each as ``{column: value}``."""
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def first_dict(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    """The first row of ``cursor`` as ``{column: value}``, or None when there is none."""
    row = cursor.fetchone()
    return None if row is None else dict(zip([c[0] for c in cursor.description], row))
