"""The ``surveyapp`` command: Flask's CLI with the app's own commands."""

from __future__ import annotations

from importlib import import_module

import click
from flask import Flask
from flask.cli import FlaskGroup, NoAppException

from surveyapp import create_app
from surveyapp.config import ConfigurationError

#: Modules of surveyapp/commands whose ``command`` (or tuple of ``commands``) is registered;
#: add a module by name.
COMMAND_MODULES = (
    "database",
    "users",
    "demo",
    "serve",
    "instruments",
    "scoring",
    "reports",
    "audit",
    "interop",
    "check",
    "backup",
    "imports",
)


def register_commands(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = import_module(f"surveyapp.commands.{name}")
        for command in getattr(module, "commands", None) or (module.command,):
            group.add_command(command)


def _create_app_or_explain() -> Flask:
    """Build the app; a configuration problem becomes a one-line CLI error, not a traceback."""
    try:
        return create_app()
    except ConfigurationError as error:
        raise NoAppException(str(error)) from error


cli = FlaskGroup(
    name="surveyapp",
    create_app=_create_app_or_explain,
    load_dotenv=False,
    help="Maturity self-assessment surveys: set up, demo data, serve.",
)
# On the group as well as on app.cli: the commands are then found, and a configuration
# error reported cleanly, without first building the app.
register_commands(cli)


def main() -> None:
    cli.main(prog_name="surveyapp")
