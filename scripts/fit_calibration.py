"""Fits the semantic offline classifier's calibration (feed_pipeline/data/calibration.json) on the labeled set's
dev split: three logistic regressions (non-negative coefficients) from raw scores to "this answer is right".

  function  stage 2 on every board, given the true industry (the pm board also with its names-only taxonomy)
  industry  stage 1 on boards with several industries (general, logistics_retail)
  scope     stage 1 on single-industry boards: the board's own jobs are in scope, the other boards' jobs
            (except those labeled with the same domain on the general board) are not; reweighted to a 90%
            in-scope prior, since a board's taxonomy is used on that board's own feed

The held-out split is never read here. The reliability tables in the JSON are the dev split's (the data the
model saw); bench/bench_classification.py reports the held-out figures.

    .venv/bin/python scripts/fit_calibration.py            # rewrite data/calibration.json
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feed_pipeline.core.calibration import LogisticCalibrator, reliability_table  # noqa: E402
from feed_pipeline.core.embeddings import load_wordllama  # noqa: E402
from feed_pipeline.core.enrichment import FunctionInput, IndustryInput  # noqa: E402
from feed_pipeline.core.semantic_classifier import SemanticClassifier  # noqa: E402
from feed_pipeline.core.taxonomy import load_taxonomy  # noqa: E402
from feed_pipeline.labeled_set import board_names, load_board  # noqa: E402

OUTPUT = ROOT / "feed_pipeline" / "data" / "calibration.json"
FEATURES = {
    "function": ["top", "margin", "title_lex", "title_named", "title_unique", "title_sem", "text_sem", "agree",
                 "distinct", "unranked"],
    "industry": ["top", "margin", "title_lex", "title_named", "title_unique", "agree", "domain_lex", "domain_sem"],
    "scope": ["top", "title_lex", "title_named", "title_sem", "text_sem", "domain_lex", "domain_sem"],
}
# Labels on the general board that are in scope for each single-industry board.
SAME_DOMAIN = {"pm_board": "Real Estate", "tech_board": "Technology", "health_board": "Healthcare"}
VARIANTS = {"pm_board": [None, "taxonomies/pm_board_names_only.json"]}
# A board's own feed is mostly in scope: the scope calibrator answers under that prior, not under the mix of
# boards it is fit on (28% in scope).
PRIORS = {"scope": 0.9}
EDGES = [0.0, 0.3, 0.5, 0.7, 0.8, 0.86, 0.9, 0.95, 1.0]


def collect() -> dict[str, tuple[list[dict], list[bool]]]:
    embedder, reference = load_wordllama(), load_taxonomy()
    boards = {name: load_board(name) for name in board_names()}
    rows: dict[str, tuple[list[dict], list[bool]]] = {m: ([], []) for m in FEATURES}

    def add(model: str, features: dict, right: bool) -> None:
        rows[model][0].append(features)
        rows[model][1].append(right)

    for name, board in boards.items():
        for variant in VARIANTS.get(name, [None]):
            taxonomy = load_board(name, taxonomy_file=variant).taxonomy if variant else board.taxonomy
            clf = SemanticClassifier(taxonomy, embedder, None, reference=reference)
            dev = board.split("dev")
            for job in dev:  # stage 2 given the true industry (a posting that names no job has none)
                if not taxonomy.has_industry(job.industry):
                    continue
                (d,) = clf.function_decisions(job.industry, taxonomy.functions_of(job.industry), [
                    FunctionInput(job.id, "", "", (), title=job.title, text=job.description)])
                add("function", d.features, d.label == job.function)
            single = len(taxonomy.industries) == 1
            inputs = [IndustryInput(j.id, j.title, j.company, j.description, (j.location,)) for j in dev]
            for job, d in zip(dev, clf.industry_decisions(inputs), strict=True):
                add("scope" if single else "industry", d.features, d.label == job.industry)
            if single:  # the other boards' postings, which this board would not carry
                for other_name, other in boards.items():
                    if other_name == name:
                        continue
                    others = other.split("dev")
                    decisions = clf.industry_decisions(
                        [IndustryInput(j.id, j.title, j.company, j.description, (j.location,)) for j in others])
                    for job, d in zip(others, decisions, strict=True):
                        in_scope = other_name == "general_board" and job.industry == SAME_DOMAIN.get(name)
                        add("scope", d.features, in_scope)
    return rows


def fit(features: list[dict], right: list[bool], names: list[str], l2: float = 1e-3,
        prior: float | None = None) -> LogisticCalibrator:
    """Logistic regression with every coefficient >= 0: more evidence never lowers the confidence (the raw
    features overlap, and an unconstrained fit trades them off with opposite signs). `prior` reweights the
    examples so that this share of them is right, the share expected where the calibrator is used."""
    x = np.array([[f.get(n, 0.0) for n in names] for f in features], dtype=float)
    y = np.array(right, dtype=float)
    sample = np.ones_like(y)
    if prior is not None:
        positives = y.sum()
        sample = np.where(y == 1, prior / positives, (1 - prior) / (len(y) - positives)) * len(y)
    total = sample.sum()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w[:-1] + w[-1]
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(sample * (np.logaddexp(0.0, z) - y * z))) / total + l2 * float(w[:-1] @ w[:-1])
        gradient = np.append(x.T @ (sample * (p - y)) / total + 2 * l2 * w[:-1], np.sum(sample * (p - y)) / total)
        return value, gradient

    bounds = [(0.0, None)] * len(names) + [(None, None)]
    result = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        raise RuntimeError(f"calibration fit did not converge: {result.message}")
    return LogisticCalibrator(tuple(names), tuple(float(c) for c in result.x[:-1]), float(result.x[-1]))


def main() -> int:
    rows = collect()
    models, reliability, counts = {}, {}, {}
    for model, (features, right) in rows.items():
        calibrator = fit(features, right, FEATURES[model], prior=PRIORS.get(model))
        probabilities = [calibrator.probability(f) for f in features]
        models[model] = calibrator.as_dict()
        reliability[model] = reliability_table(probabilities, right, EDGES)
        counts[model] = {"answers": len(right), "right": int(sum(right))}
    digest = hashlib.sha256(json.dumps(models, sort_keys=True).encode()).hexdigest()[:10]
    document = {
        "version": f"cal-{digest}",
        "about": "Logistic calibration of the semantic offline classifier's raw scores into P(answer right). "
                 "Fit by scripts/fit_calibration.py on the dev split of feed_pipeline/data/labeled (see its README); "
                 "the held-out split is not used. Non-negative coefficients: more evidence never lowers the "
                 "confidence. The scope model is reweighted to a 90% in-scope prior (a board's taxonomy runs on "
                 "its own feed), so its dev reliability looks overconfident on the dev mix (28% in scope). "
                 "Reliability: per predicted-probability bin, the dev answers' mean predicted probability and "
                 "the share that was right.",
        "fitted_at": datetime.now(UTC).date().isoformat(),
        "fitted_on": counts,
        "models": models,
        "reliability_dev": reliability,
    }
    OUTPUT.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"version": document["version"], "fitted_on": counts, "models": models}, indent=1))
    for model, table in reliability.items():
        print(model)
        for row in table:
            print("  ", row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
