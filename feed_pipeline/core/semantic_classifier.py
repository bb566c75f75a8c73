"""The semantic offline classifier: title-first matching of a posting against the taxonomy's names,
descriptions and keywords, by whole-word phrases and by static word embeddings, with calibrated confidence.

Why this shape. A board brings its own taxonomy, often with names only ("Maintenance", "Corporate"). Job
titles name the role in words the taxonomy rarely uses ("Make Ready Tech", "Service Manager", "CAM"), so each
label is described by several phrase sources:
  - its name, and the parts of a compound name ("Grounds, Porter & Housekeeping" -> grounds, porter,
    housekeeping);
  - its keywords, and the short noun phrases its description lists;
  - phrases borrowed from a reference taxonomy (the bundled one, `borrowed_phrases`): each reference function
    is matched to the board's functions by name, description and shared words (`mapping_scores`), and each of
    its keywords goes to the close board function it fits best, so a board's "Maintenance Supervisor" learns
    "service manager" and "facilities manager" from the bundled "Maintenance Supervision". A phrase the
    board's own taxonomy gives one label is never borrowed evidence for another.

Each label gets four scores for a posting:
  title_lex  whole-word phrases of the label in the (cleaned, abbreviation-expanded) title; a phrase inside a
             longer matched phrase does not count ("maintenance" inside "maintenance supervisor"); rarer
             phrases (found in fewer labels) and longer ones weigh more
  text_lex   the same over the whole text, damped (descriptions mention other roles)
  title_sem  cosine between the title's embedding and the label's nearest phrase
  text_sem   cosine between the embedding of the text's opening and the label's document (name, description,
             keywords)
and its score is their weighted sum (WEIGHTS); in stage 1 an industry's own words lift each of its functions.
The best label wins. Its confidence is a calibrated probability (core/calibration.py, fit on labeled postings
by scripts/fit_calibration.py) from the winner's score, its margin over the runner-up, the title evidence,
whether title and text agree and how distinct the runner-up is; so routing at 0.86 means about 86% or more of
such answers were right. With a single industry, stage 1 only asks "is this posting in scope": its confidence
comes from the absolute strength of the best function's match and of the industry's words (calibrator
"scope").

Stage 2 reads the posting's original title and text (FunctionInput.title / .text) and falls back to the
stage 1 summary (ai_title / ai_description) when those are empty.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from feed_pipeline.core.calibration import LogisticCalibrator
from feed_pipeline.core.embeddings import StaticEmbedder
from feed_pipeline.core.enrichment import AIUsage, EnrichmentFailure, FunctionInput, FunctionResult, IndustryInput

# isort: split
from feed_pipeline.core.enrichment import IndustryResult, Taxonomy, job_batches, require_functions
from feed_pipeline.core.keyword_match import PhraseMatcher, tokenize
from feed_pipeline.core.posting_facts import PostingFacts
from feed_pipeline.core.text import plain_text
from feed_pipeline.core.text_features import clean_title

SEMANTIC_MODEL_NAME = "offline-semantic-v1"
SEMANTIC_SCORING_VERSION = "sem8"  # bump when scores change (sem8: a name-plus-modifier phrase is pushed away): stale

WEIGHTS = {"title_lex": 1.0, "text_lex": 0.35, "title_sem": 1.5, "text_sem": 1.0}
NAME_PART_WEIGHT = 0.9
KEYWORD_WEIGHT = 1.0
BORROWED_WEIGHT = 0.7  # below the taxonomy's own words: a board's own description outranks the reference
DESCRIPTION_PHRASE_WEIGHT = 0.85
BORROW_WINDOW = 0.5  # once a reference function qualifies, its phrases may go to any target this close to its best
BORROW_FLOOR = 0.35
PHRASE_FIT_MAPPING_SHARE = 0.3  # a borrowed phrase's fit: mapping score x this + its cosine with the candidate
PHRASE_NAME_BONUS = 0.3  # ... plus this x the share of its words the candidate's name uses
PHRASE_STAYS_BONUS = 0.1  # ... plus this for the candidate the reference function maps to best
INDUSTRY_KEYWORD_WEIGHT = 0.4  # share of an industry's own-word score added to each of its functions in stage 1
BORROW_MIN_SIMILARITY = 0.6  # mapping score (mapping_scores) for borrowing within corresponding industries
BORROW_ACROSS_INDUSTRIES = 1.0  # ... and across industries that do not correspond
INDUSTRY_MIN_SIMILARITY = 0.45
NAME_COVERAGE_WEIGHT = 0.35
TEXT_CHARS = 600  # the text's opening that is embedded; phrases are matched in the whole text
CALIBRATORS = ("industry", "scope", "function")

# Abbreviations job titles use, spelled out before matching (whole words, titles only).
TITLE_ABBREVIATIONS = {
    "maint": "maintenance", "mx": "maintenance", "tech": "technician", "techs": "technicians",
    "mgr": "manager", "asst": "assistant", "sr": "senior", "jr": "junior", "supv": "supervisor",
    "coord": "coordinator", "rep": "representative", "spec": "specialist", "admin": "administrative",
    "apm": "assistant property manager", "acm": "assistant community manager",
    "cam": "community association manager", "gm": "general manager", "hr": "human resources",
    "ap": "accounts payable", "ar": "accounts receivable", "acct": "accounting", "svc": "service",
    "rn": "registered nurse", "lpn": "licensed practical nurse", "cna": "certified nursing assistant",
    "np": "nurse practitioner", "pa": "physician assistant", "dev": "developer", "eng": "engineer",
    "qa": "quality assurance", "ops": "operations", "vp": "vice president", "cdl": "cdl truck driver",
    "sre": "site reliability engineer", "swe": "software engineer",
}
# Acronyms that are an ordinary word in lower case ("it"), spelled out only where written in capitals: in titles,
# postings and the taxonomy's descriptions alike.
CAPITAL_ACRONYMS = {"IT": "information technology"}
_CAPITAL_ACRONYM = re.compile(r"\b(" + "|".join(CAPITAL_ACRONYMS) + r")\b")


def spell_out_capitals(text: str) -> str:
    """'IT support' -> 'information technology support'; 'make it happen' stays."""
    return _CAPITAL_ACRONYM.sub(lambda m: CAPITAL_ACRONYMS[m.group(1)], text)


_ABBREVIATION = re.compile(r"\b(" + "|".join(sorted(TITLE_ABBREVIATIONS, key=len, reverse=True)) + r")\b\.?", re.I)
_NAME_PARTS = re.compile(r"\s*(?:,|&|/|\band\b|\+|\(|\))\s*", re.I)


@dataclass(frozen=True, slots=True)
class Scored:
    """One stage's decision with the raw figures the calibrator reads."""

    label: str
    features: dict[str, float]


