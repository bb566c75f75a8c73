"""Merge postings of one role (one per location, or one per source) into one job, block by block.

Pass 1 runs on raw postings grouped by `block_key` (normalized title | company);
pass 2 runs after AI stage 1 on deduped jobs grouped by `ai_block_key` (the standardized `ai_title`
and the employment type instead of the feed's title). Inside a block, postings are the same role when
they share a requisition id (same source) or when their descriptions are near-identical: word-level similarity
(rapidfuzz `fuzz.ratio` with a score cutoff, batched through `process.cdist` when a description
meets many candidates) at or above `DedupeConfig.similarity_threshold`. Roles grow like connected
components, with two guards against chaining different roles through one borderline posting: a
description joins a role when it matches most of the role's members it is scored against, and a
description matching two roles joins them only when the two also match directly. Each description
is scored against a few nearest members of every role found so far, not against every posting (a
role's postings are alike), and a block too large for that is read in sorted windows: cost grows
linearly, and `DedupeStats` reports the largest block. Two postings whose source gives them
different requisition ids, or that state different employment types, are never merged, not even
through a third posting similar to both. A posting without an employment type (RemoteOK gives none)
is of unknown type, not of another type: it may join a role of any type.

Everything here is pure and order-independent: the same set of postings gives the same merged jobs
with the same keys whatever order they arrive in. Merged keys are stable across runs: a cluster
inherits the key its members had last run (`previous_keys`), and without history it takes the
smallest member key, so a posting that stays alone keeps its own raw key.

Title normalization decisions (documented because they decide what can merge):
- kept: seniority and level words ("Senior Java Developer" and "Java Developer" are different roles,
  paid and screened differently), and technology words (C++, C# and C stay distinct).
- canonicalized: abbreviations (Sr., Jr., Mgr, ...), accents, case, punctuation, "&" -> "and".
- dropped: gender marks ("(m/w/d)", "(H/F)", "Entwickler*in"), work-arrangement segments ("- Remote",
  "(Hybrid)") and segments made only of the posting's own location ("Nurse - Boston, MA"), because
  one role's postings differ in exactly these.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from feed_pipeline.core.enrichment import IndustryResult
from feed_pipeline.core.identity import digest, make_content_hash
from feed_pipeline.core.jobs import TERMS_FIELDS, JobRecord

# --------------------------------------------------------------------------------------------------
# Text normalization
# --------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# German gender suffixes on the original text: "Entwickler*in", "Entwickler:innen", "Entwickler/-in",
# "Entwickler(in)", and the capital-I form "EntwicklerIn" after a German agent ending (so "LinkedIn" stays).
_GENDER_SUFFIX = re.compile(r"(?<=[^\W\d_])(?:[*:_/]-?|\()in(?:nen)?\)?(?![^\W\d_])", re.IGNORECASE)
_GENDER_CAPITAL_IN = re.compile(r"(?<=[a-zäöüß](?:er|or|nt|ur|st|ar|at|ef))In(?:nen)?\b")
_GENDER_LETTER = r"[mwfdhxv]"
_GENDER_WORD = r"(?:div\.?|divers|diverse|gn|all genders|all|alle|mwd|mfd|wmd|fmd|hf|mwx)"
# "(m/w/d)", "[H/F]", "(all genders)", "(gn)", and a bare "m/w/d"; a lone "(I)" or "(II)" is a level, kept.
_GENDER_MARK = re.compile(
    rf"[(\[]\s*(?:{_GENDER_LETTER}(?:\s*[/|,.\-]\s*(?:{_GENDER_LETTER}|{_GENDER_WORD}))+|{_GENDER_WORD})"
    rf"\s*\*?\s*[)\]]"
    rf"|(?<![\w/]){_GENDER_LETTER}(?:\s*/\s*{_GENDER_LETTER}){{1,3}}(?![\w/])",
    re.IGNORECASE,
)
# Technology names whose punctuation is their meaning.
_TECH_SYMBOLS = (
    (re.compile(r"(?<=\w)\+\+"), "pp"),
    (re.compile(r"(?<=\w)#"), "sharp"),
    (re.compile(r"(?<![\w.])\.net\b"), "dotnet"),
)
# Title separators: " - ", " | ", " / ", ", ", " in ", " @ ", brackets.
_TITLE_SEPARATOR = re.compile(r"\s+[-–—|/•·@]\s+|\s*[()\[\]{}]\s*|,\s*|;\s*|\s+in\s+|\s+[-–—]+$|^[-–—]+\s+")
_TITLE_ABBREVIATIONS = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "jnr": "junior",
    "mgr": "manager",
    "asst": "assistant",
    "assoc": "associate",
    "admin": "administrator",
    "vp": "vice president",
}
# A title segment made only of these words says how or where the role is worked, not what it is.
_ARRANGEMENT_WORDS = frozenset(
    "remote hybrid onsite on site wfh telecommute telework work from home office homeoffice fully partially"
    " 100 percent first friendly possible optional ok only anywhere worldwide based or".split()
)
_COMPANY_SUFFIXES = frozenset(
    "inc incorporated llc llp lp ltd limited co corp corporation company plc gmbh mbh ag kg kgaa ug se sa sas"
    " sarl srl spa bv nv oy oyj ab as asa aps pty pvt pte kk ltda sl sro ohg ev holding".split()
)


def unaccent(text: str) -> str:
    """Casefolded text without diacritics, so "Café" and "CAFE" compare equal."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def location_words(values: Iterable[str | None]) -> frozenset[str]:
    """The normalized words of location strings ("Boston, MA" -> {"boston", "ma"})."""
    found: set[str] = set()
    for value in values:
        if value:
            found.update(default_process(unaccent(value)).split())  # the form titles are compared in
            if not value.isascii():
                found.update(default_process(value).split())  # the form descriptions are compared in
    return frozenset(found)


def job_location_words(job: JobRecord) -> frozenset[str]:
    """Every word naming where this job is: its locations, city, state, country and postal code."""
    return location_words([*job.locations, job.city, job.state, job.country, job.postal_code])


