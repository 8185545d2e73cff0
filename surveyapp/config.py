"""Configuration defaults and the rules that finish a configuration.

``create_app`` loads, each layer overriding the one before: ``DefaultConfig`` below ->
``instance/config.py`` (silent if missing) -> ``SURVEYAPP_*`` environment variables ->
the mapping passed to ``create_app``. Settings whose default lives in the instance
folder (the SQLite file, ``UPLOAD_DIR``) are derived afterwards, only when still unset.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

#: The built-in secret key; production refuses to start while it is in use.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"

#: Default name of the embedded database, inside the instance folder.
SQLITE_FILENAME = "surveyapp.sqlite"


class ConfigurationError(RuntimeError):
    """The configuration cannot run safely; the message says what to set and where."""


class DefaultConfig:
    """Safe defaults for development; every value can be overridden (see module docstring)."""

    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    #: Public name of the database setting; mapped to SQLALCHEMY_DATABASE_URI.
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Set true whenever the site is served over HTTPS.
    SESSION_COOKIE_SECURE = False
    #: Seconds browsers keep to HTTPS once they saw it (HSTS); sent only on HTTPS requests.
    HSTS_MAX_AGE = 365 * 24 * 3600
    #: Proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers
    #: are believed (0: none, the app faces clients directly).
    PROXY_COUNT = 0
    #: False turns every rate limit and the sign-in lock-out off (load tests from one address);
    #: set on every app, since Flask-Limiter keeps the last app's choice otherwise.
    RATELIMIT_ENABLED = True
    #: Where rate-limit counts live: "memory://" for one process, "redis://host:6379/0" for
    #: several (surveyapp/rate_limits.py). Limits are "N per second|minute|hour|day".
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "surveyapp"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "20 per minute; 200 per hour"
    LOGIN_FAILURE_LIMIT = "5 per 15 minutes"
    LINK_RATE_LIMIT = "120 per minute"
    LINK_ADDRESS_RATE_LIMIT = "600 per minute"
    BAD_LINK_RATE_LIMIT = "20 per hour"
    #: Absolute lifetime of a sign-in: the signed cookie is refused once it is older.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    #: Where evidence files go; defaults to ``<instance>/uploads``, never under static/.
    UPLOAD_DIR: str | None = None
    #: The largest evidence file accepted, in bytes (below MAX_CONTENT_LENGTH).
    EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
    #: The largest answers workbook or Kobo/ODK submissions export accepted, in bytes.
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    #: Outgoing e-mail (surveyapp/mail.py): none is sent while MAIL_SERVER is unset.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    #: "starttls" upgrades a plain connection, "ssl" connects over TLS (port 465), "" neither.
    MAIL_SECURITY = ""
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "surveyapp@localhost"
    MAIL_TIMEOUT = 10
    #: The site's address as users reach it, for links in e-mails sent outside a request.
    PUBLIC_URL: str | None = None


def database_uri(database_url: str | None, instance_path: str) -> str:
    """Turn the public DATABASE_URL into a SQLAlchemy URI, defaulting to embedded SQLite.

    Plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs get the psycopg 3
    driver, the only PostgreSQL driver the project installs.
    """
    if not database_url:
        return f"sqlite:///{Path(instance_path) / SQLITE_FILENAME}"
    for bare_scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(bare_scheme):
            return "postgresql+psycopg://" + database_url.removeprefix(bare_scheme)
    return database_url


def finish_config(config: dict[str, Any], instance_path: str, *, production: bool) -> None:
    """Derive instance-relative settings and refuse unsafe production settings.

    :raises ConfigurationError: in production with the built-in or an empty secret key.
    """
    config["SQLALCHEMY_DATABASE_URI"] = database_uri(config.get("DATABASE_URL"), instance_path)
    if not config.get("UPLOAD_DIR"):
        config["UPLOAD_DIR"] = str(Path(instance_path) / "uploads")
    if production and config.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET_KEY):
        raise ConfigurationError(
            "Refusing to start: SECRET_KEY is not set (the built-in development key is only "
            "for debug and tests). Set the environment variable SURVEYAPP_SECRET_KEY, or put "
            f"SECRET_KEY = '...' in {Path(instance_path) / 'config.py'}. Generate a value with: "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
