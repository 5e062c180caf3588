"""ketju: catalogue of Finnish social and health service packages and chains.

Exit codes: 0 all is well, 1 the data is wrong, 2 the command was used wrongly.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ketju.core.kinds import KINDS
from ketju.core.project import Project

if TYPE_CHECKING:
    from ketju.infra.snapshot import Snapshot

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
err = Console(stderr=True)
# Wide enough for the status table when the output goes to a file or a pipe.
out = Console(width=None if sys.stdout.isatty() else 160)

EXIT_DATA = 1
EXIT_USAGE = 2


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Language(StrEnum):
    fi = "fi"
    en = "en"


def _default_language() -> Language:
    lang = os.environ.get("KETJU_LANG") or os.environ.get("LANG", "")
    return Language.fi if lang.startswith("fi") else Language.en


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: data/).")]
    = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json")]
    = OutputFormat.text,
    lang: Annotated[Language | None, typer.Option(help="Language of messages.")] = None,
) -> None:
    """Check contributed Turtle files (syntax, ownership, links, SHACL shapes) and observation
    CSV files (every row; RDF Data Cube integrity constraints)."""
    from ketju.core.project import printable
    from ketju.infra.validate import validate as run_validation

    project = Project.locate()
    # A dangling link is there (and refused as a link); only a name with nothing is a misuse.
    missing = [p for p in paths or [] if not p.exists() and not p.is_symlink()]
    if missing:
        # Printed as given, never read as markup: a name such as `a[/x].ttl` broke rich.
        err.print("No such file or folder: " + ", ".join(printable(str(p)) for p in missing),
                  style="red", markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE)
    report = run_validation(project, paths or None)
    if output is OutputFormat.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        language = (lang or _default_language()).value
        for finding in report.sorted():
            style = "red" if finding.severity.value == "error" else "yellow"
            out.print(finding.text(language), style=style, markup=False, highlight=False,
                      soft_wrap=True)
        summary = (
            f"{report.files_checked} file(s) checked: {len(report.errors)} error(s), "
            f"{len(report.warnings)} warning(s)"
        )
        out.print(summary, style="green" if report.ok else "red", markup=False)
    raise typer.Exit(0 if report.ok else EXIT_DATA)


@app.command()
def build(
    if_needed: Annotated[bool, typer.Option(help="Skip when sources are unchanged.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Validate everything and build the store; the last good store stays if anything fails."""
    from ketju.infra.build import BuildBusy, BuildRefused
    from ketju.infra.build import build as run_build

    project = Project.locate()
    total = len(project.all_files())
    with Progress(console=err, disable=quiet or not err.is_terminal, transient=True) as progress:
        task = progress.add_task("Loading", total=total)
        try:
            result = run_build(
                project, if_needed=if_needed, on_file=lambda _s: progress.advance(task)
            )
        except BuildRefused as refused:
            progress.stop()
            for finding in refused.report.sorted():
                err.print(finding.text(_default_language().value), markup=False, highlight=False,
                          soft_wrap=True)
            err.print(
                f"Build refused: {len(refused.report.errors)} error(s). "
                "The previous store is still in use.", style="red", markup=False,
            )
            raise typer.Exit(EXIT_DATA) from None
        except BuildBusy as busy:
            err.print(f"{busy}; try again when it has finished.", style="red", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
    manifest = result.manifest
    if result.skipped:
        err.print(f"Store is up to date ({manifest['triples']} triples).")
        return
    for warning in result.warnings[:20]:
        err.print(warning.text(_default_language().value), style="yellow", markup=False)
    if len(result.warnings) > 20:
        err.print(f"... and {len(result.warnings) - 20} more warning(s); see `ketju validate`.")
    err.print(
        f"Built {result.path.name}: {manifest['files']} files, {manifest['triples']} triples "
        f"in {manifest['seconds']} s."
    )


#: Class local name -> column of `ketju status` (from the registry of kinds).
SHORT_KIND = {kind.name: kind.short for kind in KINDS if kind.short}


@app.command()
def status() -> None:
    """Show what the store holds, per region and kind."""
    from ketju.infra.store import CatalogueStore, StoreMissing

    project = Project.locate()
    try:
        store = CatalogueStore.open(project)
    except StoreMissing as missing:
        err.print(str(missing))
        raise typer.Exit(EXIT_DATA) from None
    query = (project.queries_dir / "catalogue-summary.rq").read_text(encoding="utf-8")
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    kinds: list[str] = []
    for row in store.select(query):
        kind = SHORT_KIND.get(row["class"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1], "?")
        counts[row["region"].value][kind] = int(row["count"].value)
        if kind not in kinds:
            kinds.append(kind)
    table = Table(title=f"ketju store: {len(store)} triples ({store.path.name})")
    table.add_column("region")
    kinds = [k for k in SHORT_KIND.values() if k in kinds]
    for kind in kinds:
        table.add_column(kind, justify="right")
    for region in sorted(counts):
        table.add_row(region, *(str(counts[region].get(k, "")) for k in kinds))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="KETJU_HOST", help="Address to listen on.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="KETJU_PORT")] = 8000,
    workers: Annotated[int, typer.Option(envvar="KETJU_WORKERS",
                                         help="HTTP server processes.")] = 1,
    query_timeout: Annotated[float, typer.Option(
        envvar="KETJU_QUERY_TIMEOUT", help="Seconds a user SPARQL query may run.")] = 30.0,
    max_rows: Annotated[int, typer.Option(
        envvar="KETJU_MAX_ROWS", help="Most rows (or triples) in one answer.")] = 10_000,
    query_workers: Annotated[int, typer.Option(
        envvar="KETJU_QUERY_WORKERS", help="Query processes per server process.")] = 3,
    query_memory_mb: Annotated[int, typer.Option(
        envvar="KETJU_QUERY_MEMORY_MB", help="Memory ceiling of one query, MiB.")] = 2048,
    queue_timeout: Annotated[float, typer.Option(
        envvar="KETJU_QUEUE_TIMEOUT",
        help="Seconds a query may wait for a query process (then 503).")] = 5.0,
    max_client_queries: Annotated[int, typer.Option(
        envvar="KETJU_MAX_CLIENT_QUERIES",
        help="Queries one client address may run at once (then 429; 0: no cap).")] = 2,
    max_query_nesting: Annotated[int, typer.Option(
        envvar="KETJU_MAX_QUERY_NESTING", help="Deepest nesting a query may have.")] = 100,
    engine_connections: Annotated[int, typer.Option(
        envvar="KETJU_ENGINE_CONNECTIONS",
        help="Remote mode: most threads waiting on the engine at once.")] = 16,
    cors_origins: Annotated[str, typer.Option(
        envvar="KETJU_CORS_ORIGINS", help="Comma-separated allowed origins, or *.")] = "*",
    allowed_service_hosts: Annotated[str, typer.Option(
        envvar="KETJU_ALLOWED_SERVICE_HOSTS",
        help="Comma-separated hosts SERVICE may call (default: none).")] = "",
    public_base_url: Annotated[str | None, typer.Option(
        envvar="KETJU_PUBLIC_BASE_URL", help="Public URL behind a proxy.")] = None,
    sparql_endpoint: Annotated[str | None, typer.Option(
        envvar="KETJU_SPARQL_ENDPOINT",
        help="Serve from this SPARQL 1.1 engine instead of the embedded store.")] = None,
    result_cache_entries: Annotated[int, typer.Option(
        envvar="KETJU_RESULT_CACHE_ENTRIES", help="Answers cached per process (0: off).")]
    = 2048,
    build_first: Annotated[bool, typer.Option(
        "--build/--no-build", help="Build the store first when the sources changed.")] = True,
) -> None:
    """Serve the catalogue: SPARQL, pages, API and feeds (http://127.0.0.1:8000)."""
    import shutil

    import uvicorn

    from ketju.core.settings import Settings

    project = Project.locate()
    settings = Settings.from_env(
        host=host, port=port, workers=workers, query_timeout=query_timeout, max_rows=max_rows,
        query_workers=query_workers, query_memory_mb=query_memory_mb,
        queue_timeout=queue_timeout, max_client_queries=max_client_queries,
        max_query_nesting=max_query_nesting, engine_connections=engine_connections,
        cors_origins=tuple(o.strip() for o in cors_origins.split(",") if o.strip()),
        allowed_service_hosts=tuple(h.strip() for h in allowed_service_hosts.split(",")
                                    if h.strip()),
        public_base_url=public_base_url, sparql_endpoint=sparql_endpoint,
        result_cache_entries=result_cache_entries, home=str(project.root),
    )
    if not sparql_endpoint and build_first:
        build(if_needed=True, quiet=True)
    os.environ.update(settings.to_env())
    if workers > 1:
        metrics_dir = project.var_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    source = f"remote {sparql_endpoint}" if sparql_endpoint else "embedded store"
    err.print(f"Serving on http://{host}:{port} ({source})")
    uvicorn.run("ketju.web.app:factory", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", access_log=False, log_level="warning")


def _chain_iri(text: str) -> str:
    """A chain given as its IRI, region/slug or region/chain/slug, by the function the API
    uses too (`ketju.domain.compare.chain_iri`); exit 2 with the reason otherwise."""
    from ketju.domain.compare import NotAChainName, chain_iri

    try:
        return chain_iri(text)
    except NotAChainName as error:
        err.print(str(error), style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None


def _snapshot() -> Snapshot:
    """The build on disk (the one `var/store` points at), as the server would serve it."""
    from ketju.infra.snapshot import SnapshotSource
    from ketju.infra.store import StoreMissing

    project = Project.locate()
    try:
        return SnapshotSource.embedded(project).current()
    except StoreMissing as missing:
        err.print(f"{missing}", markup=False)
        raise typer.Exit(EXIT_DATA) from None


@app.command()
def compare(
    chain_a: Annotated[str, typer.Argument(
        help="A chain: its IRI, or region/slug (e.g. varsinais-suomi/lonkkamurtuma).")],
    chain_b: Annotated[str, typer.Argument(help="Another chain (or the same one: score 1).")],
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
    lang: Annotated[Language | None, typer.Option(help="Language of names.")] = None,
) -> None:
    """Align two chains step by step and score how similar they are (0 to 1)."""
    import json

    from ketju.domain.compare import UnknownChains, format_comparison
    from ketju.domain.compare import compare as compare_chains

    a, b = _chain_iri(chain_a), _chain_iri(chain_b)
    snapshot = _snapshot()
    language = (lang or _default_language()).value
    try:
        result = compare_chains(snapshot, a, b)
    except UnknownChains as unknown:
        err.print(f"No such service chain: {', '.join(unknown.iris)}", style="red",
                  markup=False)
        raise typer.Exit(EXIT_DATA) from None
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(language), ensure_ascii=False, indent=2)
                         + "\n")
    else:
        sys.stdout.write(format_comparison(result, language) + "\n")