def _strip_gender_marks(title: str) -> str:
    title = _GENDER_CAPITAL_IN.sub("", title)
    title = _GENDER_SUFFIX.sub("", title)
    return _GENDER_MARK.sub(" ", title)


def _title_segments(title: str) -> list[list[str]]:
    """The title cut at its separators, each segment as normalized words."""
    text = unaccent(_strip_gender_marks(title))
    for pattern, replacement in _TECH_SYMBOLS:
        text = pattern.sub(replacement, text)
    text = text.replace("&", " and ")
    segments = []
    for part in _TITLE_SEPARATOR.split(text):
        words = _words(part)
        if words:
            segments.append(words)
    return segments


def normalize_title(title: str, location_terms: Iterable[str] = ()) -> str:
    """The words that name the role: see the module docstring for what is kept and what is dropped.

    `location_terms` are the normalized words of the posting's own locations (`job_location_words`):
    a title segment made only of them (or of work-arrangement words) is dropped, unless it is all
    there is.
    """
    if title is None or not str(title).strip():
        raise ValueError("normalize_title: the title is empty; a posting without a title cannot be deduplicated")
    noise = _ARRANGEMENT_WORDS | frozenset(location_terms)
    segments = _title_segments(str(title))
    kept = [words for words in segments if not all(word in noise for word in words)]
    if not kept:
        kept = segments[:1] or [_words(unaccent(str(title)))]
    words: list[str] = []
    for segment in kept:
        for word in segment:
            words.append(_TITLE_ABBREVIATIONS.get(word, word))
    return " ".join(words)


def normalize_company(company: str) -> str:
    """The company name without legal form, punctuation or a leading "The": "ACME, Inc." -> "acme".

    Runs of single letters are joined first, so "L.L.C." is "llc" and "A.B.C. Corp" is "abc". A name
    that is nothing but a legal form keeps it rather than becoming empty.
    """
    if company is None:
        return ""
    words = _words(unaccent(str(company)).replace("&", " and ").replace("+", " and "))
    joined: list[str] = []
    in_letter_run = False
    for word in words:
        single_letter = len(word) == 1 and word.isalpha()
        if single_letter and in_letter_run:
            joined[-1] += word
        else:
            joined.append(word)
        in_letter_run = single_letter
    if len(joined) > 1 and joined[0] == "the":
        joined = joined[1:]
    while len(joined) > 1 and (joined[-1] in _COMPANY_SUFFIXES or joined[-1] == "and"):
        joined.pop()
    return " ".join(joined)


def _normalized_title_and_company(job: JobRecord) -> tuple[str, str]:
    return normalize_title(job.title, job_location_words(job)), normalize_company(job.company)


def block_key(job: JobRecord) -> str:
    """Pass 1 block: hash of normalized title | normalized company.

    The employment type is not part of it: a source that gives none would put the role in a block of its
    own. Stated types that differ still keep postings apart, inside the block (`_Components`).
    Filled at ingest (`assign_dedupe_keys`); the dedupe stage streams raw jobs ordered by it.
    """
    return digest("block", *_normalized_title_and_company(job))


def dedupe_key(job: JobRecord) -> str:
    """Cross-feed identity: hash of normalized title | normalized company, the same in every feed."""
    return digest("dedupe", *_normalized_title_and_company(job))


def ai_block_key(job: JobRecord, ai_title: str) -> str:
    """Pass 2 block: hash of the normalized AI title | normalized company | employment type."""
    title = normalize_title(ai_title, job_location_words(job))
    return digest("ai-block", title, normalize_company(job.company), job.employment_type or "")


def assign_dedupe_keys(job: JobRecord) -> JobRecord:
    """Fill `block_key` and `dedupe_key` in place and return the job (call at ingest: normalizes once)."""
    title, company = _normalized_title_and_company(job)
    job.block_key = digest("block", title, company)
    job.dedupe_key = digest("dedupe", title, company)
    return job


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """How alike two descriptions must be, and how much comparing one block may cost.

    - `similarity_threshold` (0-1): word-level similarity (2 * common words in order / total words,
      rapidfuzz `fuzz.ratio` on word lists, after removing every location word of the block) at which
      two postings of one block are the same role. 0.85 is the best point of the threshold sweep on
      the labeled benchmark (BENCHMARKS.md, "Dedupe"): precision 0.9998 and recall 0.9983, where 0.80
      lets more teams' roles that share a template merge (precision 0.997) and 0.90 splits roles whose
      postings carry a local-site paragraph (recall 0.988). Note the scale: 0.85, not 85.
    - `max_block_chunk`: the most distinct descriptions of one block every description may be
      scored against. A larger block is sorted (by its text, then by its reversed text) and each
      description only looks back `max_block_chunk // 2` places in each order, so a block of n
      distinct descriptions costs at most n * max_block_chunk scores, never n^2 / 2. Such blocks
      are counted in `DedupeStats.windowed_blocks`. At 500, the generator's 3,000-posting blocks
      (one title, one company, five teams) take about half a second and keep recall above 0.99.
    - `probes_per_role`: how many of a role's members, nearest in text order, a new description is
      scored against before it is taken as a different role. Postings of one role are alike, so a
      few suffice; all pairs would cost n^2 / 2 scores for a role posted in n places.
    - `snippet_min_words`, `snippet_length_ratio`: an aggregator that truncates descriptions (Adzuna
      sends ~500 characters) is matched against the same-length start of a longer description of the
      block when it has at least `snippet_min_words` words and under `snippet_length_ratio` of the
      other's length. A snippet only joins a role when it matches exactly one; 0 words turns it off.
    - `workers`: rapidfuzz threads per `cdist` call; each call scores one description against a few
      dozen others, too little work to split, and several feed runs share the machine: 1.
    - `max_members`: the most raw postings one merged job may hold. A role posted more often is split,
      in job-key order, into several jobs of at most this many postings each (counted in
      `DedupeStats.split_groups` / `split_jobs`): 200,000 identical postings would otherwise make one
      job with a 7 MB `member_keys` and an API answer to match. 500 is above the largest real
      multi-location role we have seen (a few hundred stores).
    """

    similarity_threshold: float = 0.85
    max_block_chunk: int = 500
    probes_per_role: int = 8
    snippet_min_words: int = 25
    snippet_length_ratio: float = 0.6
    workers: int = 1
    max_members: int = 500

    def __post_init__(self) -> None:
        if not 0.0 < self.similarity_threshold <= 1.0:
            raise ValueError(
                f"DedupeConfig.similarity_threshold must be in (0, 1], got {self.similarity_threshold!r}; "
                "0.85 is the benchmarked default"
            )
        if self.max_block_chunk < 2:
            raise ValueError(f"DedupeConfig.max_block_chunk must be at least 2, got {self.max_block_chunk!r}")
        if self.probes_per_role < 1:
            raise ValueError(f"DedupeConfig.probes_per_role must be at least 1, got {self.probes_per_role!r}")
        if self.snippet_min_words < 0:
            raise ValueError(f"DedupeConfig.snippet_min_words must be >= 0, got {self.snippet_min_words!r}")
        if not 0.0 < self.snippet_length_ratio <= 1.0:
            raise ValueError(f"DedupeConfig.snippet_length_ratio must be in (0, 1], got {self.snippet_length_ratio!r}")
        if self.max_members < 1:
            raise ValueError(f"DedupeConfig.max_members must be at least 1, got {self.max_members!r}")
        if self.workers == 0 or self.workers < -1:
            raise ValueError(
                f"DedupeConfig.workers must be a positive thread count or -1 (all cores), got {self.workers!r}"
            )

    @property
    def score_cutoff(self) -> float:
        return self.similarity_threshold * 100.0


