"""Finds vocabulary phrases in free job text as whole words, tolerating plurals, hyphenation, accents and
small typos in long single words (rapidfuzz).

Text and phrases go through the same tokenizer, so "full-stack" matches "full stack", "Nurses" matches
"nurse", "Técnico" matches "tecnico" and "Kubernetes" matches "kubernetes". A phrase only ever matches a
whole run of words: "spark" never matches inside "sparkling". Long single words without digits also match a
word whose rapidfuzz `ratio` reaches `fuzzy_cutoff` ("kubernets", "counsellor"). Phrases of several words,
short words and words with digits match exactly only: a typo tolerance there turns "asset management" into
"case management", "osha 10" into "osha 30" and "rn" into "on". Vocabularies of names (skills,
technologies) turn plural folding off too, so the town "Sparks" is not the technology "spark".
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#&.]*|\.net\b")
_TAGS = re.compile(r"<[^>]+>")


def _stem(token: str) -> str:
    """A light, symmetric plural fold: applied to text and phrases alike, so it only needs to be consistent."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def fold_accents(text: str) -> str:
    """'Técnico de Mantenimiento' -> 'Tecnico de Mantenimiento': accents are not what tells two words apart."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# Folded form of each raw token seen (the trailing-dot strip and the plural fold), so the long descriptions of a
# feed fold each distinct word once. Bounded: past the limit new words are folded without being kept.
_FOLDED: dict[str, str] = {}
_FOLDED_LIMIT = 500_000


def _fold(raw: str) -> str:
    folded = _FOLDED.get(raw)
    if folded is None:
        folded = _stem(raw.rstrip("."))
        if len(_FOLDED) < _FOLDED_LIMIT:
            _FOLDED[raw] = folded
    return folded


def tokenize(text: str, fold_plurals: bool = True) -> list[str]:
    """Lowercased, accent-folded, (by default) plural-folded word tokens; '-' and '/' split words, '+', '#',
    '&' and inner '.' do not."""
    raws = _TOKEN.findall(fold_accents(html.unescape(_TAGS.sub(" ", text))).lower())
    if fold_plurals:
        cached = _FOLDED.get
        tokens = [cached(raw) or _fold(raw) for raw in raws]
    else:
        tokens = [raw.rstrip(".") for raw in raws]
    return [token for token in tokens if token] if "" in tokens else tokens


class PhraseMatcher:
    """Which of a fixed set of phrases occur in a text. Build once per vocabulary, call `find` per text."""

    def __init__(
        self,
        phrases: Iterable[str],
        *,
        fuzzy_min_length: int = 8,
        fuzzy_cutoff: float = 90.0,
        fuzzy: bool = True,
        fold_plurals: bool = True,
    ):
        self.fuzzy_cutoff = fuzzy_cutoff
        self.fold_plurals = fold_plurals
        self._by_key: dict[str, list[str]] = {}
        self._fuzzy_keys: dict[int, list[str]] = {}
        for phrase in phrases:
            tokens = tokenize(phrase, fold_plurals)
            if not tokens:
                continue
            key = " ".join(tokens)
            originals = self._by_key.setdefault(key, [])
            if phrase not in originals:
                originals.append(phrase)
            single_long_word = len(tokens) == 1 and len(key) >= fuzzy_min_length and not any(c.isdigit() for c in key)
            if fuzzy and len(originals) == 1 and single_long_word:
                self._fuzzy_keys.setdefault(1, []).append(key)
        # Phrases by their first word: a text is scanned once, and only words that start a phrase cost more.
        # A longer phrase keeps its second word (checked before the phrase is searched for) and its padded key.
        self._by_first: dict[str, list[tuple[int, str, str, str]]] = {}
        for key in self._by_key:
            words = key.split(" ")
            second = words[1] if len(words) > 1 else ""
            self._by_first.setdefault(words[0], []).append((len(words), key, second, f" {key} "))

    def find(self, text: str) -> set[str]:
        """The phrases (as given to the constructor) that occur in `text`."""
        return self.find_in_tokens(tokenize(text, self.fold_plurals))

    def find_keys(self, tokens: list[str]) -> set[str]:
        """The normalized phrase keys (tokens joined by one space) that occur in `tokens`."""
        found_keys: set[str] = set()
        longer: list[tuple[str, str]] = []
        present = set(tokens)
        for first in self._by_first.keys() & present:
            for n, key, second, padded in self._by_first[first]:
                if n == 1:
                    found_keys.add(key)
                elif second in present:
                    longer.append((key, padded))
        if longer:
            # Tokens hold no spaces, so a phrase of several words occurs exactly where its key does, word-aligned.
            text = f" {' '.join(tokens)} "
            found_keys.update(key for key, padded in longer if padded in text)
        candidates = [key for key in self._fuzzy_keys.get(1, ()) if key not in found_keys]
        if candidates and tokens:
            found_keys.update(self._fuzzy_hits(candidates, sorted(present)))
        return found_keys

    def find_in_tokens(self, tokens: list[str]) -> set[str]:
        return {phrase for key in self.find_keys(tokens) for phrase in self._by_key[key]}

    def _fuzzy_hits(self, keys: list[str], grams: list[str]) -> list[str]:
        scores = process.cdist(keys, grams, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff, dtype="uint8")
        return [key for key, hit in zip(keys, scores.any(axis=1).tolist(), strict=True) if hit]


def vocabulary_hits(matcher: PhraseMatcher, vocabulary: Sequence[str], words: list[str],
                    company_words: list[str]) -> tuple[str, ...]:
    """Skills or technologies named as whole words (tokens of `tokenize(text, fold_plurals=False)`), in
    vocabulary order. A term the company's own name contains is not reported: "Prometheus Real Estate" does
    not use the monitoring tool, whatever the posting says about Prometheus."""
    found = matcher.find_in_tokens(words) - (matcher.find_in_tokens(company_words) if company_words else set())
    return tuple(term for term in vocabulary if term in found)
