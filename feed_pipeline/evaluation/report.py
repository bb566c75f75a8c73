"""The human side of `evaluate` and `calibrate`: a markdown report and a PNG plot next to it.

Plots are drawn on matplotlib's Agg canvas directly (no pyplot, no display, no global state).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CURVE_TABLE_ROWS = 20  # curve points quoted in the markdown (the PNG shows all)
CONFUSION_ANNOTATE_MAX = 20  # write counts in the heatmap's cells up to this many classes


def write_evaluation_report(figures: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """`evaluation.md` and `evaluation.png` in `out_dir`; returns their absolute paths."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    md, png = out_dir / "evaluation.md", out_dir / "evaluation.png"
    md.write_text(evaluation_markdown(figures, png.name), encoding="utf-8")
    _save_plot(png, figures, confusion=figures["confusion"],
               title=f"feed {figures['feed_id']}: {figures['classifier']}")
    return {"markdown": str(md), "plot": str(png)}


def write_calibration_report(figures: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """`calibration.md` and `calibration.png` (the curve) in `out_dir`; returns their absolute paths."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    md, png = out_dir / "calibration.md", out_dir / "calibration.png"
    md.write_text(calibration_markdown(figures, png.name), encoding="utf-8")
    _save_plot(png, figures, confusion=None, title="calibration from judged jobs")
    return {"markdown": str(md), "plot": str(png)}


# --- markdown -------------------------------------------------------------------------------------------------


def evaluation_markdown(f: dict[str, Any], plot_name: str) -> str:
    source = f["label_source"]
    source_text = (f"the feed's own `{source['field']}` field" if "field" in source
                   else f"a labels file ({source['file_ids']} ids)")
    records = f["records"]
    lines = [
        f"# Classification evaluation: feed `{f['feed_id']}`",
        "",
        f"Classifier `{f['classifier']}`, blind to {source_text}. {records['labeled']} labeled open postings "
        f"({records['unlabeled']} without a label, {records['closed_expired_invalid']} closed/expired/invalid "
        f"left out).",
        "",
        f"**Agreement: {_pct(f['agreement'])}** ({f['correct']} of {f['jobs']} jobs: the predicted {f['level']} "
        f"matches the label; a job without one is a miss).",
        "",
        *_thresholds_section(f),
        "## Per label",
        "",
        _table(["label", "support", "agreement (recall)", "precision", "predicted as it", "approved"],
               [(r["label"], r["support"], _pct(r["agreement"]), _pct(r["precision"]), r["predicted"],
                 r["approved"]) for r in f["per_label"]]),
        "",
        "## Confusion matrix",
        "",
        f"Rows: reference label; columns: predicted {f['level']} (`(none)`: none).",
        "",
        _table(["label \\ predicted", *f["confusion"]["predicted"]],
               [(label, *row) for label, row in zip(f["confusion"]["labels"], f["confusion"]["matrix"],
                                                   strict=True)]),
        "",
        *_curve_section(f, plot_name),
    ]
    return "\n".join(lines) + "\n"


def calibration_markdown(f: dict[str, Any], plot_name: str) -> str:
    sources = f["sources"]
    parts = []
    if "review_decisions" in sources:
        r = sources["review_decisions"]
        parts.append(f"{r['used']} review decisions ({r['stale']} of {r['decided']} left out: made on content "
                     f"that has changed)")
    if "labels" in sources:
        parts.append(f"{sources['labels']['matched_jobs']} jobs matched by the labels file "
                     f"({sources['labels']['file_ids']} ids)")
    feeds = f["feeds"] if isinstance(f["feeds"], str) else ", ".join(f["feeds"])
    lines = [
        "# Calibration of the routing thresholds",
        "",
        f"Feeds: {feeds}. Judged jobs: {f['jobs']} from {' and '.join(parts)}; {f['correct']} right "
        f"({_pct(f['accuracy'])}). Review decisions judge the jobs operators looked at, mostly manual-review "
        f"ones: a sample, not the whole feed.",
        "",
        *([f"Agreement with the labels file: {_pct(f['label_agreement'])}.", ""] if "label_agreement" in f else []),
        *_thresholds_section(f),
        *_curve_section(f, plot_name),
    ]
    return "\n".join(lines) + "\n"


def _thresholds_section(f: dict[str, Any]) -> list[str]:
    cur, rec = f["current"], f["recommended"]
    approve, archive = rec["approve_at"], rec["archive_below"]
    target = _pct(f["target_precision"])
    approve_text = (f"approve_at **{approve['threshold']}** approves {approve['approved']} job(s) "
                    f"(coverage {_pct(approve['coverage'])}) at precision {_pct(approve['precision'])}"
                    if approve else f"no threshold reaches {target} precision on these jobs")
    archive_text = (f"archive_below **{archive['threshold']}** archives {archive['archived']} job(s), "
                    f"{_pct(archive['precision'])} of them wrong" if archive else
                    f"no archive threshold keeps {target} of the archived jobs wrong: archiving by confidence "
                    f"would drop right answers")
    return [
        "## Approval at the current thresholds",
        "",
        _table(["archive_below", "approve_at", "approved", "right", "approved precision", "coverage",
                "archived that are wrong"],
               [(cur["archive_below"], cur["approve_at"], cur["approved"], cur["approved_correct"],
                 _pct(cur["approved_precision"]), _pct(cur["coverage"]), _pct(cur["archive_precision"]))]),
        "",
        f"## Thresholds for {target} precision",
        "",
        f"- {approve_text}.",
        f"- {archive_text}.",
        "",
    ]


def _curve_section(f: dict[str, Any], plot_name: str) -> list[str]:
    curve = f["curve"]
    step = max(1, len(curve) // CURVE_TABLE_ROWS)
    sample = curve[::step]
    return [
        "## Precision-coverage curve",
        "",
        f"![precision and coverage by threshold]({plot_name})",
        "",
        _table(["approve_at", "approved", "right", "precision", "coverage"],
               [(p["threshold"], p["approved"], p["correct"], _pct(p["precision"]), _pct(p["coverage"]))
                for p in sample]),
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


# --- plot -----------------------------------------------------------------------------------------------------


def _save_plot(path: Path, f: dict[str, Any], *, confusion: dict[str, Any] | None, title: str) -> None:
    n = len(confusion["labels"]) if confusion else 0
    width = 12 + (min(12, 3 + 0.45 * len(confusion["predicted"])) if confusion else 0)
    fig = Figure(figsize=(width, max(5.0, 1.5 + 0.4 * n)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3 if confusion else 2, squeeze=False)[0]
    _draw_by_threshold(axes[0], f)
    _draw_precision_coverage(axes[1], f)
    if confusion:
        _draw_confusion(axes[2], confusion, f.get("level", "function"))
    fig.suptitle(title)
    fig.savefig(path, format="png")


def _steps(f: dict[str, Any]) -> tuple[list[float], list[float | None], list[float]]:
    """Thresholds from 0 with the precision and coverage that hold up to each one (a step function)."""
    curve = f["curve"]
    xs = [p["threshold"] for p in curve]
    precision = [p["precision"] for p in curve]
    coverage = [p["coverage"] for p in curve]
    if curve and xs[0] > 0:
        xs, precision, coverage = [0.0, *xs], [precision[0], *precision], [coverage[0], *coverage]
    return xs, precision, coverage


def _draw_by_threshold(ax, f: dict[str, Any]) -> None:
    xs, precision, coverage = _steps(f)
    ax.plot(xs, precision, drawstyle="steps-pre", label="approved precision", color="tab:blue")
    ax.plot(xs, coverage, drawstyle="steps-pre", label="coverage (approved / jobs)", color="tab:orange")
    ax.axhline(f["target_precision"], color="tab:blue", linestyle=":", linewidth=1,
               label=f"target precision {f['target_precision']}")
    cur, rec = f["current"], f["recommended"]
    ax.axvline(cur["archive_below"], color="grey", linestyle="--", label=f"archive_below {cur['archive_below']}")
    ax.axvline(cur["approve_at"], color="black", linestyle="--", label=f"approve_at {cur['approve_at']}")
    if rec["approve_at"]:
        ax.axvline(rec["approve_at"]["threshold"], color="tab:green",
                   label=f"recommended approve_at {rec['approve_at']['threshold']}")
    if rec["archive_below"]:
        ax.axvline(rec["archive_below"]["threshold"], color="tab:red", linestyle="-.",
                   label=f"recommended archive_below {rec['archive_below']['threshold']}")
    _label_axes(ax, 1.0, "approval threshold (routing confidence)", "share", "precision and coverage by threshold")


def _draw_precision_coverage(ax, f: dict[str, Any]) -> None:
    curve = [p for p in f["curve"] if p["precision"] is not None]
    ax.plot([p["coverage"] for p in curve], [p["precision"] for p in curve], marker=".", color="tab:blue")
    ax.axhline(f["target_precision"], color="tab:blue", linestyle=":", linewidth=1)
    cur, rec = f["current"], f["recommended"]
    if cur["approved_precision"] is not None:
        ax.plot([cur["coverage"]], [cur["approved_precision"]], "ks", label=f"approve_at {cur['approve_at']}")
    if rec["approve_at"]:
        ax.plot([rec["approve_at"]["coverage"]], [rec["approve_at"]["precision"]], "o", color="tab:green",
                label=f"recommended {rec['approve_at']['threshold']}")
    _label_axes(ax, 1.02, "coverage (approved / jobs)", "approved precision", "precision-coverage curve")


def _label_axes(ax, x_max: float, xlabel: str, ylabel: str, title: str) -> None:
    """Both plots' frame: shares on both axes, labels, a legend when anything is labeled, a light grid."""
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize="small")
    ax.grid(alpha=0.3)


def _draw_confusion(ax, confusion: dict[str, Any], level: str) -> None:
    matrix = confusion["matrix"]
    totals = [sum(row) or 1 for row in matrix]
    shares = [[n / total for n in row] for row, total in zip(matrix, totals, strict=True)]
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="share of the label's jobs")
    ax.set_xticks(range(len(confusion["predicted"])), confusion["predicted"], rotation=60, ha="right",
                  fontsize="small")
    ax.set_yticks(range(len(confusion["labels"])), confusion["labels"], fontsize="small")
    ax.set_xlabel(f"predicted {level}")
    ax.set_ylabel("reference label")
    ax.set_title("confusion")
    if len(confusion["labels"]) <= CONFUSION_ANNOTATE_MAX:
        for i, row in enumerate(matrix):
            for j, n in enumerate(row):
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize="x-small",
                            color="white" if shares[i][j] > 0.5 else "black")
