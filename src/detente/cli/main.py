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


def build_app() -> typer.Typer:
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
        commands_org,
        commands_plan,
        commands_report,
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
    return app


def run(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    try:
        _setup_django()
        from detente.core.errors import DetenteError

        app = build_app()
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
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        # Typer (0.22+) raises its own copy of click's exceptions: usage errors are bad input.
        if isinstance(exc, typer.TyperException) and callable(show := getattr(exc, "show", None)):
            show()
            sys.exit(2)
        if isinstance(exc, typer.Abort):
            sys.exit(1)
        if isinstance(exc, typer.Exit):
            sys.exit(exc.exit_code)
        log.debug("unexpected error", exc_info=True)
        typer.echo(
            f"error: internal error ({type(exc).__name__}: {exc}); "
            "set DETENTE_LOG_LEVEL=DEBUG for details",
            err=True,
        )
        sys.exit(3)
    sys.exit(0)