@app.command()
def reuse(
    chain: Annotated[str, typer.Argument(help="The chain: its IRI, or region/slug.")],
    into: Annotated[str, typer.Option("--into", help="The target region's short name.")],
    producers: Annotated[Path | None, typer.Option(
        help="CSV with columns source,target mapping source producers to yours.")] = None,
) -> None:
    """Derive a draft of another region's chain for your region (Turtle on standard output)."""
    from ketju.domain.reuse import ReuseError, derive_chain, read_producer_map

    source = _chain_iri(chain)
    snapshot = _snapshot()
    try:
        mapping = read_producer_map(producers) if producers else None
        derived = derive_chain(snapshot, source, into, producer_map=mapping)
    except (ReuseError, OSError) as error:
        message = error.messages.get(_default_language().value) if isinstance(
            error, ReuseError) else str(error)
        err.print(message, style="red", markup=False)
        raise typer.Exit(EXIT_DATA) from None
    sys.stdout.write(derived.turtle)
    if derived.placeholders:
        err.print(f"{len(derived.placeholders)} producer placeholder(s) to complete; "
                  f"save as data/{into}/ and check with `ketju validate`.", markup=False)


@app.command()
def codelists() -> None:
    """Regenerate ontology/generated/ from the official code lists in standards/."""
    from ketju.infra.codelists import generate

    project = Project.locate()
    counts = generate(project.root / "standards", project.ontology_dir / "generated")
    for name, count in counts.items():
        out.print(f"{name}: {count}")


