"""Which postings of a job API a feed wants: include and exclude keywords matched on the title and the tags.

Aggregator searches are broad (RemoteOK returns every remote job; a JSearch query returns near misses), so a
feed narrows what it keeps with keywords. A posting is kept when at least one include keyword occurs in its
title or one of its tags (or when there are no include keywords) and no exclude keyword does. Matching is
word-based through core.keyword_match: case, plurals and hyphenation do not matter ("Back-End Engineers"
matches "back end"), and keywords of 8 letters or more tolerate a small typo ("Plattform").

Presets name keyword sets; a feed's own `include` / `exclude` keywords are added to its preset's.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from feed_pipeline.core.keyword_match import PhraseMatcher, tokenize

# Preset name -> (include keywords, exclude keywords). Spelling variants are listed because matching is on words:
# "backend" does not match "back-end" (two words) by itself.
ROLE_PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "backend_devops": (
        ("backend", "back end", "devops", "dev ops", "sre", "site reliability", "cloud", "platform",
         "infrastructure"),
        (),
    ),
}
NO_FILTER = "none"
# The preset the aggregator kinds (remoteok, jsearch, adzuna, multi) use when a feed names none.
DEFAULT_API_PRESET = "backend_devops"


class RoleFilterError(ValueError):
    """A feed's role-filter params cannot be used; the message says which param and what is allowed."""


@dataclass(frozen=True)
class RoleDecision:
    keep: bool
    reason: str  # "included", "no include keyword matched", "excluded by 'sales'"


@dataclass
class RoleFilter:
    """Include/exclude keyword matching for titles and tags. Build once per feed, call `decide` per posting."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    preset: str | None = None
    _include: PhraseMatcher = field(init=False, repr=False)
    _exclude: PhraseMatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name, words in (("include", self.include), ("exclude", self.exclude)):
            empty = [w for w in words if not tokenize(w)]
            if empty:
                raise RoleFilterError(f"role filter: {name} keywords {empty!r} have no letters or digits to match")
        self._include = PhraseMatcher(self.include)
        self._exclude = PhraseMatcher(self.exclude)

    def decide(self, title: str | None, tags: Iterable[str] = ()) -> RoleDecision:
        """Keep or drop one posting, and why. Title and each tag are matched separately (no phrase spans both)."""
        texts = [title or "", *(t for t in tags if t)]
        if self.exclude:
            for text in texts:
                hit = self._exclude.find(text)
                if hit:
                    return RoleDecision(False, f"excluded by {sorted(hit)[0]!r}")
        if not self.include:
            return RoleDecision(True, "included")
        if any(self._include.find(text) for text in texts):
            return RoleDecision(True, "included")
        return RoleDecision(False, "no include keyword matched")

    def keeps(self, title: str | None, tags: Iterable[str] = ()) -> bool:
        return self.decide(title, tags).keep

    def describe(self) -> str:
        """One line for logs and metadata: the preset and the keywords."""
        head = f"preset {self.preset}" if self.preset else "custom"
        tail = f"; exclude {', '.join(self.exclude)}" if self.exclude else ""
        return f"{head}: include {', '.join(self.include) or '(anything)'}{tail}"


def _keywords(value: object, param: str) -> tuple[str, ...]:
    """A keyword list from params: a JSON list of strings or one comma-separated string."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise RoleFilterError(f"params.{param} must be a list of strings or a comma-separated string; got {value!r}")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def role_filter_from_params(params: Mapping[str, object], *, default_preset: str | None) -> RoleFilter | None:
    """The feed's filter from `role_filter` (a preset name, or "none"), `include` and `exclude`; None keeps all.

    Without `role_filter` the `default_preset` applies. Raises RoleFilterError for an unknown preset or
    keywords that are not strings.
    """
    preset = params.get("role_filter", default_preset)
    if preset is not None and not isinstance(preset, str):
        raise RoleFilterError(f"params.role_filter must be a preset name or {NO_FILTER!r}; got {preset!r}")
    if preset == NO_FILTER or preset == "":
        preset = None
    if preset is not None and preset not in ROLE_PRESETS:
        raise RoleFilterError(f"params.role_filter {preset!r} is not a preset; use one of "
                              f"{', '.join(sorted(ROLE_PRESETS))} or {NO_FILTER!r}")
    include, exclude = ROLE_PRESETS[preset] if preset else ((), ())
    include = tuple(dict.fromkeys((*include, *_keywords(params.get("include"), "include"))))
    exclude = tuple(dict.fromkeys((*exclude, *_keywords(params.get("exclude"), "exclude"))))
    if not include and not exclude:
        return None
    return RoleFilter(include=include, exclude=exclude, preset=preset)
