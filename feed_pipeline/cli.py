"""`feed-pipeline`: manage feeds, run them through Dagster, review jobs, serve the API and the Xano sandbox.

Results go to stdout as JSON; progress and logs go to stderr.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from feed_pipeline.core.taxonomy import TAXONOMY_ENV, TaxonomyError, read_taxonomy_json, taxonomy_from_dict
from feed_pipeline.redacted_logging import install_log_redaction
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import jobs as job_store
from feed_pipeline.store.db import engine_for

SAMPLE_FEED_ID = "sample"
SAMPLE_FEED_PATH = Path(__file__).parent / "data" / "sample_feed.xml"


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, default=str, sort_keys=False))


def _parse_params(pairs: tuple[str, ...]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's own logs on stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """feed_pipeline: job feeds -> dedupe -> AI classification -> routing -> Xano."""
    ctx.obj = {"log_level": "DEBUG" if verbose else "INFO"}
    install_log_redaction()  # before any handler: -v shows httpx's request lines, credentials included
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("dagster").setLevel(logging.ERROR)


# --- feeds ----------------------------------------------------------------------------------------------------


@main.group()
def feeds() -> None:
    """Register, list and disable feeds."""


@feeds.command("add")
@click.argument("feed_id")
@click.option("--url", help="http(s)://, file:// or a local path (gzip allowed); API kinds need none. "
                             "${NAME} in the URL is the environment variable NAME, read at fetch time.")
@click.option("--kind", type=click.Choice(feed_store.FEED_KINDS), default="xml", show_default=True)
@click.option("--name", help="Display name (default: the feed id).")
@click.option("--param", "params", multiple=True, help="KEY=VALUE (JSON values allowed); repeatable. "
              "category_hint=true passes the feed's own <category> to the classifier as a hint.")
@click.option("--taxonomy", "taxonomy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The feed's own taxonomy JSON; its content is stored, so the file may move afterwards.")
@click.option("--default-taxonomy", is_flag=True,
              help=f"Drop the feed's own taxonomy: use the deployment's ({TAXONOMY_ENV}, else the bundled one).")
def feeds_add(feed_id: str, url: str | None, kind: str, name: str | None, params: tuple[str, ...],
              taxonomy_path: Path | None, default_taxonomy: bool) -> None:
    """Register FEED_ID (or update it) and make it active. Its taxonomy stays as it was unless --taxonomy or
    --default-taxonomy is given."""
    if url and kind == "xml" and "://" not in url:
        path = Path(url).expanduser()
        if not path.exists():
            raise click.UsageError(f"feed file {url} does not exist")
        url = str(path.resolve())
    if taxonomy_path and default_taxonomy:
        raise click.UsageError("give either --taxonomy PATH or --default-taxonomy, not both")
    taxonomy = None if default_taxonomy else feed_store.KEEP
    if taxonomy_path:
        try:
            taxonomy = read_taxonomy_json(taxonomy_path)
            taxonomy_from_dict(taxonomy, where=str(taxonomy_path))  # errors name the file, not only the feed
        except TaxonomyError as exc:
            raise click.UsageError(str(exc)) from exc
    try:
        feed = feed_store.upsert_feed(engine_for(), feed_id, url=url, kind=kind, name=name,
                                      params=_parse_params(params), taxonomy=taxonomy)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    _echo_json(feed.as_redacted_dict())


@feeds.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only active feeds.")
def feeds_list(active_only: bool) -> None:
    """One JSON object per feed, with its health."""
    for feed in feed_store.list_feeds(engine_for(), active_only=active_only):
        _echo_json(feed.as_redacted_dict())


@feeds.command("disable")
@click.argument("feed_id")
def feeds_disable(feed_id: str) -> None:
    """Stop scheduling FEED_ID; its jobs stay in the database."""
    try:
        _echo_json(feed_store.set_feed_active(engine_for(), feed_id, False).as_redacted_dict())
    except feed_store.FeedNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@feeds.command("enable")
@click.argument("feed_id")
def feeds_enable(feed_id: str) -> None:
    """Make FEED_ID active again."""
    try:
        _echo_json(feed_store.set_feed_active(engine_for(), feed_id, True).as_redacted_dict())
    except feed_store.FeedNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


# --- runs -----------------------------------------------------------------------------------------------------


def _run_feeds(feed_ids: list[str], *, force: bool, allow_mass_delete: bool) -> int:
    """Run each feed, print its summary; returns the exit status (`runner.EXIT_CODES`: 0, 1 failed, 3 partial)."""
    log_level = (click.get_current_context().obj or {}).get("log_level", "INFO")
    from feed_pipeline.automation.runner import default_instance, exit_code, run_feed
    from feed_pipeline.definitions import build_definitions
    from feed_pipeline.store import reports

    defs = build_definitions()
    instance = default_instance()
    statuses = []
    for feed_id in feed_ids:
        click.echo(f"running feed {feed_id} ...", err=True)
        try:
            summary = run_feed(defs, instance, feed_id, force=force, allow_mass_delete=allow_mass_delete,
                               log_level=log_level)
        except feed_store.FeedNotFoundError as exc:
            summary = {"feed_id": feed_id, "status": reports.FAILED, "error": str(exc)}
        statuses.append(summary["status"])
        if summary["status"] == reports.PARTIAL:
            click.echo(f"feed {feed_id} partial: {'; '.join(summary.get('reasons', []))}", err=True)
        elif summary["status"] != reports.SUCCESS:
            click.echo(f"feed {feed_id} {summary['status']}: {summary.get('error')}", err=True)
        _echo_json(summary)
    return exit_code(statuses)


@main.command("run")
@click.argument("feed_ids", nargs=-1)
@click.option("--all", "all_feeds", is_flag=True, help="Every active feed.")
@click.option("--force", is_flag=True, help="Re-parse feeds even when their version did not change.")
@click.option("--allow-mass-delete", is_flag=True, help="Let the mirror delete past the safety valve.")
def run(feed_ids: tuple[str, ...], all_feeds: bool, force: bool, allow_mass_delete: bool) -> None:
    """Run feed_job for each FEED_ID through Dagster; one JSON summary per feed on stdout.

    Exit status: 0 every run succeeded, 1 a run failed (or its feed was already running), 3 a run was partial
    (work left undone: AI failures, an incomplete ingest, held-back deletes; see its `reasons`).
    """
    ids = list(feed_ids)
    if all_feeds:
        ids += [f.id for f in feed_store.list_feeds(engine_for(), active_only=True) if f.id not in ids]
    if not ids:
        raise click.UsageError("name at least one FEED_ID, or use --all")
    sys.exit(_run_feeds(ids, force=force, allow_mass_delete=allow_mass_delete))


@main.command()
def demo() -> None:
    """Register the bundled sample feed and run it on the embedded default (what `make run` does)."""
    feed_store.upsert_feed(engine_for(), SAMPLE_FEED_ID, url=str(SAMPLE_FEED_PATH), kind="xml",
                           name="Bundled sample feed")
    code = _run_feeds([SAMPLE_FEED_ID], force=False, allow_mass_delete=False)
    click.echo("see the mirrored jobs with `.venv/bin/feed-pipeline xano-sandbox` and the UI with `make dev` "
               "(the same Dagster instance, .dagster_home/)", err=True)
    sys.exit(code)


# --- review ---------------------------------------------------------------------------------------------------


@main.command()
@click.argument("job_key")
@click.option("--approve", "decision", flag_value="approve", help="Publish the job.")
@click.option("--reject", "decision", flag_value="reject", help="Keep the job out of Xano.")
@click.option("--note", help="Why; kept with the decision.")
def review(job_key: str, decision: str | None, note: str | None) -> None:
    """Record a manual review decision; routing applies it on every run until the job's content changes."""
    if decision is None:
        raise click.UsageError("choose --approve or --reject")
    try:
        row = job_store.record_review(engine_for(), job_key, decision, note=note, decided_by="cli")
    except job_store.JobNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_json(row)


