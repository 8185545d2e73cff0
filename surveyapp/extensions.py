"""Flask extensions, created unbound here and bound to the app in ``create_app``.

Keeping them at module level lets models, services and views import ``db`` without
importing the app (the microblog / Flask-SQLAlchemy pattern).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase, registry

#: Stable, readable constraint names so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: naming convention, and timezone-aware datetimes by default."""

    # On the registry rather than the class, because Flask-SQLAlchemy subclasses this base.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """Make SQLite enforce foreign keys, as PostgreSQL always does."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA foreign_keys = ON")


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
#: Counts in RATELIMIT_STORAGE_URI; the limits themselves are in ``surveyapp.rate_limits``.
limiter = Limiter(key_func=get_remote_address)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
# "strong" drops the whole session when the browser or address changes (Flask-Login
# applies it only to non-permanent sessions, which is why sign-ins are not permanent).
login_manager.session_protection = "strong"