# --------------------------------------------------------------------------------------------------
# Clustering inside one block
# --------------------------------------------------------------------------------------------------


class WordCodes:
    """Each distinct word of one block as one character, so descriptions compare as short strings.

    rapidfuzz then scores word sequences (an edit is one word, whatever its length) at string speed,
    and sorting and hashing descriptions is cheap. Words listed in `ignore` (the location words of
    every posting of the block) encode to nothing: "Join us in Boston" and "Join us in Denver" become
    the same text, whatever the city.
    """

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        # Codes in first-seen order (so they depend on the block alone), skipping the surrogate range;
        # the factory is a C iterator, so a new word costs no Python call.
        fresh_codes = map(chr, itertools.chain(range(1, 0xD800), range(0xE000, 0x110000)))
        self.codes: defaultdict[str, str] = defaultdict(fresh_codes.__next__)
        for word in ignore:
            self.codes[word] = ""

    def encode(self, text: str | None) -> str:
        """The text's lowercase alphanumeric words (rapidfuzz `default_process`), one character each."""
        return "".join(map(self.codes.__getitem__, default_process(text or "").split()))


class _Components:
    """Union-find over descriptions that refuses to join two roles by what they claim to be.

    A claim is (what, value): ("requisition:<source>", id) or ("employment_type", type). Two components
    whose claims give one `what` two values never join; a missing claim conflicts with nothing.
    """

    def __init__(self, claims: Sequence[Sequence[tuple[str, str]]]) -> None:
        self.parent = list(range(len(claims)))
        self.size = [1] * len(claims)
        self.claims: list[dict[str, str] | None] = [dict(claim) if claim else None for claim in claims]

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> bool:
        """Join the components of a and b; False when their claims conflict."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        claims_a, claims_b = self.claims[root_a], self.claims[root_b]
        if claims_a and claims_b:
            small, large = (claims_a, claims_b) if len(claims_a) <= len(claims_b) else (claims_b, claims_a)
            if any(large.get(what, value) != value for what, value in small.items()):
                return False
        keep, drop = (root_a, root_b) if self.size[root_a] >= self.size[root_b] else (root_b, root_a)
        self.parent[drop] = keep
        self.size[keep] += self.size[drop]
        if claims_a or claims_b:
            self.claims[keep] = {**(claims_a or {}), **(claims_b or {})}
        self.claims[drop] = None
        return True

    def groups(self) -> list[list[int]]:
        by_root: dict[int, list[int]] = defaultdict(list)
        for item in range(len(self.parent)):
            by_root[self.find(item)].append(item)
        return list(by_root.values())


def _requisition(job: JobRecord) -> tuple[str, str] | None:
    req = (job.requisition_id or "").strip().casefold()
    return ("requisition:" + (job.source or ""), req) if req else None


def _claims(job: JobRecord) -> tuple[tuple[str, str], ...]:
    """What the posting states about its role that another role's posting cannot share: its requisition id
    (per source) and its employment type. Unstated means unknown, which conflicts with nothing."""
    req = _requisition(job)
    claims = (req,) if req else ()
    return (*claims, ("employment_type", job.employment_type)) if job.employment_type else claims


@dataclass(slots=True)
class BlockClusters:
    """Which postings of a block are one role, and what finding out cost."""

    groups: list[list[int]]  # indices into the block's postings, each group sorted, groups sorted
    comparisons: int = 0  # description pairs scored
    windowed: bool = False  # the block had more than max_block_chunk distinct descriptions


def cluster_postings(jobs: Sequence[JobRecord], config: DedupeConfig) -> BlockClusters:
    """Group the postings of one block into roles (see the module docstring for the rules).

    Postings with the same words and requisition are one description ("rep"); reps sharing a
    requisition are joined first; then, in text order, each rep joins the earlier roles it matches
    (`_link_similar`), and truncated snippets join the one role they start like. Deterministic for
    a given order of `jobs`; merge_block sorts by job key first, which makes the result independent
    of arrival order.
    """
    count = len(jobs)
    if count <= 1:
        return BlockClusters(groups=[[0]] if count else [])
    places = {place for job in jobs for place in (*job.locations, job.city, job.state, job.country, job.postal_code)}
    codes = WordCodes(location_words(places))
    encoded: dict[str, str] = {}  # one role's postings often repeat the description word for word
    by_rep: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = {}
    for index, job in enumerate(jobs):
        description = job.description or ""
        text = encoded.get(description)
        if text is None:
            text = encoded[description] = codes.encode(description)
        by_rep.setdefault((text, _claims(job)), []).append(index)
    rep_keys = list(by_rep)  # ordered by smallest member, so by job key in merge_block
    rep_texts = [text for text, _ in rep_keys]
    components = _Components([claims for _, claims in rep_keys])

    first_with: dict[tuple[str, str], int] = {}
    for rep, (_, claims) in enumerate(rep_keys):
        for claim in claims:
            if claim[0].startswith("requisition:"):  # a shared requisition is one role; a shared type is not
                components.union(first_with.setdefault(claim, rep), rep)

    reps = len(rep_keys)
    windowed = reps > config.max_block_chunk
    # Near-identical texts sort next to each other; a large block is also read in reversed-text
    # order, so texts that differ near their start meet too.
    orders = [sorted(range(reps), key=lambda rep: (rep_texts[rep], rep))]
    window = 0
    if windowed:
        orders.append(sorted(range(reps), key=lambda rep: (rep_texts[rep][::-1], rep)))
        window = config.max_block_chunk // 2
    comparisons = sum(_link_similar(rep_texts, order, window, components, config) for order in orders)
    if config.snippet_min_words and not windowed:
        comparisons += _attach_snippets(rep_texts, components, config)
    groups = [sorted(index for rep in group for index in by_rep[rep_keys[rep]]) for group in components.groups()]
    return BlockClusters(groups=sorted(groups), comparisons=comparisons, windowed=windowed)


# Below this many choices a plain loop of `fuzz.ratio` beats `process.cdist`, whose call costs ~10 µs.
_CDIST_MIN_CHOICES = 16


def _link_similar(
    rep_texts: Sequence[str], order: list[int], window: int, components: _Components, config: DedupeConfig
) -> int:
    """Join each rep (in `order`) to the roles of earlier reps it is similar to; return pairs scored.

    A rep is scored, in one batch, against the `probes_per_role` nearest earlier members of every
    other role (all of them in a small role). It joins a role when most of those probes match, best
    score first; a second role is joined only if its matching probe also matches the first role's
    (or the rep's own role's nearest member). `order` is text order, so the nearest members are the
    likeliest matches, and a role posted in n places costs about n * probes scores, not n^2 / 2.
    `window` > 0 limits earlier reps to that many positions (large blocks).
    """
    cutoff = config.score_cutoff
    table = _ProbeTable(config.probes_per_role)
    comparisons = 0
    for position, rep in enumerate(order):
        if window:
            table.drop_before(position - window)
        own_root = components.find(rep)
        own_probes = table.count.get(own_root, 0)
        touched = {own_root}
        if len(table.positions) > own_probes:
            comparisons += len(table.positions) - own_probes
            best: dict[int, tuple[float, int]] = {}  # root -> (best score, position of that probe)
            matched: Counter[int] = Counter()  # root -> its probes that matched
            for index, score in table.matches(rep_texts[rep], own_root if own_probes else None, config):
                root = table.roots[index]
                matched[root] += 1
                if score > best.get(root, (0.0, 0))[0]:
                    best[root] = (score, table.positions[index])
            # A role is joined when most of its probed members match, not just one borderline member.
            best = {root: found for root, found in best.items() if 2 * matched[root] > table.count[root]}
            # The rep's own role (if it already has members here) vouches for it first.
            anchor = table.last_text(own_root) if own_probes else None
            for root, (_, probe) in sorted(best.items(), key=lambda item: (-item[1][0], item[0])):
                # Joining a second role through this one posting needs the two roles to match
                # directly too, so one borderline posting cannot chain two different roles.
                if anchor is not None:
                    comparisons += 1
                    if fuzz.ratio(anchor, rep_texts[order[probe]], score_cutoff=cutoff) < cutoff:
                        continue
                if not components.union(rep, root):
                    continue  # different requisitions or employment types: never one role
                touched.add(root)
                anchor = anchor if anchor is not None else rep_texts[order[probe]]
        for root in touched:  # components that merged: their probes now stand for the new root
            current = components.find(root)
            if current != root:
                table.relabel(root, current)
        table.add(position, rep_texts[rep], components.find(rep))
    return comparisons


_SKIP_BY_COPY = 4  # see _ProbeTable.matches


class _ProbeTable:
    """Each role's `probes` latest positions in `order` (those a new rep is scored against), in position order,
    with their texts, so one rep is scored against every other role's probes in one call."""

    def __init__(self, probes: int) -> None:
        self.probes = probes
        self.positions: list[int] = []
        self.texts: list[str] = []
        self.roots: list[int] = []
        self.count: dict[int, int] = {}  # root -> its entries

    def drop_before(self, low: int) -> None:
        cut = bisect_left(self.positions, low)
        if cut:
            for root in self.roots[:cut]:
                self._forget(root)
            del self.positions[:cut], self.texts[:cut], self.roots[:cut]

    def add(self, position: int, text: str, root: int) -> None:
        self.positions.append(position)
        self.texts.append(text)
        self.roots.append(root)
        self.count[root] = self.count.get(root, 0) + 1
        self._trim(root)

    def relabel(self, old: int, new: int) -> None:
        if old not in self.count:
            return
        roots = self.roots
        for index, root in enumerate(roots):
            if root == old:
                roots[index] = new
        self.count[new] = self.count.get(new, 0) + self.count.pop(old)
        self._trim(new)

    def matches(self, text: str, skip_root: int | None, config: DedupeConfig) -> list[tuple[int, float]]:
        """(index, score) of the entries `text` matches but those of `skip_root` (the rep's own role). Its few
        entries are scored and dropped when the table is large (cheaper than copying the table without them),
        left out of the call when they are a good share of it."""
        if skip_root is None or self.count[skip_root] * _SKIP_BY_COPY < len(self.roots):
            roots = self.roots
            return [(index, score) for index, score in _matches(text, self.texts, config) if roots[index] != skip_root]
        others = [index for index, root in enumerate(self.roots) if root != skip_root]
        found = _matches(text, [self.texts[index] for index in others], config)
        return [(others[index], score) for index, score in found]

    def last_text(self, root: int) -> str:
        index = len(self.roots) - 1 - self.roots[::-1].index(root)
        return self.texts[index]

    def _trim(self, root: int) -> None:
        """Keep the root's latest `probes` entries: the earliest go first."""
        while self.count[root] > self.probes:
            index = self.roots.index(root)
            del self.positions[index], self.texts[index], self.roots[index]
            self._forget(root)

    def _forget(self, root: int) -> None:
        self.count[root] -= 1
        if not self.count[root]:
            del self.count[root]