def expand_title(title: str) -> str:
    """The cleaned title, followed by its spelled-out form when it uses abbreviations:
    "Sr. Maint Tech" -> "Senior Maint Tech ; Senior maintenance technician"."""
    cleaned = clean_title(title)
    expanded = _ABBREVIATION.sub(lambda m: TITLE_ABBREVIATIONS[m.group(1).lower()], spell_out_capitals(cleaned))
    return cleaned if expanded == cleaned else f"{cleaned} ; {expanded}"


_DESCRIPTION_SPLIT = re.compile(r"[,;:.()/!?]|\band\b|\bor\b|&", re.I)
_CLAUSE_START = re.compile(r"\b(who|that|which|with|to|for|in|at|on|across|from|by|such as|including|like)\b", re.I)
_NOT_A_PHRASE = {"it", "a", "an", "the", "all", "other", "us", "we", "our", "you", "your", "their", "its", "role",
                 "roles", "job", "jobs", "staff", "position", "positions", "people", "work", "every", "any", "of"}


def description_phrases(description: str) -> list[str]:
    """Short noun phrases a one-sentence description lists: "Corporate office roles: HR, recruiting, IT and
    training." -> corporate office roles, hr, recruiting, training. Clauses ("who ...") are cut off."""
    phrases = []
    for segment in _DESCRIPTION_SPLIT.split(spell_out_capitals(description)):
        head = _CLAUSE_START.split(segment, maxsplit=1)[0]
        words = [w for w in head.lower().split() if w]
        while words and words[0] in _NOT_A_PHRASE:
            words.pop(0)
        tokens = tokenize(" ".join(words))
        verb_led = len(words) > 1 and words[0].endswith("s") and not words[0].endswith("ss")  # "builds pipelines"
        if 1 <= len(tokens) <= 4 and not verb_led and not all(t in _NOT_A_PHRASE for t in tokens):
            phrases.append(" ".join(words))
    return list(dict.fromkeys(phrases))


def name_phrases(name: str) -> list[str]:
    """A label name and, for a compound name, its parts: "Grounds, Porter & Housekeeping" -> 4 phrases."""
    parts = [p.strip().lower() for p in _NAME_PARTS.split(name) if p and p.strip()]
    whole = name.strip().lower()
    return list(dict.fromkeys([whole, *(p for p in parts if p != whole and tokenize(p))]))


