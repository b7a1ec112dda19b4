"""``detente intel …`` and ``detente policy …``."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError

intel_app = typer.Typer(help="Threat intelligence: CISA KEV, FIRST EPSS, Vulnrichment.")
policy_app = typer.Typer(help="The policy document that sets deadlines and sign-off rules.")

OFFICIAL_FEEDS = {
    "known_exploited_vulnerabilities.json": (
        "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
    ),
    "epss_scores-current.csv.gz": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
}


def register(app: typer.Typer) -> None:
    app.add_typer(intel_app, name="intel", no_args_is_help=True)
    app.add_typer(policy_app, name="policy", no_args_is_help=True)


@intel_app.command("load")
def intel_load(
    files: Annotated[list[Path], typer.Argument(help="KEV, EPSS or Vulnrichment files.")],
) -> None:
    """Load feed files, then re-evaluate open findings against them."""
    ensure_database()
    from detente.findings.services import findings_reevaluate
    from detente.intel.services import intel_load as load

    for path in files:
        done = load(path=path)
        console.print(
            f"{path.name}: {done.get_kind_display()} {done.version or ''} — {done.records} records"
        )
    result = findings_reevaluate()
    console.print(f"re-evaluated {result.checked} open findings, {result.changed} changed")


@intel_app.command("update")
def intel_update(
    folder: Annotated[Path, typer.Option(help="Where to keep the downloaded files.")] = Path("."),
) -> None:
    """Download KEV and EPSS from their official sources (only when asked), then load them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, url in OFFICIAL_FEEDS.items():
        target = folder / name
        console.print(f"downloading {url}")
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URLs
                target.write_bytes(response.read())
        except OSError as exc:
            raise InputError(f"download failed ({exc})", file=url) from None
        paths.append(target)
    intel_load(paths)


@intel_app.command("status")
def intel_status(
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """What intelligence is loaded, from which file, of which date."""
    ensure_database()
    from detente.intel.selectors import intel_counts
    from detente.intel.selectors import intel_status as status

    counts = intel_counts()
    rows = []
    for kind, load in status().items():
        rows.append(
            {
                "feed": kind,
                "records": counts.get("ssvc" if kind == "vulnrichment" else kind, 0),
                "version": load.version if load else None,
                "feed_date": load.feed_date if load else None,
                "source": load.source if load else "not loaded",
                "loaded_at": load.loaded_at if load else None,
            }
        )
    emit(
        rows,
        ("feed", "records", "version", "feed_date", "source", "loaded_at"),
        fmt,
        "Intelligence",
    )


@policy_app.command("show")
def policy_show() -> None:
    """Print the active policy document."""
    ensure_database()
    from detente.policy.services import policy_ensure_default

    version = policy_ensure_default()
    # plain writes, never wrapped at the terminal's width: `policy show > my.yaml` must validate
    typer.echo(f"# active policy v{version.version}: {version.name} ({version.pack})")
    typer.echo(version.document, nl=not version.document.endswith("\n"))


@policy_app.command("validate")
def policy_validate(file: Annotated[Path, typer.Argument()]) -> None:
    """Check a policy file without activating it."""
    from detente.policy.document import parse_policy

    doc = parse_policy(_read(file), source=str(file))
    console.print(f"{file}: valid ({doc.name}, {len(doc.deadlines.classes)} deadline classes)")


@policy_app.command("apply")
def policy_apply(
    file: Annotated[Path | None, typer.Argument(help="Policy YAML to activate.")] = None,
    pack: Annotated[
        str | None, typer.Option(help="Activate a built-in pack: bod-26-04, fedramp, pci-dss-4.")
    ] = None,
) -> None:
    """Activate a policy (file or pack) and recompute every open finding's deadline."""
    ensure_database()
    from detente.findings.services import findings_reevaluate
    from detente.policy.document import pack_text
    from detente.policy.services import policy_activate, policy_ensure_default

    if file is not None and pack is not None:
        raise InputError("give a file or --pack, not both")
    if file is not None:
        version = policy_activate(text=_read(file), source=str(file))
    elif pack is not None:
        version = policy_activate(text=pack_text(pack), source=f"pack {pack}")
    else:
        version = policy_ensure_default()
    result = findings_reevaluate()
    console.print(
        f"policy v{version.version} ({version.pack}) active; "
        f"{result.checked} open findings checked, {result.moved} deadlines changed"
    )


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read policy ({exc})", file=str(file)) from None