def _matches(query: str, choices: list[str], config: DedupeConfig) -> list[tuple[int, float]]:
    """(index, score) of the choices the query reaches the cutoff with, in index order."""
    cutoff = config.score_cutoff
    if len(choices) < _CDIST_MIN_CHOICES:
        return [(i, score) for i, choice in enumerate(choices)
                if (score := fuzz.ratio(query, choice, score_cutoff=cutoff)) >= cutoff]
    scores = process.cdist([query], choices, scorer=fuzz.ratio, score_cutoff=cutoff, workers=config.workers)[0]
    hits = np.flatnonzero(scores >= cutoff)
    return list(zip(hits.tolist(), scores[hits].tolist(), strict=True))


def _attach_snippets(rep_texts: Sequence[str], components: _Components, config: DedupeConfig) -> int:
    """Join a truncated description to the one role whose description starts the same way."""
    lengths = [len(text) for text in rep_texts]
    longest = max(lengths)
    comparisons = 0
    for short, short_text in enumerate(rep_texts):
        size = lengths[short]
        if size < config.snippet_min_words or size >= config.snippet_length_ratio * longest:
            continue
        longs = [long for long, length in enumerate(lengths) if size < config.snippet_length_ratio * length]
        comparisons += len(longs)
        starts = [rep_texts[long][:size] for long in longs]
        matched_roots = {components.find(longs[index]) for index, _ in _matches(short_text, starts, config)}
        # Exactly one other role matches: attach. Several (or ours and another): ambiguous, leave it.
        if len(matched_roots) == 1 and components.find(short) not in matched_roots:
            components.union(short, matched_roots.pop())
    return comparisons


