"""Helpers shared by the model modules."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Enum


def now_utc() -> datetime:
    """Return the current time, timezone-aware, for column defaults."""
    return datetime.now(UTC)


def enum_column_type(enum_class: type[StrEnum], name: str) -> Enum:
    """Store an enum as text guarded by a named CHECK constraint, on every database.

    Text rather than a native PostgreSQL enum keeps migrations identical on SQLite and
    PostgreSQL; the constraint is named ``ck_<table>_<name>`` by the naming convention.
    The values are stored, not the member names, so a value may be a Python keyword
    (``continue``).
    """
    return Enum(enum_class, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda members: [member.value for member in members])
