"""Loads the industry -> function taxonomy (data/taxonomy.json) both classifiers answer in, and checks its shape."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from feed_pipeline.core.enrichment import Taxonomy

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parent.parent / "data" / "taxonomy.json"


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the file and the offending entry."""


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at `path`, or the bundled one (parsed once per process) when `path` is None."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Taxonomy:
    return _load(DEFAULT_TAXONOMY_PATH)


def _load(path: Path) -> Taxonomy:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaxonomyError(f"taxonomy file {path} does not exist: pass an existing JSON file") from exc
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"taxonomy file {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    return taxonomy_from_dict(raw, where=str(path))


def taxonomy_from_dict(raw: Any, where: str = "taxonomy") -> Taxonomy:
    """Build a Taxonomy from its JSON shape, rejecting anything a classifier could not answer with."""
    if not isinstance(raw, dict) or not isinstance(raw.get("industries"), list) or not raw["industries"]:
        raise TaxonomyError(f"{where}: expected an object with a non-empty list 'industries'")
    industries: dict[str, tuple[str, ...]] = {}
    industry_keywords: dict[str, tuple[str, ...]] = {}
    function_keywords: dict[str, dict[str, tuple[str, ...]]] = {}
    industry_descriptions: dict[str, str] = {}
    function_descriptions: dict[str, dict[str, str]] = {}
    for index, entry in enumerate(raw["industries"]):
        spot = f"{where}: industries[{index}]"
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{spot} must be an object with 'name', 'keywords' and 'functions'")
        name = _name(entry.get("name"), spot)
        if name in industries:
            raise TaxonomyError(f"{spot}: industry {name!r} appears twice; merge the two entries")
        functions = entry.get("functions")
        if not isinstance(functions, list) or not functions:
            raise TaxonomyError(f"{spot} ({name}): 'functions' must be a non-empty list")
        names: list[str] = []
        per_function: dict[str, tuple[str, ...]] = {}
        for f_index, function in enumerate(functions):
            f_spot = f"{spot} ({name}).functions[{f_index}]"
            if not isinstance(function, dict):
                raise TaxonomyError(f"{f_spot} must be an object with 'name' and 'keywords'")
            f_name = _name(function.get("name"), f_spot)
            if f_name in per_function:
                raise TaxonomyError(f"{f_spot}: function {f_name!r} appears twice in {name!r}")
            names.append(f_name)
            per_function[f_name] = _keywords(function.get("keywords", []), f"{f_spot} ({f_name}).keywords")
            description = _description(function.get("description"), f"{f_spot} ({f_name}).description")
            if description:
                function_descriptions.setdefault(name, {})[f_name] = description
        industries[name] = tuple(names)
        industry_keywords[name] = _keywords(entry.get("keywords", []), f"{spot} ({name}).keywords")
        function_keywords[name] = per_function
        description = _description(entry.get("description"), f"{spot} ({name}).description")
        if description:
            industry_descriptions[name] = description
    return Taxonomy(
        industries=industries,
        industry_keywords=industry_keywords,
        function_keywords=function_keywords,
        version=str(raw.get("version", "1")),
        skills=_keywords(raw.get("skills", []), f"{where}: skills"),
        technologies=_keywords(raw.get("technologies", []), f"{where}: technologies"),
        industry_descriptions=industry_descriptions,
        function_descriptions=function_descriptions,
    )


def _name(value: Any, spot: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{spot}: 'name' must be a non-empty string, got {value!r}")
    return value.strip()


def _description(value: Any, spot: str) -> str:
    """An optional one-sentence description; absent or null means none."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TaxonomyError(f"{spot} must be a string, got {type(value).__name__}")
    return " ".join(value.split())


def _keywords(value: Any, spot: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise TaxonomyError(f"{spot} must be a list of non-empty strings")
    seen: dict[str, None] = {}
    for keyword in value:
        seen.setdefault(keyword.strip().lower(), None)
    return tuple(seen)