def split_large_groups(groups: Sequence[Sequence[int]], jobs: Sequence[JobRecord],
                       max_members: int) -> tuple[list[list[int]], int]:
    """(groups, how many were split): each group cut, in order, into parts of at most `max_members` raw
    postings (a job's `member_keys`, or 1 for a raw posting). A job holding more than that alone stays
    whole (pass 1 already capped it). Order is kept, so the parts are stable across runs."""
    result: list[list[int]] = []
    split = 0
    for group in groups:
        sizes = [len(jobs[index].member_keys) or 1 for index in group]
        if sum(sizes) <= max_members:
            result.append(list(group))
            continue
        split += 1
        part: list[int] = []
        held = 0
        for index, size in zip(group, sizes, strict=True):
            if part and held + size > max_members:
                result.append(part)
                part, held = [], 0
            part.append(index)
            held += size
        result.append(part)
    return result, split


# --------------------------------------------------------------------------------------------------
# Stable merged keys
# --------------------------------------------------------------------------------------------------


def assign_merged_keys(
    clusters: Sequence[Sequence[str]],
    previous_keys: Mapping[str, str] | None = None,
    claimed_keys: set[str] | None = None,
) -> list[str]:
    """One key per cluster of member keys, stable across runs and unique.

    With history, a cluster inherits a key its members had last run: first a key that is one of its
    own members, then the key most of its members had, then the smaller key. A key goes to one
    cluster only. Without a usable history, the cluster takes its smallest member key that nobody has
    claimed (so a posting alone keeps its raw key); if all are claimed, a digest of that key.

    `claimed_keys`, when given, holds keys already used by earlier blocks of the same run and gets
    this call's keys added: pass one set for all blocks of a feed, so a key cannot be given twice
    even when last run's cluster now spans two blocks. Order-independent for a given set of clusters.
    """
    taken: set[str] = claimed_keys if claimed_keys is not None else set()
    member_sets = [set(cluster) for cluster in clusters]
    seen: set[str] = set()
    for cluster, members in zip(clusters, member_sets, strict=True):
        if not members:
            raise ValueError("assign_merged_keys: a cluster has no members")
        if len(members) != len(cluster) or members & seen:
            repeated = sorted((members & seen) or {k for k in cluster if list(cluster).count(k) > 1})
            raise ValueError(f"assign_merged_keys: member key(s) {repeated[:3]} appear in more than one place")
        seen |= members
    smallest = [min(members) for members in member_sets]
    keys: list[str | None] = [None] * len(clusters)
    if previous_keys:
        candidates = []
        for index, cluster in enumerate(clusters):
            support = Counter(previous_keys[member] for member in cluster if member in previous_keys)
            for key, count in support.items():
                candidates.append((key not in member_sets[index], -count, key, smallest[index], index))
        for _, _, key, _, index in sorted(candidates):
            if keys[index] is None and key not in taken:
                keys[index] = key
                taken.add(key)
    for index in sorted(range(len(clusters)), key=smallest.__getitem__):
        if keys[index] is not None:
            continue
        key = next((member for member in sorted(member_sets[index]) if member not in taken), None)
        if key is None:
            key = digest("merged", smallest[index])
            while key in taken:
                key = digest("merged", key)
        keys[index] = key
        taken.add(key)
    return keys  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------------
# Merging one cluster into one job
# --------------------------------------------------------------------------------------------------

_COMPLETENESS_FIELDS = ("url", "description_html", *TERMS_FIELDS, "requisition_id", "category", "tags")
_FILLED_FROM_OTHERS = ("url", "employment_type", "requisition_id", "category", "status", "source_id")
_PLACE_FIELDS = ("city", "state", "country", "postal_code")


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _filled_fields(job: JobRecord) -> int:
    return sum(1 for name in _COMPLETENESS_FIELDS if _filled(getattr(job, name)))


def rank_by_completeness(jobs: Sequence[JobRecord]) -> list[JobRecord]:
    """Longest description first, then most fields filled, then the smaller key; the first is the primary.

    Fields are only counted where description lengths tie (they rarely do, and counting costs).
    """
    ranked = sorted(jobs, key=lambda job: (-len(job.description or ""), job.job_key))
    longest = len(ranked[0].description or "")
    ties = 1
    while ties < len(ranked) and len(ranked[ties].description or "") == longest:
        ties += 1
    if ties > 1:
        ranked[:ties] = sorted(ranked[:ties], key=lambda job: (-_filled_fields(job), job.job_key))
    return ranked


