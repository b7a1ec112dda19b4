"""``detente org …``: people, services and assets from a file, Backstage or a CMDB."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import ensure_database

org_app = typer.Typer(
    help="The organisation: people, services and assets from a file, Backstage or a CMDB.",
    no_args_is_help=True,
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]


class Source(enum.StrEnum):
    ORG = "org"
    BACKSTAGE = "backstage"
    CMDB_CSV = "cmdb-csv"


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")


def _read(source: Source, paths: list[Path], mapping: Path | None) -> Any:
    from detente.core.errors import InputError
    from detente.org.document import read_document

    if source is Source.ORG:
        if len(paths) != 1:
            raise InputError("give one organisation file (org.yaml)")
        if mapping is not None:
            raise InputError("--mapping is for --from cmdb-csv", field="mapping")
        return read_document(paths[0])
    if source is Source.BACKSTAGE:
        from detente.org.backstage import read_catalog

        return read_catalog(paths, roles=mapping)
    from detente.org.cmdb import read_cmdb_csv

    return read_cmdb_csv(paths, mapping=mapping)


def _actor(email: str | None) -> Any:
    """The person applying; nobody (the system) only while no one may change the organisation
    yet, i.e. on a first install."""
    import os

    from detente.org.services import ORG_WRITERS
    from detente.people.models import Person
    from detente.people.selectors import person_by_email

    if email or os.environ.get("DETENTE_ACTOR"):
        return person_by_email(email)
    if Person.objects.holding(*ORG_WRITERS).filter(active=True).exists():
        return person_by_email(None)  # asks for --as
    return None


@org_app.command("apply")
def apply(
    paths: Annotated[
        list[Path], typer.Argument(help="org.yaml, catalog files or folders, or CSV.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff; change nothing.")
    ] = False,
    source: Annotated[Source, typer.Option("--from", help="What the files are.")] = Source.ORG,
    mapping: Annotated[
        Path | None,
        typer.Option(help="cmdb-csv: column mapping (YAML); backstage: group→role mapping."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")] = False,
    as_: As = None,
) -> None:
    """Bring the organisation to what the file says: added, changed, removed (deactivated)."""
    from detente.org.services import org_apply

    ensure_database()
    document = _read(source, paths, mapping)
    actor = _actor(as_)
    plan = org_apply(
        document=document, actor=actor, dry_run=dry_run, file=", ".join(map(str, paths))
    )
    if not quiet:
        for change in plan.changes:
            typer.echo(change.line())
    verb = "would change" if dry_run else "applied"
    if not plan.changes:
        typer.echo("no change")
        return
    typer.echo(f"{verb}: {plan.summary()}")
    if plan.applied and plan.moves_deadlines:
        from detente.findings.services import findings_reevaluate

        result = findings_reevaluate(actor=actor)
        typer.echo(
            f"deadlines re-evaluated: {result.checked} findings checked, {result.changed} changed"
        )


@org_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
) -> None:
    """Write the current organisation in the organisation-file format (JSON for a .json file)."""
    from detente.org.document import dump_document, dump_json
    from detente.org.selectors import org_export

    ensure_database()
    document = org_export()
    text = dump_json(document) if out and out.suffix.lower() == ".json" else dump_document(document)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


@org_app.command("convert")
def convert(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files or folders, or CSV.")],
    source: Annotated[Source, typer.Option("--from", help="What the files are.")],
    mapping: Annotated[Path | None, typer.Option(help="Column or group→role mapping.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
) -> None:
    """Turn a Backstage catalog or a CMDB export into an organisation file, to review and apply."""
    from detente.org.document import dump_document

    text = dump_document(_read(source, paths, mapping))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