# --- measuring classification ---------------------------------------------------------------------------------


def _labels_and_map(labels_path: str | None, map_path: str | None) -> tuple[dict | None, dict | None]:
    """The labels file and the label map, each read when given; a bad file is a usage error naming it."""
    from feed_pipeline.evaluation.labels import LabelsFileError, load_label_map, load_labels

    try:
        return (load_labels(labels_path) if labels_path else None,
                load_label_map(map_path) if map_path else None)
    except LabelsFileError as exc:
        raise click.UsageError(str(exc)) from exc


_target_option = click.option("--target-precision", "target", type=click.FloatRange(0, 1, min_open=True),
                              default=0.97, show_default=True, help="Approved precision the thresholds must reach.")
_level_option = click.option("--level", type=click.Choice(["function", "industry"]), default="function",
                             show_default=True, help="Compare labels with the predicted function or industry.")
_label_map_option = click.option("--label-map", "label_map_path", type=click.Path(dir_okay=False),
                                 help="JSON object: reference label -> function name (unlisted labels match "
                                      "functions of the same name, case and spacing ignored).")


@main.command()
@click.argument("feed_id")
@click.option("--label-field", help="The feed's own field holding the reference label, e.g. category.")
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False),
              help="CSV (header: id,label) or JSON of the feed's own ids (<referencenumber>) -> label.")