def posting_locations(job: JobRecord) -> list[str]:
    """The job's locations, or "city, state, country" when the source gave only those fields."""
    if job.locations:
        return [location for location in job.locations if location and location.strip()]
    parts = [part.strip() for part in (job.city, job.state, job.country) if part and part.strip()]
    return [", ".join(parts)] if parts else []


def union_locations(jobs: Iterable[JobRecord]) -> list[str]:
    """Every location of the jobs once (case, accents and punctuation ignored), in a fixed order."""
    by_key: dict[str, str] = {}
    for job in jobs:
        for location in posting_locations(job):
            shown = " ".join(location.split())
            key = " ".join(default_process(unaccent(shown)).split()) or shown
            if key not in by_key or shown < by_key[key]:
                by_key[key] = shown
    return [by_key[key] for key in sorted(by_key)]


def title_without_locations(title: str, location_terms: frozenset[str]) -> str:
    """The display title without leading/trailing segments that only name a place ("Nurse - Boston, MA")."""
    parts = _TITLE_SEPARATOR_KEEP.split(title)
    # parts alternate: text, separator, text, ...; drop location-only text parts from both ends.
    texts, separators = parts[0::2], parts[1::2]

    def is_place(text: str) -> bool:
        words = _words(unaccent(text))
        return all(word in location_terms for word in words)

    start, end = 0, len(texts)
    while end - start > 1 and is_place(texts[end - 1]):
        end -= 1
    while end - start > 1 and is_place(texts[start]):
        start += 1
    if not any(_words(text) for text in texts[start:end]):
        return title.strip()
    pieces = [texts[start]]
    for index in range(start + 1, end):
        pieces.append(separators[index - 1])
        pieces.append(texts[index])
    kept = "".join(pieces).strip()
    # Keep closing brackets balanced when a trailing "(Boston)" went away but "(" stayed.
    return kept.rstrip(" -–—|/•·@,;([{").strip() or title.strip()


_TITLE_SEPARATOR_KEEP = re.compile(r"(\s+[-–—|/•·@]\s+|\s*[()\[\]{}]\s*|,\s*|;\s*|\s+in\s+)")


def _merged_salary(ranked: Sequence[JobRecord]) -> tuple[float | None, float | None, str | None, str | None]:
    """The range across members when they state pay in one currency and period, else the primary's."""
    with_pay = [job for job in ranked if job.salary_min is not None or job.salary_max is not None]
    if not with_pay:
        return None, None, ranked[0].salary_currency, ranked[0].salary_period
    units = {(job.salary_currency, job.salary_period) for job in with_pay}
    if len(units) == 1:
        lows = [job.salary_min for job in with_pay if job.salary_min is not None]
        highs = [job.salary_max for job in with_pay if job.salary_max is not None]
        currency, period = units.pop()
        return (min(lows) if lows else None, max(highs) if highs else None, currency, period)
    first = with_pay[0]
    return first.salary_min, first.salary_max, first.salary_currency, first.salary_period


def _combine_fields(merged: JobRecord, ranked: Sequence[JobRecord]) -> None:
    """The fields of a merged job that come from all of its members (see merge_records)."""
    for name in _FILLED_FROM_OTHERS:
        if not _filled(getattr(merged, name)):
            setattr(merged, name, next((getattr(j, name) for j in ranked if _filled(getattr(j, name))), None))
    for name in _PLACE_FIELDS:
        values = {getattr(job, name) for job in ranked}
        setattr(merged, name, values.pop() if len(values) == 1 else None)
    merged.salary_min, merged.salary_max, merged.salary_currency, merged.salary_period = _merged_salary(ranked)
    posted = [job.posted_at for job in ranked if job.posted_at is not None]
    merged.posted_at = min(posted) if posted else None
    expires = [job.expires_at for job in ranked if job.expires_at is not None]
    merged.expires_at = max(expires) if expires else None
    remote = {job.is_remote for job in ranked}
    merged.is_remote = True if True in remote else (False if False in remote else None)


def merge_records(jobs: Sequence[JobRecord], merged_key: str, cross_feed_key: str | None = None) -> JobRecord:
    """One job from the postings of one role: the primary member's fields, gaps filled from others.

    Primary = longest description, then most fields, then smallest key. Locations are the union;
    city/state/country/postal code stay only when every member agrees; pay becomes the range across
    members (same currency and period); posted_at is the earliest, expires_at the latest known;
    remote if any member is. `cross_feed_key` is the dedupe_key when the caller knows it (all
    postings of a pass 1 block share it), else the primary's. Inputs are not modified.
    """
    ranked = rank_by_completeness(jobs) if len(jobs) > 1 else list(jobs)
    primary = ranked[0]
    locations = union_locations(ranked)
    member_keys = sorted({key for job in ranked for key in (job.member_keys or [job.job_key])})
    source_ids = sorted(
        {sid for job in ranked for sid in (job.source_ids or ([job.source_id] if job.source_id else []))}
    )
    extra: dict[str, Any] = {}
    for job in reversed(ranked):  # the better-ranked member's value wins
        extra.update(job.extra or {})
    merged = dataclasses.replace(
        primary,
        locations=locations,
        tags=sorted({tag for job in ranked for tag in job.tags}),
        extra=extra,
        member_keys=member_keys,
        source_ids=source_ids,
        is_multi_location=len(locations) > 1,
        rejection_reason=None,
        rejection_detail=None,
    )
    if len(ranked) > 1:
        _combine_fields(merged, ranked)
    if len(locations) > 1:
        merged.title = title_without_locations(primary.title, job_location_words(primary))
    merged.dedupe_key = cross_feed_key or primary.dedupe_key or dedupe_key(primary)
    merged.job_key = merged_key
    merged.content_hash = make_content_hash(merged)
    return merged


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------

_LOCATION_BUCKETS = ((0, "0"), (1, "1"), (5, "2-5"), (20, "6-20"), (100, "21-100"))


