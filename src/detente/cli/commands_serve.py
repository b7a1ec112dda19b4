"""``detente serve``: the web app and REST API behind gunicorn, static files by the app."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from detente.cli.common import console, ensure_database


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def run_server(host: str, port: int, workers: int, threads: int) -> None:
    from django.core.wsgi import get_wsgi_application
    from gunicorn.app.base import BaseApplication

    application = get_wsgi_application()

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-",
                "timeout": 300,  # large scan uploads import inside the request
                "graceful_timeout": 10,
                # gunicorn's largest request line: the app refuses a query string over
                # DETENTE_MAX_QUERY_BYTES with a clean 414 first (web.upload_limit)
                "limit_request_line": 8190,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Threads per worker.")] = 4,
) -> None:
    """Serve the web app and the REST API (OpenAPI document at /api/openapi.json)."""
    ensure_database()
    console.print(f"Détente on http://{host}:{port}/  (API: http://{host}:{port}/api/docs)")
    run_server(host, port, workers, threads)