@app.command()
def export(
    what: Annotated[str, typer.Argument(help="What to export: cpsv-ap.")],
    output_format: Annotated[str, typer.Option(
        "--format", help="turtle, ntriples, jsonld or rdfxml.")] = "turtle",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: standard output).")] = None,
) -> None:
    """Export the built store in a national format: `cpsv-ap` (CPSV-AP 3.2.0 services)."""
    from ketju.infra.feeds import cpsv

    if what != "cpsv-ap":
        err.print(f"Unknown export '{what}': the only one is cpsv-ap.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    if output_format not in cpsv.FEED_FILES:
        err.print(f"Unknown format '{output_format}': use "
                  f"{', '.join(cpsv.FEED_FILES)}.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    body = cpsv.export_bytes(_snapshot(), output_format)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        try:
            output.write_bytes(body)
        except OSError as error:
            err.print(f"Cannot write {output}: {error}", style="red", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        err.print(f"Wrote {output} ({len(body)} bytes).", markup=False)


observations_app = typer.Typer(no_args_is_help=True, add_completion=False,
                                help="Indicator observations (mittarihavainnot).")
app.add_typer(observations_app, name="observations")


class ImportSource(StrEnum):
    sotkanet_csv = "sotkanet-csv"


@observations_app.command("import")
def import_observations(
    file: Annotated[Path, typer.Argument(help="The export to import.")],
    source: Annotated[ImportSource, typer.Option(
        "--from", help="What the file is: sotkanet-csv (THL Sotkanet's CSV export).")],
    region: Annotated[str, typer.Option(help="The region whose indicators the rows are.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o",
        help="Contribution file to write, e.g. data/REGION/observations/sotkanet.csv "
             "(default: standard output).")] = None,
    lang: Annotated[Language | None, typer.Option(help="Language of messages.")] = None,
) -> None:
    """Turn a Sotkanet CSV export into an observation contribution file; rows it cannot map
    are listed with their line numbers (exit status 1), the rest is still written."""
    import re

    from ketju.infra.observations import contribution_columns
    from ketju.infra.sotkanet import SotkanetFileError, convert, mapping

    language = (lang or _default_language()).value
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", region):
        err.print(f"Unknown region '{region}'.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    snapshot = _snapshot()
    known = mapping(snapshot, region)
    if known.region_id is None:
        err.print(f"Unknown region '{region}'.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    try:
        imported = convert(file.read_text(encoding="utf-8-sig"), known, region)
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"Cannot read {file}: {error}", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    except SotkanetFileError as error:
        err.print(f"{file}: {error.messages[language]}", style="red", markup=False)
        raise typer.Exit(EXIT_DATA) from None
    body = imported.csv(contribution_columns(Project.locate().root))
    if output is None:
        sys.stdout.write(body)
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(body, encoding="utf-8")
        except OSError as error:
            err.print(f"Cannot write {output}: {error}", style="red", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
    for unmapped in imported.unmapped:
        err.print(f"{file}:{unmapped.text(language)}", style="yellow", markup=False,
                  highlight=False, soft_wrap=True)
    summary = {"fi": f"{len(imported.rows)} havaintoa, {len(imported.unmapped)} riviä ei "
                     "voitu sijoittaa.",
               "en": f"{len(imported.rows)} observation(s), {len(imported.unmapped)} row(s) "
                     "not mapped."}[language]
    err.print(summary + (f" ({output})" if output else ""), markup=False, highlight=False)
    if imported.unmapped:
        raise typer.Exit(EXIT_DATA)


workbook_app = typer.Typer(no_args_is_help=True, add_completion=False,
                            help="Excel workbooks for planners (työkirjat): new, export, import.")
app.add_typer(workbook_app, name="workbook")

_REGION = r"[a-z0-9]+(-[a-z0-9]+)*"


def _save_workbook(book: object, output: Path) -> None:
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        book.save(output)  # type: ignore[attr-defined]
    except OSError as error:
        err.print(f"Cannot write {output}: {error}", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    err.print(f"Wrote {output}.", markup=False)


@workbook_app.command("new")
def workbook_new(
    region: Annotated[str, typer.Option(help="The region's short name, e.g. varsinais-suomi.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .xlsx file to write.")],
) -> None:
    """Write an empty workbook for a region: a sheet per kind, drop-down lists from the
    vocabularies and from the region's own producers and services, and instructions."""
    import re

    from ketju.domain.workbook import Catalogue, new_workbook

    project = Project.locate()
    if not re.fullmatch(_REGION, region) or region not in project.regions_in_data():
        err.print(f"Unknown region '{region}'.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    _save_workbook(new_workbook(Catalogue.load(project), region), output)


@workbook_app.command("export")
def workbook_export(
    description: Annotated[str, typer.Argument(
        help="A chain or package: its IRI, or region/slug (e.g. varsinais-suomi/lonkkamurtuma)"
             " or region/chain/slug, region/package/slug.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .xlsx file to write.")],
) -> None:
    """Write an existing description (the whole Turtle file it lives in) into a workbook."""
    from ketju.domain.compare import region_of
    from ketju.domain.workbook import (
        Catalogue,
        NotADescription,
        description_file,
        export_workbook,
    )

    project = Project.locate()
    try:
        iri, path = description_file(project, description)
    except NotADescription as error:
        err.print(str(error), style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    region = region_of(iri) or path.parent.name
    _save_workbook(export_workbook(Catalogue.load(project), region, path), output)


@workbook_app.command("import")
def workbook_import(
    file: Annotated[Path, typer.Argument(help="The filled-in workbook (.xlsx).")],
    region: Annotated[str, typer.Option(help="The region whose data the workbook is.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Folder to write the Turtle file into (default: data/REGION/).")]
    = None,
    lang: Annotated[Language | None, typer.Option(help="Language of messages.")] = None,
) -> None:
    """Turn a workbook into a Turtle file and validate it; every problem is shown with its
    sheet, row and column (exit status 1) and then nothing is written."""
    import re
    import zipfile

    from ketju.domain.workbook import import_workbook

    language = (lang or _default_language()).value
    project = Project.locate()
    if not re.fullmatch(_REGION, region):
        err.print(f"Unknown region '{region}'.", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE)
    try:
        result = import_workbook(project, file, region, output)
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        err.print(f"Cannot read {file}: {error}", style="red", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    for problem in result.warnings:
        err.print(problem.text(language), style="yellow", markup=False, highlight=False,
                  soft_wrap=True)
    for problem in result.problems:
        err.print(problem.text(language), style="red", markup=False, highlight=False,
                  soft_wrap=True)
    if result.problems:
        count = len(result.problems)
        err.print({"fi": f"{count} {'virhe' if count == 1 else 'virhettä'}; mitään ei "
                         "kirjoitettu.",
                   "en": f"{count} problem(s); nothing was written."}[language],
                  markup=False, highlight=False)
        raise typer.Exit(EXIT_DATA)
    err.print(f"Wrote {result.written}.", markup=False, highlight=False)


class ReviewFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    text = "text"


class ReviewLanguage(StrEnum):
    fi = "fi"
    sv = "sv"
    en = "en"


@app.command()
def diff(
    base: Annotated[str, typer.Argument(help="Before: a git revision or a folder.")],
    head: Annotated[str, typer.Argument(help="After: a git revision or a folder.")],
    output: Annotated[ReviewFormat, typer.Option(
        "--format", help="markdown (a pull-request comment), json (records) or text")]
    = ReviewFormat.text,
    lang: Annotated[ReviewLanguage | None, typer.Option(help="Language of the review.")]
    = None,
    strict: Annotated[bool, typer.Option(
        help="Exit with status 1 when a change is a problem (a status that goes backwards).")]
    = False,
) -> None:
    """What changed in the descriptions (packages and chains) between two git revisions of
    this repository or two folders (a project root or a data folder): steps added, removed,
    moved or changed, hand-overs, goals, indicators, targets, producers, life cycle."""
    from ketju.domain.review import FORMATS, SourceError, review

    language = (lang or ReviewLanguage(_default_language().value)).value
    try:
        found = review(base, head, Project.locate().root)
    except SourceError as error:
        err.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    sys.stdout.write(FORMATS[output.value](found, language))
    if strict and found.problems:
        raise typer.Exit(EXIT_DATA)


def main() -> None:
    app()