def _location_bucket(count: int) -> str:
    for limit, label in _LOCATION_BUCKETS:
        if count <= limit:
            return label
    return "101+"


# DedupeStats fields that are not plain counts: `absorb` takes the larger or merges them; it sums every other one.
_NOT_SUMMED = frozenset({"largest_group", "largest_block", "largest_block_key", "location_counts"})


@dataclass(slots=True)
class DedupeStats:
    """Counts accumulated over the blocks of one run, for the asset's metadata."""

    input_jobs: int = 0
    output_jobs: int = 0
    merged_groups: int = 0  # output jobs made of two or more inputs
    largest_group: int = 0  # inputs in the biggest output job
    blocks: int = 0
    largest_block: int = 0  # postings in the biggest block
    largest_block_key: str = ""
    windowed_blocks: int = 0  # blocks compared by sorted windows instead of all pairs
    split_groups: int = 0  # roles with more than DedupeConfig.max_members postings, split into several jobs
    split_jobs: int = 0  # the jobs those roles became
    comparisons: int = 0  # description pairs scored
    multi_location_jobs: int = 0
    total_locations: int = 0
    location_counts: dict[str, int] = field(default_factory=dict)  # locations per job (bucket) -> jobs
    reused_blocks: int = 0  # blocks whose postings had not changed: their last output kept, nothing compared

    @property
    def duplicate_rate(self) -> float:
        """Share of input postings that were folded into another: 1 - outputs / inputs."""
        return 1.0 - self.output_jobs / self.input_jobs if self.input_jobs else 0.0

    def add_block(
        self,
        inputs: Sequence[JobRecord],
        outputs: Sequence[JobRecord],
        *,
        block: str | None = None,
        comparisons: int = 0,
        windowed: bool = False,
        split_groups: int = 0,
        split_jobs: int = 0,
    ) -> None:
        """Record one block: its inputs (raw or deduped jobs) and the merged jobs made from them."""
        self.blocks += 1
        self.split_groups += split_groups
        self.split_jobs += split_jobs
        self.input_jobs += len(inputs)
        self.output_jobs += len(outputs)
        self.comparisons += comparisons
        self.windowed_blocks += int(windowed)
        if len(inputs) > self.largest_block:
            self.largest_block = len(inputs)
            self.largest_block_key = block if block is not None else (inputs[0].block_key if inputs else "")
        owner = {key: index for index, job in enumerate(outputs) for key in (job.member_keys or [job.job_key])}
        group_sizes = Counter(owner.get((job.member_keys or [job.job_key])[0]) for job in inputs)
        for index, size in group_sizes.items():
            if index is not None and size > 1:
                self.merged_groups += 1
            self.largest_group = max(self.largest_group, size)
        for job in outputs:
            count = len(job.locations)
            self.total_locations += count
            self.multi_location_jobs += int(count > 1)
            bucket = _location_bucket(count)
            self.location_counts[bucket] = self.location_counts.get(bucket, 0) + 1

    def absorb(self, other: DedupeStats) -> None:
        """Add the counts of other blocks (one block's, fresh or stored) to these, as `add_block` would have."""
        for f in dataclasses.fields(self):
            if f.name not in _NOT_SUMMED:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.largest_group = max(self.largest_group, other.largest_group)
        if other.largest_block > self.largest_block:
            self.largest_block, self.largest_block_key = other.largest_block, other.largest_block_key
        for bucket, jobs in other.location_counts.items():
            self.location_counts[bucket] = self.location_counts.get(bucket, 0) + jobs

    def figures(self) -> dict[str, Any]:
        """The counts as plain JSON, to store with a block and `reused` in a later run."""
        return dataclasses.asdict(self)

    @classmethod
    def reused(cls, figures: Mapping[str, Any]) -> DedupeStats:
        """A block's stored figures, counted as kept this run: nothing was compared."""
        known = {f.name for f in dataclasses.fields(cls)}
        stats = cls(**{name: value for name, value in figures.items() if name in known})
        stats.comparisons, stats.reused_blocks = 0, 1
        return stats

    def as_metadata(self) -> dict[str, Any]:
        """Plain JSON values for `MaterializeResult(metadata=...)`."""
        return {
            "reused_blocks": self.reused_blocks,
            "input_jobs": self.input_jobs,
            "output_jobs": self.output_jobs,
            "duplicate_rate": round(self.duplicate_rate, 4),
            "merged_groups": self.merged_groups,
            "largest_group": self.largest_group,
            "blocks": self.blocks,
            "largest_block": self.largest_block,
            "largest_block_key": self.largest_block_key,
            "windowed_blocks": self.windowed_blocks,
            "split_groups": self.split_groups,
            "split_jobs": self.split_jobs,
            "comparisons": self.comparisons,
            "multi_location_jobs": self.multi_location_jobs,
            "total_locations": self.total_locations,
            "location_counts": {label: self.location_counts.get(label, 0) for _, label in _LOCATION_BUCKETS}
            | {"101+": self.location_counts.get("101+", 0)},
        }


def block_fingerprint(postings: Iterable[tuple[str, str]], salt: str) -> str:
    """Everything pass 1 reads from one block's postings ((job key, digest of the posting's stored values), in key
    order) under the settings `salt` stands for: an equal fingerprint gives equal merged jobs, so a rerun may keep
    the block's."""
    return digest(salt, *(f"{key}:{row_hash}" for key, row_hash in postings))


# --------------------------------------------------------------------------------------------------
# Pass 1 and pass 2
# --------------------------------------------------------------------------------------------------


def _checked_block(jobs: Sequence[JobRecord], what: str) -> list[JobRecord]:
    """The block sorted by job key, after checking it is one feed's unrejected postings with unique keys."""
    for position, job in enumerate(jobs):
        if not isinstance(job, JobRecord):
            raise TypeError(f"{what}: item {position} is a {type(job).__name__}, expected a JobRecord")
    ordered = sorted(jobs, key=lambda job: job.job_key)
    feed_id = ordered[0].feed_id
    previous = None
    for job in ordered:
        if not job.job_key:
            raise ValueError(
                f"{what}: posting {job.source_id or job.url!r} of feed {job.feed_id!r} has no job_key; "
                "call core.identity.assign_identity at ingest"
            )
        if job.job_key == previous:
            raise ValueError(f"{what}: job_key {job.job_key!r} appears twice in one block of feed {feed_id!r}")
        if job.feed_id != feed_id:
            raise ValueError(
                f"{what}: one block mixes feeds {feed_id!r} and {job.feed_id!r} (job {job.job_key!r}); "
                "dedupe runs per feed"
            )
        if job.rejection_reason:
            raise ValueError(
                f"{what}: job {job.job_key!r} of feed {feed_id!r} is rejected ({job.rejection_reason}); "
                "leave rejected postings out of dedupe"
            )
        previous = job.job_key
    return ordered


