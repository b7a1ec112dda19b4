"""Entry point: sets Django up, maps domain errors to exit codes, never shows a stack trace."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

import typer

log = logging.getLogger("detente")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()


# Commands a pipeline runs on every build, where start-up time counts: only their own module is
# loaded (typer builds the parameters of every registered command, ~0.15 s for all of them) and
# Django without the REST framework (settings.py, DETENTE_LEAN_APPS). ``detente --help`` and every
# other command load everything.
LEAN_COMMANDS = {"gate": "commands_gates"}


def _lean_module(argv: list[str] | None) -> str | None:
    args = sys.argv[1:] if argv is None else argv
    return LEAN_COMMANDS.get(args[0]) if args else None


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI; ``only`` (a ``detente.cli`` module name) registers that module's commands alone."""
    if only is not None:
        import importlib

        lean = typer.Typer(
            name="detente", no_args_is_help=True, pretty_exceptions_enable=False,
            add_completion=False,
        )  # fmt: skip
        importlib.import_module(f"detente.cli.{only}").register(lean)
        return lean
    from detente.cli import (
        commands_accept,
        commands_account,
        commands_api_register,
        commands_audit,
        commands_backup,
        commands_core,
        commands_findings,
        commands_gates,
        commands_incident,
        commands_initiatives,
        commands_intel,
        commands_meetings,
        commands_org,
        commands_plan,
        commands_report,
        commands_reset,
        commands_serve,
        commands_tension,
        commands_vex,
        commands_worker,
    )

    app = typer.Typer(
        name="detente",
        help="Détente: where the CIO and CISO organisations settle trade-offs on facts.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    commands_core.register(app)
    commands_findings.register(app)
    commands_intel.register(app)
    commands_accept.register(app)
    commands_account.register(app)
    commands_incident.register(app)
    commands_plan.register(app)
    commands_report.register(app)
    commands_tension.register(app)
    commands_vex.register(app)
    commands_worker.register(app)
    commands_serve.register(app)
    commands_audit.register(app)
    commands_gates.register(app)
    commands_api_register.register(app)
    commands_initiatives.register(app)
    commands_org.register(app)
    commands_backup.register(app)
    commands_meetings.register(app)
    commands_reset.register(app)
    return app


# Where exit 3 (a bug, never a user's mistake) tells the user to report it.
BUG_REPORTS = "the Détente issue tracker (see README.md, 'Reporting a bug')"


def run(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point.

    Exit codes: 0 done; 1 refused by a rule; 2 bad input, a usage mistake or an environment to fix
    (one line naming what); 3 a bug in Détente (and where to report it); 130 interrupted.
    """
    try:
        only = _lean_module(argv)
        if only is not None and "DETENTE_LEAN_APPS" not in os.environ:
            os.environ["DETENTE_LEAN_APPS"] = "1"
            try:
                _setup_django()
            finally:
                del os.environ["DETENTE_LEAN_APPS"]  # read once, by settings; not inherited
        else:
            _setup_django()
        from detente.core.errors import DetenteError

        app = build_app() if only is None else build_app(only)
        try:
            app(args=argv, standalone_mode=False)
        except DetenteError as exc:
            typer.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        log.debug("the command failed", exc_info=True)
        code, message = _classify(exc)
        if message is not None:
            typer.echo(message, err=True)
        sys.exit(code)
    sys.exit(0)


def _classify(exc: Exception) -> tuple[int, str | None]:
    """Exit code and one line for what escaped a command (the message may already be shown)."""
    import click
    from typer import _click as typer_click

    # typer ships its own click (typer._click); Django's commands use the real one
    usage = (typer_click.exceptions.ClickException, click.exceptions.ClickException)
    if isinstance(exc, usage):
        exc.show()  # the usage line, the hint and "Error: …" (bare help for no arguments)
        return 2, None
    if isinstance(exc, typer.Exit | click.exceptions.Exit):
        return exc.exit_code, None
    if isinstance(exc, typer.Abort | click.exceptions.Abort | EOFError):
        # click turns EOF (or Ctrl-C) at a prompt into Abort; getpass raises EOFError
        return 2, (
            "error: no answer at a prompt (input ended); run the command in a terminal or "
            "pass the value as an option"
        )
    environment = _environment_error(exc)
    if environment is not None:
        return 2, f"error: {environment}"
    return 3, (
        f"error: internal error ({type(exc).__name__}: {exc}); this is a bug in Détente: "
        f"please report it to {BUG_REPORTS}, with the output of the same command run with "
        "DETENTE_LOG_LEVEL=DEBUG"
    )


def _environment_error(exc: Exception) -> str | None:
    """A one-line description of an environment problem the user can fix, or None."""
    from django.db import DatabaseError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError) or (
        type(exc).__name__ == "OperationalError" and isinstance(exc, DatabaseError)
    ):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"database unavailable ({first}); check DATABASE_URL (or DETENTE_DATA_DIR for "
            "SQLite) and that the database server is running"
        )
    if isinstance(exc, PermissionError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"permission denied{where}; check the file's or folder's permissions"
    if isinstance(exc, FileNotFoundError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"no such file or folder{where}; create the folder or fix the path"
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return f"{exc.strerror}: {exc.filename}; give a file path"
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    return None