@click.option("--taxonomy", "taxonomy_path", type=click.Path(dir_okay=False), help="Classify with this taxonomy.")
@_label_map_option
@_level_option
@_target_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Report folder (default: .feed_pipeline/reports/FEED_ID/).")
def evaluate(feed_id: str, label_field: str | None, labels_path: str | None, taxonomy_path: str | None,
             label_map_path: str | None, level: str, target: float, out_dir: str | None) -> None:
    """Classify FEED_ID blind to its reference labels and measure agreement, approved precision and coverage.

    Uses the classifier and thresholds a run would use; writes no stage table, no job and nothing to Xano.
    JSON figures on stdout; evaluation.md and evaluation.png in the report folder.
    """
    from feed_pipeline.core.taxonomy import TaxonomyError
    from feed_pipeline.evaluation.classify import resolve_taxonomy
    from feed_pipeline.evaluation.evaluate import EvaluationError, PipelineSettings, evaluate_feed, reports_dir
    from feed_pipeline.evaluation.report import write_evaluation_report
    from feed_pipeline.sources.base import FeedError

    if (label_field is None) == (labels_path is None):
        raise click.UsageError("give exactly one of --label-field FIELD and --labels FILE")
    labels, label_map = _labels_and_map(labels_path, label_map_path)
    try:
        taxonomy = resolve_taxonomy(taxonomy_path, engine=engine_for(), feed_id=feed_id)
    except TaxonomyError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"evaluating feed {feed_id} ...", err=True)
    try:
        figures = evaluate_feed(engine_for(), feed_id, taxonomy=taxonomy, settings=PipelineSettings.from_env(),
                                label_field=label_field, labels=labels, label_map=label_map, level=level,
                                target=target)
    except (feed_store.FeedNotFoundError, FeedError, EvaluationError) as exc:
        raise click.ClickException(str(exc)) from exc
    figures["taxonomy"] = taxonomy_path or f"the feed's ({taxonomy.version})"
    figures["report"] = write_evaluation_report(figures, Path(out_dir) if out_dir else reports_dir(feed_id))
    _echo_json(figures)


@main.command()
@click.argument("feed_ids", nargs=-1)
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False),
              help="CSV or JSON of the feeds' own ids -> label, judged against the stored classification.")
@click.option("--no-reviews", is_flag=True, help="Ignore review decisions (judge by --labels only).")
@_label_map_option
@_level_option
@_target_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Report folder (default: .feed_pipeline/reports/calibration/).")
def calibrate(feed_ids: tuple[str, ...], labels_path: str | None, no_reviews: bool, label_map_path: str | None,
              level: str, target: float, out_dir: str | None) -> None:
    """How precise `approved` really is, judged by review decisions (approve = right, reject = wrong) and/or
    labels, and which approve_at / archive_below reach the target precision. All feeds when none is named."""
    from feed_pipeline.evaluation.evaluate import EvaluationError, calibrate, configured_thresholds, reports_dir
    from feed_pipeline.evaluation.report import write_calibration_report

    if no_reviews and labels_path is None:
        raise click.UsageError("--no-reviews leaves nothing to judge by: add --labels FILE")
    labels, label_map = _labels_and_map(labels_path, label_map_path)
    try:
        figures = calibrate(engine_for(), feed_ids, thresholds=configured_thresholds(),
                            target=target, labels=labels, label_map=label_map, level=level,
                            use_reviews=not no_reviews)
    except (feed_store.FeedNotFoundError, EvaluationError) as exc:
        raise click.ClickException(str(exc)) from exc
    figures["report"] = write_calibration_report(figures, Path(out_dir) if out_dir else reports_dir("calibration"))
    _echo_json(figures)


# --- servers --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def api(host: str, port: int) -> None:
    """Serve the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    from feed_pipeline.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port)


@main.command("xano-sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
@click.option("--db", "db_path", default=None,
              help="SQLite file (default: the one runs mirror into, beside the configured database).")
@click.option("--token", envvar="XANO_TOKEN", default=None, help="Require this Bearer token.")
def xano_sandbox(host: str, port: int, db_path: str | None, token: str | None) -> None:
    """Serve the local Xano stand-in over HTTP, showing what `make run` mirrored."""
    from feed_pipeline.sandbox.server import serve_forever

    serve_forever(host=host, port=port, db_path=db_path, token=token)


if __name__ == "__main__":
    main()