def merge_block(
    jobs: Sequence[JobRecord],
    config: DedupeConfig,
    previous_keys: Mapping[str, str] | None = None,
    *,
    claimed_keys: set[str] | None = None,
    stats: DedupeStats | None = None,
) -> list[JobRecord]:
    """Pass 1: merge the raw postings of one block (one `block_key`) into one job per role.

    Returns the merged jobs sorted by key: `job_key` is the stable merged key (`assign_merged_keys`
    with `previous_keys`, raw member key -> merged key of the last run), `member_keys` and
    `source_ids` sorted, `locations` the union, `is_multi_location`, `dedupe_key`, and `content_hash`
    recomputed. The same set of postings gives the same result in any order. `claimed_keys`: see
    `assign_merged_keys`. `stats`, when given, records the block.
    """
    if not jobs:
        return []
    ordered = _checked_block(jobs, "merge_block")
    keys = {job.block_key or block_key(job) for job in ordered}
    if len(keys) > 1:
        raise ValueError(
            f"merge_block: the postings of feed {ordered[0].feed_id!r} span {len(keys)} block keys; "
            "pass the postings of one block_key at a time (stream raw_jobs ordered by block_key)"
        )
    block = keys.pop()
    ordered = [job if job.block_key else dataclasses.replace(job, block_key=block) for job in ordered]
    clusters = cluster_postings(ordered, config)
    groups, split = split_large_groups(clusters.groups, ordered, config.max_members)
    member_groups = [[ordered[index] for index in group] for group in groups]
    merged_keys = assign_merged_keys(
        [[job.job_key for job in group] for group in member_groups], previous_keys, claimed_keys
    )
    cross_feed_key = next((job.dedupe_key for job in ordered if job.dedupe_key), None) or dedupe_key(ordered[0])
    merged = sorted(
        (merge_records(group, key, cross_feed_key) for group, key in zip(member_groups, merged_keys, strict=True)),
        key=lambda job: job.job_key,
    )
    if stats is not None:
        stats.add_block(ordered, merged, block=block, comparisons=clusters.comparisons, windowed=clusters.windowed,
                        split_groups=split, split_jobs=len(groups) - len(clusters.groups) + split)
    return merged


def _best_result(members: Sequence[tuple[JobRecord, IndustryResult]]) -> IndustryResult:
    """Highest confidence, then the job that merged the most postings, then the smaller key."""
    _, result = min(members, key=lambda item: (-item[1].confidence, -len(item[0].member_keys or [1]), item[0].job_key))
    return result


def merge_enriched_block(
    items: Sequence[tuple[JobRecord, IndustryResult]],
    config: DedupeConfig,
    previous_keys: Mapping[str, str] | None = None,
    *,
    claimed_keys: set[str] | None = None,
    stats: DedupeStats | None = None,
    singletons: bool = True,
) -> list[tuple[JobRecord, IndustryResult, list[str]]]:
    """Pass 2: merge deduped jobs of one `ai_block_key` whose descriptions match, as in pass 1.

    Returns (merged job, the best-supported stage 1 result re-keyed to the merged job, the deduped
    job keys merged into it), sorted by key. The merged key follows the pass 1 rule over the deduped
    keys (`previous_keys`: deduped key -> the pass 2 key it had last run), so a job that merges with
    nothing keeps its deduped key. Without `singletons`, the jobs that merge with nothing are left out
    (a caller that keeps their rows need not have them rebuilt).
    """
    if not items:
        return []
    for position, item in enumerate(items):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], IndustryResult)):
            raise TypeError(f"merge_enriched_block: item {position} is not a (JobRecord, IndustryResult) pair")
        job, result = item
        if result.job_key != job.job_key:
            raise ValueError(
                f"merge_enriched_block: item {position} pairs job {job.job_key!r} with the stage 1 result "
                f"of {result.job_key!r}"
            )
    result_of = {job.job_key: result for job, result in items}
    ordered = _checked_block([job for job, _ in items], "merge_enriched_block")
    blocks = {ai_block_key(job, result_of[job.job_key].ai_title) for job in ordered}
    if len(blocks) > 1:
        raise ValueError(
            f"merge_enriched_block: the jobs of feed {ordered[0].feed_id!r} span {len(blocks)} ai_block_keys; "
            "group them by ai_block_key(job, result.ai_title) first"
        )
    block = blocks.pop()
    if stats is not None and not singletons:
        raise ValueError("merge_enriched_block: stats count every output job; pass singletons=True with stats")
    clusters = cluster_postings(ordered, config)
    groups, split = split_large_groups(clusters.groups, ordered, config.max_members)
    member_groups = [[ordered[index] for index in group] for group in groups]
    merged_keys = assign_merged_keys(
        [[job.job_key for job in group] for group in member_groups], previous_keys, claimed_keys
    )
    triples = []
    for group, key in zip(member_groups, merged_keys, strict=True):
        if len(group) < 2 and not singletons:
            continue
        merged = merge_records(group, key)
        best = _best_result([(job, result_of[job.job_key]) for job in group])
        triples.append((merged, dataclasses.replace(best, job_key=key), [job.job_key for job in group]))
    triples.sort(key=lambda triple: triple[0].job_key)
    if stats is not None:
        stats.add_block(
            ordered,
            [triple[0] for triple in triples],
            block=block,
            comparisons=clusters.comparisons,
            windowed=clusters.windowed,
            split_groups=split,
            split_jobs=len(groups) - len(clusters.groups) + split,
        )
    return triples
