"""``surveyapp serve``: run the web app."""

from __future__ import annotations

import importlib.util
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from surveyapp.models import Role
from surveyapp.services.demo import DEMO_PASSWORD, DEMO_USERS
from surveyapp.services.users import find_user_by_email


def gunicorn_available() -> bool:
    return importlib.util.find_spec("gunicorn") is not None


def demo_hint() -> str:
    """Say how to sign in: as the demo coordinator (the fullest home page) if there is one."""
    email = next(
        email for email, _name, roles in DEMO_USERS if any(r is Role.coordinator for r, _ in roles)
    )
    if find_user_by_email(email) is None:
        return "No demo data: 'surveyapp demo' creates it, 'surveyapp create-user' adds a user."
    return f"Sign in as {email} / {DEMO_PASSWORD}; 'surveyapp demo' lists every demo login."


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@with_appcontext
def command(host: str, port: int) -> None:
    """Serve the web app: gunicorn when installed, else Flask's threaded server."""
    click.echo(f"surveyapp at http://{host}:{port}/")
    click.echo(demo_hint())
    if gunicorn_available():
        # gunicorn builds the app in each worker from the same environment.
        args = ["--bind", f"{host}:{port}", "--workers", "2", "surveyapp:create_app()"]
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *args])
    else:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        run_simple(host, port, app, threaded=True)
