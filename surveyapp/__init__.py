"""surveyapp: maturity self-assessment surveys for UN and humanitarian organisations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask

from surveyapp.config import DefaultConfig, finish_config
from surveyapp.extensions import csrf, db, migrate

#: Shipped inside the package so that an installed wheel can create and upgrade databases.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app.

    Configuration is read from, each overriding the one before: ``surveyapp.config``
    defaults, ``instance/config.py``, ``SURVEYAPP_*`` environment variables, ``config``.
    The instance folder is ``config["INSTANCE_PATH"]``, else ``$SURVEYAPP_INSTANCE_PATH``,
    else Flask's default.

    :raises ConfigurationError: outside debug and testing, without a real secret key.
    """
    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get(
        "SURVEYAPP_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        # A top-level package, so templates ship in the wheel and are found once installed.
        template_folder=str(resources.files("templates")),
    )
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SURVEYAPP")
    app.config.from_mapping(overrides)
    finish_config(app.config, app.instance_path, production=not (app.debug or app.testing))
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)

    from surveyapp import auth, i18n, main, security
    from surveyapp.auth import sessions
    from surveyapp.cli import register_commands
    from surveyapp.errors import register_error_handlers

    i18n.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    register_error_handlers(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    from surveyapp import cycles, respond

    app.register_blueprint(cycles.bp)
    app.register_blueprint(respond.bp)
    from surveyapp import admin, notifications, results, review

    for blueprint in (review.bp, notifications.bp, admin.bp, results.bp):
        app.register_blueprint(blueprint)
    from surveyapp import evidence, invitations

    app.register_blueprint(evidence.bp)
    app.register_blueprint(invitations.bp)
    register_commands(app.cli)
    return app