@dataclass(frozen=True)
class LabelSpec:
    """What one label is described by: phrases (with weights) and one descriptive text."""

    label: str
    phrases: dict[str, float]
    document: str


class LabelIndex:
    """Scores postings against a fixed list of labels. Built once per label set, reused for every posting."""

    def __init__(self, specs: Sequence[LabelSpec], embedder: StaticEmbedder, weights: Mapping[str, float] = WEIGHTS):
        self.labels = [s.label for s in specs]
        self.weights = dict(weights)
        self._embedder = embedder
        keys: dict[str, dict[int, float]] = {}  # phrase key -> label index -> weight
        originals: dict[str, str] = {}
        for i, spec in enumerate(specs):
            for phrase, weight in spec.phrases.items():
                key = " ".join(tokenize(phrase))
                if not key:
                    continue
                originals.setdefault(key, phrase)
                per_label = keys.setdefault(key, {})
                per_label[i] = max(per_label.get(i, 0.0), weight)
        # Specificity: longer phrases and phrases fewer labels share tell more.
        self._phrase_labels = {
            key: [(i, w * (1.0 + 0.5 * (key.count(" "))) / len(per_label)) for i, w in per_label.items()]
            for key, per_label in keys.items()
        }
        self._matcher = PhraseMatcher(list(keys), fuzzy=False)
        padded = {key: f" {key} " for key in keys}
        self._longer = {key: {other for other in keys if other != key and padded[key] in padded[other]}
                        for key in keys}
        phrase_list = list(keys)
        vectors = embedder.embed([originals[k] for k in phrase_list])
        # Phrase vectors grouped by label (a shared phrase repeated), for the per-label max of title similarity.
        columns, owners = [], []
        for j, key in enumerate(phrase_list):
            for i in keys[key]:
                columns.append(j)
                owners.append(i)
        bare = sorted(set(range(len(specs))) - set(owners))
        if bare:
            names = [self.labels[i] for i in bare]
            raise ValueError(f"labels {names} have no words to match: give them a name with words")
        order = np.argsort(np.array(owners, dtype=np.int64), kind="stable")
        # On the integer grid, transposed: see rows_times.
        self._phrase_grid = np.ascontiguousarray(on_grid(vectors[np.array(columns, dtype=np.int64)[order]]).T)
        self._starts = np.searchsorted(np.array(owners, dtype=np.int64)[order], np.arange(len(specs)))
        documents = embedder.embed([s.document for s in specs])
        self._document_grid = np.ascontiguousarray(on_grid(documents).T)
        self.label_similarity = documents.astype(np.float64) @ documents.astype(np.float64).T

    def lexical(self, tokens: list[str]) -> np.ndarray:
        """Per label: the specificity-weighted sum of its phrases found in `tokens` (see `tokenize`), longest
        match only: "maintenance" inside a matched "maintenance supervisor" is not separate evidence."""
        scores = np.zeros(len(self.labels), dtype=np.float64)
        found = self._matcher.find_keys(tokens)
        for key in found:
            if self._longer[key] and not self._longer[key].isdisjoint(found):
                continue
            for i, weight in self._phrase_labels[key]:
                scores[i] += weight
        return scores

    def embed(self, titles: list[str], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self._embedder.embed(titles), self._embedder.embed([t[:TEXT_CHARS] for t in texts])

    def scores(self, titles: list[str], texts: list[str], vectors: tuple[np.ndarray, np.ndarray] | None = None,
               tokens: tuple[list[list[str]], list[list[str]]] | None = None) -> list[dict[str, np.ndarray]]:
        """Per posting: the four per-label score vectors and their weighted sum ("total"). `vectors` and
        `tokens` let several indexes share one embedding and one tokenization of the same postings."""
        title_vecs, text_vecs = vectors if vectors is not None else self.embed(titles, texts)
        title_tokens, text_tokens = tokens if tokens is not None else tokenize_all(titles, texts)
        title_sem = np.maximum.reduceat(rows_times(title_vecs, self._phrase_grid), self._starts, axis=1)
        text_sem = rows_times(text_vecs, self._document_grid)
        w = self.weights
        out = []
        for n in range(len(titles)):
            title_lex = self.lexical(title_tokens[n])
            text_lex = np.log1p(self.lexical(text_tokens[n]))
            parts = {"title_lex": title_lex, "text_lex": text_lex, "title_sem": title_sem[n], "text_sem": text_sem[n]}
            parts["total"] = (w["title_lex"] * title_lex + w["text_lex"] * text_lex
                              + w["title_sem"] * parts["title_sem"] + w["text_sem"] * parts["text_sem"])
            out.append(parts)
        return out


GRID = 4000.0  # a unit vector's scale on the integer grid (see rows_times)


def on_grid(vectors: np.ndarray) -> np.ndarray:
    """Unit (or zero) vectors scaled by GRID and rounded to integers, held in float32 (see rows_times)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    longest = float(np.linalg.norm(vectors, axis=-1).max(initial=0.0))
    if longest > 1.0 + 1e-6:
        raise ValueError(f"on_grid: vectors must have norm <= 1 (one has {longest:.4f}); the grid's products "
                         "would no longer be exact")
    return np.rint(vectors * GRID).astype(np.float32)


def rows_times(rows: np.ndarray, grid_matrix: np.ndarray) -> np.ndarray:
    """Cosines of unit `rows` with the columns of `grid_matrix` (from `on_grid`), each the same to the last bit
    whatever else is in the batch.

    A rerun classifies only the changed postings, in other batches than a first run, so a posting's scores must not
    depend on its batch. A BLAS float product does: it sums in an order that depends on the number of rows and,
    in OpenBLAS 0.3.31's float32 kernel, on a row's position within its block. On the integer grid every product
    and every partial sum is an integer of at most |a|·|b| <= (GRID + 8)^2 < 2^24 (Cauchy-Schwarz, for the norms
    on_grid allows; rounding adds at most sqrt(256)/2 to a norm), which float32 holds exactly, so every summation
    order gives the same result and the fast float32 kernel can be used. The grid costs under 1e-3 of a cosine.
    """
    return (on_grid(rows) @ grid_matrix).astype(np.float64) * (1.0 / (GRID * GRID))


def tokenize_all(titles: list[str], texts: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    return [tokenize(t) for t in titles], [tokenize(t) for t in texts]


def decision_features(parts: Mapping[str, np.ndarray], best: int, runner_up: int | None,
                      weights: Mapping[str, float] = WEIGHTS) -> dict[str, float]:
    """What the calibrator reads about the winner: its score, margin, title evidence and title/text agreement."""
    total = parts["total"]
    second = float(total[runner_up]) if runner_up is not None else 0.0
    title_only = weights["title_lex"] * parts["title_lex"] + weights["title_sem"] * parts["title_sem"]
    text_only = weights["text_lex"] * parts["text_lex"] + weights["text_sem"] * parts["text_sem"]
    return {
        "top": float(total[best]),
        "margin": float(total[best]) - second,
        "title_lex": float(min(parts["title_lex"][best], 3.0)),
        "title_named": 1.0 if parts["title_lex"][best] > 0 else 0.0,
        "title_sem": float(parts["title_sem"][best]),
        "text_sem": float(parts["text_sem"][best]),
        "agree": 1.0 if int(np.argmax(title_only)) == best and int(np.argmax(text_only)) == best else 0.0,
        # The title names the winner and no other label (an ambiguous title names two).
        "title_unique": 1.0 if parts["title_lex"][best] > 0 and int(np.count_nonzero(parts["title_lex"])) == 1 else 0.0,
    }


_RANK_MODIFIER = re.compile(r"\b(?:assistant|asst|associate|assoc|lead|deputy|apprentice|trainee)\b\.?(?=\s+\w)", re.I)


def ranked_title(title: str) -> bool:
    """The title puts a rank modifier before its role ("Assistant Property Manager", "Lead Maintenance
    Technician"): a role between two ranks, which boards with a category for each rank file either way.
    A modifier that is the role itself ("Nursing Assistant", "Team Lead", "Leasing Associate") is not one."""
    return _RANK_MODIFIER.search(title) is not None


def first_max_per_segment(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per row, the column of each segment's first maximum (np.argmax's choice); segment k is the columns from
    starts[k] to the next start, and none is empty."""
    if rows.shape[0] == 0:
        return np.zeros((0, len(starts)), dtype=np.int64)
    lengths = np.diff(np.append(starts, rows.shape[1]))
    hits = rows == np.repeat(np.maximum.reduceat(rows, starts, axis=1), lengths, axis=1)
    columns = np.where(hits, np.arange(rows.shape[1]), rows.shape[1])
    return np.minimum.reduceat(columns, starts, axis=1)


def _ranked(total: np.ndarray) -> tuple[int, int | None]:
    order = np.argsort(-total, kind="stable")
    return int(order[0]), (int(order[1]) if len(order) > 1 else None)


def borrowed_phrases(
    taxonomy: Taxonomy, reference: Taxonomy | None, embedder: StaticEmbedder
) -> dict[tuple[str, str], dict[str, float]]:
    """Phrases each (industry, function) of `taxonomy` borrows from the reference functions closest to it, and
    each (industry, "") from the reference industries that correspond to it. Empty without a reference.

    A reference function's candidates are the target functions its mapping score (`mapping_scores`) reaches
    BORROW_MIN_SIMILARITY for when the two industries correspond (half of the reference industry's functions
    land in the target industry, or their names and descriptions are close), BORROW_ACROSS_INDUSTRIES
    otherwise. Each of its phrases goes to the candidate that fits it best (mapping score and the phrase's
    cosine with the candidate's document, half each).
    """
    if reference is None:
        return {}
    targets = [(i, f) for i, fs in taxonomy.industries.items() for f in fs]
    sources = [(i, f) for i, fs in reference.industries.items() for f in fs]
    scores = mapping_scores(reference, sources, taxonomy, targets, embedder)
    best = scores.argmax(axis=1)
    industry_sims = _cosines(embedder, [_document(reference, (i, "")) for i in reference.industries],
                             [_document(taxonomy, (i, "")) for i in taxonomy.industries])
    corresponds: set[tuple[str, str]] = set()
    for r, ref_industry in enumerate(reference.industries):
        members = [s for s, (i, _) in enumerate(sources) if i == ref_industry]
        for t, target_industry in enumerate(taxonomy.industries):
            landed = sum(1 for s in members
                         if scores[s, best[s]] >= BORROW_MIN_SIMILARITY and targets[best[s]][0] == target_industry)
            if landed * 2 > len(members) or industry_sims[r, t] >= INDUSTRY_MIN_SIMILARITY:
                corresponds.add((ref_industry, target_industry))
    target_vectors = embedder.embed([_document(taxonomy, k) for k in targets])
    out: dict[tuple[str, str], dict[str, float]] = {}
    for s, source in enumerate(sources):
        needed = np.array([BORROW_MIN_SIMILARITY if (source[0], t[0]) in corresponds else BORROW_ACROSS_INDUSTRIES
                           for t in targets])
        if not (scores[s] >= needed).any():
            continue
        candidates = np.flatnonzero(scores[s] >= max(BORROW_FLOOR, float(scores[s].max()) - BORROW_WINDOW))
        # Each phrase goes to the candidate it fits best, so one broad reference function ("Allied Health")
        # can feed several narrower board labels (therapy, pharmacy, imaging).
        phrases = _phrases(reference, source, own_weight=BORROWED_WEIGHT, with_description=False)
        fit = embedder.embed(list(phrases)) @ target_vectors[candidates].T
        fit = PHRASE_FIT_MAPPING_SHARE * scores[s, candidates][None, :] + (1 - PHRASE_FIT_MAPPING_SHARE) * fit
        # A phrase that uses a word of a candidate's name ("frontend" -> "Frontend & Mobile", "accountant" ->
        # "Accounting") belongs there; the candidate the reference function maps to best keeps ties.
        # A phrase that is a candidate's whole name plus a modifier ("vp of property management", "property
        # bookkeeper" for "Property Management") names another role: it is pushed away from that candidate, unless
        # that candidate is where the reference function maps to.
        names = [targets[c][1] for c in candidates]
        home = int(np.argmax(scores[s, candidates]))
        for row, phrase in zip(fit, phrases, strict=True):
            shares = np.array([_name_share(phrase, name) for name in names])
            shares[home] = max(shares[home], 0.0)
            row += PHRASE_NAME_BONUS * shares
        fit[:, home] += PHRASE_STAYS_BONUS
        for (phrase, weight), row in zip(phrases.items(), fit, strict=True):
            bucket = out.setdefault(targets[candidates[int(np.argmax(row))]], {})
            bucket[phrase] = max(bucket.get(phrase, 0.0), weight)
    for ref_industry, target_industry in corresponds:
        bucket = out.setdefault((target_industry, ""), {})
        for phrase, weight in _phrases(reference, (ref_industry, ""), BORROWED_WEIGHT, with_description=False).items():
            bucket[phrase] = max(bucket.get(phrase, 0.0), weight)
    return out


def _name_share(phrase: str, name: str) -> float:
    """The share of a phrase's distinctive words that a label's name uses. -1 when the phrase is the whole name
    and more ("vp of property management", "property bookkeeper" for "Property Management"): it names another
    role. 0 when the two end in different generic heads ("resident manager" is not one of "Resident Services",
    "regional manager" is one of "Regional Management")."""
    words, named = _stems(phrase), _stems(name)
    if named and named < words:
        return -1.0
    phrase_head, name_head = _last_word(phrase), _last_word(name)
    if phrase_head in _GENERIC_WORDS and name_head in _GENERIC_WORDS and phrase_head[:5] != name_head[:5]:
        return 0.0
    return len(words & named) / max(1, len(words))


def _last_word(text: str) -> str:
    words = tokenize(text)
    return words[-1] if words else ""


def mapping_scores(reference: Taxonomy, sources: list[tuple[str, str]], taxonomy: Taxonomy,
                   targets: list[tuple[str, str]], embedder: StaticEmbedder) -> np.ndarray:
    """How well each reference function stands for each target function: the mean of the cosine of their
    documents and of their bare names, plus NAME_COVERAGE_WEIGHT x the share of the target name's distinctive
    words that the reference function's name or keywords use."""
    documents = _cosines(embedder, [_document(reference, k) for k in sources],
                         [_document(taxonomy, k) for k in targets])
    names = _cosines(embedder, [f for _, f in sources], [f for _, f in targets])
    coverage = np.zeros_like(documents)
    target_words = [_distinctive(f) for _, f in targets]
    for s, (industry, function) in enumerate(sources):
        words = _distinctive(function) | {
            w for k in reference.function_keywords.get(industry, {}).get(function, ()) for w in tokenize(k)}
        for t, wanted in enumerate(target_words):
            if wanted:
                coverage[s, t] = len(wanted & words) / len(wanted)
    return 0.5 * documents + 0.5 * names + NAME_COVERAGE_WEIGHT * coverage


_GENERIC_WORDS = {"and", "&", "of", "the", "a", "for", "in", "management", "manager", "service", "services",
                  "support", "operation", "operations", "staff", "other", "general", "team", "role", "job"}


def _stems(text: str) -> set[str]:
    """Distinctive words cut to 5 letters, so "accountant" and "accounting" meet."""
    return {w[:5] for w in _distinctive(text)}


def _distinctive(name: str) -> set[str]:
    return {w for w in tokenize(name) if w not in _GENERIC_WORDS}


def _cosines(embedder: StaticEmbedder, left: list[str], right: list[str]) -> np.ndarray:
    return embedder.embed(left) @ embedder.embed(right).T


def _phrases(
    taxonomy: Taxonomy, key: tuple[str, str], own_weight: float = 1.0, with_description: bool = True
) -> dict[str, float]:
    industry, function = key
    if function:
        names = name_phrases(function)
        keywords = taxonomy.function_keywords.get(industry, {}).get(function, ())
        description = taxonomy.function_description(industry, function)
    else:
        names = name_phrases(industry)
        keywords = taxonomy.industry_keywords.get(industry, ())
        description = taxonomy.industry_description(industry)
    phrases: dict[str, float] = {}
    for n, phrase in enumerate(names):
        phrases[phrase] = own_weight * (1.0 if n == 0 else NAME_PART_WEIGHT)
    for phrase in keywords:
        phrases.setdefault(phrase, own_weight * KEYWORD_WEIGHT)
    for phrase in description_phrases(description) if with_description else ():
        phrases.setdefault(phrase, own_weight * DESCRIPTION_PHRASE_WEIGHT)
    for phrase, weight in list(phrases.items()):  # "LPNs" also claims "licensed practical nurse"
        spelled = spell_out(phrase)
        if spelled != phrase:
            phrases.setdefault(spelled, weight)
    return phrases


# In a label's name or keyword "it" is never the pronoun: "IT Support", "it support" -> information technology.
_PHRASE_ABBREVIATIONS = {**TITLE_ABBREVIATIONS, **{a.lower(): full for a, full in CAPITAL_ACRONYMS.items()}}


def spell_out(phrase: str) -> str:
    """A label phrase with its abbreviations spelled out, plurals included ("LPNs" -> "licensed practical
    nurse", "IT support" -> "information technology support")."""
    words = tokenize(phrase)
    if not any(w in _PHRASE_ABBREVIATIONS for w in words):
        return phrase
    return " ".join(_PHRASE_ABBREVIATIONS.get(w, w) for w in words)


def _document(taxonomy: Taxonomy, key: tuple[str, str]) -> str:
    industry, function = key
    if function:
        description = taxonomy.function_description(industry, function)
        keywords = taxonomy.function_keywords.get(industry, {}).get(function, ())
        name = function
    else:
        description = taxonomy.industry_description(industry)
        keywords = taxonomy.industry_keywords.get(industry, ())
        name = industry
    return ". ".join(x for x in (name, description, ", ".join(keywords[:25])) if x)


def prompt_version(calibration_version: str, taxonomy_version: str, limit: int = 32) -> str:
    """Scoring rules, calibration and taxonomy in one cache key of at most `limit` characters (the cache
    column's width); a long part is replaced by a short hash of it, so distinct inputs stay distinct."""
    version = f"{SEMANTIC_SCORING_VERSION}-{calibration_version}-tax{taxonomy_version}"
    if len(version) <= limit:
        return version
    digest = hashlib.sha256(f"{calibration_version}|{taxonomy_version}".encode()).hexdigest()
    return f"{SEMANTIC_SCORING_VERSION}-{digest}"[:limit]


class SemanticClassifier:
    """Implements the Classifier protocol offline; `usage.calls` stays 0 because nothing is called."""

    model_name = SEMANTIC_MODEL_NAME

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: StaticEmbedder,
        calibrators: Mapping[str, LogisticCalibrator] | None,
        *,
        reference: Taxonomy | None = None,
        calibration_version: str = "uncalibrated",
        batch_size: int = 200,
        weights: Mapping[str, float] = WEIGHTS,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if calibrators is not None:
            missing = [name for name in CALIBRATORS if name not in calibrators]
            if missing:
                raise ValueError(f"calibrators {missing} missing: pass the shipped calibration or None")
        self.taxonomy = taxonomy
        self.batch_size = batch_size
        self.calibrators = calibrators
        self.industry_prompt_version = prompt_version(calibration_version, taxonomy.version)
        self.function_prompt_version = self.industry_prompt_version
        self.prompt_version = self.industry_prompt_version
        self.usage = AIUsage()
        self._embedder = embedder
        self._reference = reference
        self.weights = dict(weights)
        self._pairs = [(i, f) for i, fs in taxonomy.industries.items() for f in fs]
        self._stage2: dict[tuple[str, tuple[str, ...]], LabelIndex] = {}

    # The indexes are built on first use: a stage whose input did not change asks only for the versions above.
    @cached_property
    def _borrowed(self) -> dict[tuple[str, str], dict[str, float]]:
        return borrowed_phrases(self.taxonomy, self._reference, self._embedder)

    @cached_property
    def _owner(self) -> dict[str, set[tuple[str, str]]]:
        """A phrase the taxonomy itself gives one label is never borrowed evidence for another."""
        owner: dict[str, set[tuple[str, str]]] = {}
        for pair in self._pairs:
            for phrase in _phrases(self.taxonomy, pair):
                owner.setdefault(" ".join(tokenize(phrase)), set()).add(pair)
        return owner

    @cached_property
    def _stage1(self) -> LabelIndex:
        return LabelIndex([self._spec(pair, with_industry=True) for pair in self._pairs], self._embedder, self.weights)

    @cached_property
    def _domains(self) -> LabelIndex:
        """The industries by their own (and borrowed) words alone: "is this posting about this domain at all"."""
        return LabelIndex([
            LabelSpec(i, {**self._borrowed.get((i, ""), {}), **_phrases(self.taxonomy, (i, ""))},
                      _document(self.taxonomy, (i, "")))
            for i in self.taxonomy.industries], self._embedder)

    @cached_property
    def _facts(self) -> PostingFacts:
        return PostingFacts(self.taxonomy)

    def _spec(self, pair: tuple[str, str], with_industry: bool) -> LabelSpec:
        industry, function = pair
        phrases = {p: w for p, w in self._borrowed.get(pair, {}).items()
                   if self._owner.get(" ".join(tokenize(p)), {pair}) >= {pair}}
        for phrase, weight in _phrases(self.taxonomy, pair).items():
            phrases[phrase] = max(phrases.get(phrase, 0.0), weight)
        document = _document(self.taxonomy, pair)
        if with_industry:  # the industry's own words count through the domain index (industry_decisions)
            document = f"{_document(self.taxonomy, (industry, ''))}. {document}"
        return LabelSpec(f"{industry}\x1f{function}", phrases, document)

    # -- raw decisions (what the calibration script fits on) ------------------------------------------------
    def industry_decisions(self, jobs: Sequence[IndustryInput]) -> list[Scored]:
        titles = [expand_title(j.title) for j in jobs]
        texts = [_job_text(j.title, j.description, j.tags) for j in jobs]
        decisions = []
        industries = list(self.taxonomy.industries)
        owner = np.array([industries.index(i) for i, _ in self._pairs], dtype=np.int64)  # grouped by industry
        starts = np.searchsorted(owner, np.arange(len(industries)))
        vectors, tokens = self._stage1.embed(titles, texts), tokenize_all(titles, texts)
        domains = self._domains.scores(titles, texts, vectors, tokens)
        stage1 = self._stage1.scores(titles, texts, vectors, tokens)
        w = self.weights
        for parts, domain in zip(stage1, domains, strict=True):
            # An industry's own words (keywords, name, description) lift each of its functions.
            lift = INDUSTRY_KEYWORD_WEIGHT * (w["title_lex"] * domain["title_lex"] + w["text_lex"] * domain["text_lex"])
            parts["total"] = parts["total"] + lift[owner]
        # An industry scores as its best function; the features describe the industries' race.
        best_functions = first_max_per_segment(np.array([parts["total"] for parts in stage1]), starts)
        for parts, domain, picks in zip(stage1, domains, best_functions, strict=True):
            per_industry: dict[str, np.ndarray] = {}
            for name in parts:
                per_industry[name] = parts[name][picks]
            best, runner_up = _ranked(per_industry["total"])
            features = decision_features(per_industry, best, runner_up, self.weights)
            features["domain_lex"] = float(domain["text_lex"][best] + domain["title_lex"][best])
            features["domain_sem"] = float(domain["text_sem"][best])
            decisions.append(Scored(industries[best], features))
        return decisions

    def function_decisions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> list[Scored]:
        index = self._function_index(industry, tuple(functions))
        titles = [expand_title(j.title or j.ai_title) for j in jobs]
        texts = [_job_text(j.title or j.ai_title, j.text or j.ai_description, j.skills) for j in jobs]
        decisions = []
        for title, parts in zip(titles, index.scores(titles, texts), strict=True):
            best, runner_up = _ranked(parts["total"])
            features = decision_features(parts, best, runner_up, self.weights)
            # Answers between two labels that mean nearly the same are riskier than between distinct ones.
            similar = float(index.label_similarity[best, runner_up]) if runner_up is not None else 0.0
            features["distinct"] = 1.0 - similar
            features["unranked"] = 0.0 if ranked_title(title) else 1.0
            decisions.append(Scored(functions[best], features))
        return decisions

    def _function_index(self, industry: str, functions: tuple[str, ...]) -> LabelIndex:
        index = self._stage2.get((industry, functions))
        if index is None:
            index = LabelIndex([self._spec((industry, f), with_industry=False) for f in functions], self._embedder,
                               self.weights)
            self._stage2[(industry, functions)] = index
        return index

    def _confidence(self, model: str, features: Mapping[str, float]) -> float:
        if self.calibrators is None:
            return 0.0
        return self.calibrators[model].probability(features)

    # -- stage 1 -------------------------------------------------------------------------------------------
    def classify_industries(
        self, jobs: Sequence[IndustryInput]
    ) -> Iterator[list[IndustryResult | EnrichmentFailure]]:
        single = len(self.taxonomy.industries) == 1
        for batch in job_batches(jobs, self.batch_size):
            decisions = self.industry_decisions(batch)
            yield [self._industry_result(job, d, "scope" if single else "industry")
                   for job, d in zip(batch, decisions, strict=True)]

    def _industry_result(self, job: IndustryInput, decision: Scored, model: str) -> IndustryResult:
        return self._facts.industry_result(job, decision.label, self._confidence(model, decision.features))

    # -- stage 2 -------------------------------------------------------------------------------------------
    def classify_functions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> Iterator[list[FunctionResult | EnrichmentFailure]]:
        functions = require_functions(industry, functions)
        for batch in job_batches(jobs, self.batch_size):
            decisions = self.function_decisions(industry, functions, batch)
            yield [FunctionResult(job.job_key, d.label, self._confidence("function", d.features))
                   for job, d in zip(batch, decisions, strict=True)]


def _job_text(title: str, description: str, extra: Sequence[str]) -> str:
    return spell_out_capitals(" ".join([plain_text(title), plain_text(description), " ; ".join(extra)]))
