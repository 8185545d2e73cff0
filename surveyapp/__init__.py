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

    from surveyapp import auth, i18n, rate_limits, security
    from surveyapp.auth import sessions
    from surveyapp.cli import register_commands
    from surveyapp.errors import register_error_handlers

    i18n.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    rate_limits.init_app(app)
    register_error_handlers(app)
    from surveyapp import (
        account,
        admin,
        api,
        cycles,
        dashboards,
        evidence,
        imports,
        instrument_admin,
        invitations,
        main,
        notifications,
        plans,
        respond,
        results,
        review,
    )

    for blueprint in (auth.bp, main.bp, cycles.bp, respond.bp, review.bp, notifications.bp,
                      admin.bp, results.bp, evidence.bp, invitations.bp, account.bp, api.bp,
                      plans.bp, dashboards.bp, instrument_admin.bp, imports.bp):
        app.register_blueprint(blueprint)
    register_commands(app.cli)
    return app
