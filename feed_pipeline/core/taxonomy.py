"""Loads the industry -> function taxonomy both classifiers answer in, checks its shape, and names its identity.

Which taxonomy a feed uses: the feed's own (stored in the registry by `feeds add --taxonomy`), else the
deployment's (the file `FEED_PIPELINE_TAXONOMY` names), else the bundled data/taxonomy.json. `resolve_taxonomy`
is the one place that decides it.

A taxonomy's identity is its content hash, never a hand-bumped version: `Taxonomy.version` is the hash of the
whole parsed content, `industry_stage_hash` covers only what stage 1 is asked (the industries' names,
descriptions and keywords) and `function_stage_hash` only one industry's functions, so the enrichment cache
re-asks exactly what an edit affects.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from feed_pipeline.core.enrichment import NO_FIT_FUNCTION, Taxonomy

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parent.parent / "data" / "taxonomy.json"
TAXONOMY_ENV = "FEED_PIPELINE_TAXONOMY"
VERSION_CHARS = 16  # hex characters of the content hash kept as `Taxonomy.version` (fits cache key columns)


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
    return taxonomy_from_dict(read_taxonomy_json(path), where=str(path))


def read_taxonomy_json(path: str | Path) -> Any:
    """The JSON content of a taxonomy file (not yet validated), with errors that name the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaxonomyError(f"taxonomy file {path} does not exist: pass an existing JSON file") from exc
    except IsADirectoryError as exc:
        raise TaxonomyError(f"taxonomy file {path} is a directory: pass a JSON file") from exc
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"taxonomy file {path} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"taxonomy file {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc


def deployment_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The deployment's default: the file `FEED_PIPELINE_TAXONOMY` names (`path`, from settings.Settings),
    else the bundled taxonomy."""
    path = str(path or "").strip()
    if not path:
        return load_taxonomy()
    try:
        return load_taxonomy(Path(path).expanduser())
    except TaxonomyError as exc:
        raise TaxonomyError(f"{TAXONOMY_ENV}: {exc}") from exc


def resolve_taxonomy(
    feed_id: str, own: Mapping[str, Any] | None, deployment_path: str | Path | None = None
) -> Taxonomy:
    """The taxonomy feed `feed_id` is classified in: its own (`own`, as stored), else the deployment's."""
    if own:
        return taxonomy_from_dict(own, where=f"feed {feed_id!r}'s taxonomy")
    return deployment_taxonomy(deployment_path)


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
            if f_name == NO_FIT_FUNCTION:
                raise TaxonomyError(f"{f_spot}: {NO_FIT_FUNCTION!r} is reserved for the 'none of these fits' answer; "
                                    "rename the function")
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
    taxonomy = Taxonomy(
        industries=industries,
        industry_keywords=industry_keywords,
        function_keywords=function_keywords,
        skills=_keywords(raw.get("skills", []), f"{where}: skills"),
        technologies=_keywords(raw.get("technologies", []), f"{where}: technologies"),
        industry_descriptions=industry_descriptions,
        function_descriptions=function_descriptions,
    )
    # A hand-written "version" in the file is ignored: the content is the identity.
    return dataclasses.replace(taxonomy, version=taxonomy_hash(taxonomy)[:VERSION_CHARS])


def taxonomy_hash(taxonomy: Taxonomy) -> str:
    """The whole taxonomy's content hash (every name, description, keyword and vocabulary, in order)."""
    return _digest({
        "industries": _industries_content(taxonomy),
        "functions": {i: _functions_content(taxonomy, i) for i in taxonomy.industries},
        "skills": list(taxonomy.skills),
        "technologies": list(taxonomy.technologies),
    })


def industry_stage_hash(taxonomy: Taxonomy) -> str:
    """What a stage 1 answer depends on in the taxonomy: the industries' names, descriptions and keywords."""
    return _digest(_industries_content(taxonomy))


def function_stage_hash(taxonomy: Taxonomy, industry: str) -> str:
    """What a stage 2 answer for a job of `industry` depends on: that industry's functions, nothing else."""
    return _digest({"industry": industry, "functions": _functions_content(taxonomy, industry)})


def _industries_content(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [{"name": name, "description": taxonomy.industry_description(name),
             "keywords": list(taxonomy.industry_keywords.get(name, ()))} for name in taxonomy.industries]


def _functions_content(taxonomy: Taxonomy, industry: str) -> list[dict[str, Any]]:
    keywords = taxonomy.function_keywords.get(industry, {})
    return [{"name": f, "description": taxonomy.function_description(industry, f),
             "keywords": list(keywords.get(f, ()))} for f in taxonomy.functions_of(industry)]


def _digest(content: Any) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def taxonomy_to_dict(taxonomy: Taxonomy) -> dict[str, Any]:
    """The taxonomy in its JSON shape, as parsed (trimmed, lowercased keywords, unknown keys dropped): what a
    feed's registry entry stores. `taxonomy_from_dict` of it has the same content hash."""
    industries = []
    for name, functions in taxonomy.industries.items():
        entry: dict[str, Any] = {"name": name}
        if taxonomy.industry_description(name):
            entry["description"] = taxonomy.industry_description(name)
        entry["keywords"] = list(taxonomy.industry_keywords.get(name, ()))
        entry["functions"] = [
            {"name": f, **({"description": d} if (d := taxonomy.function_description(name, f)) else {}),
             "keywords": list(taxonomy.function_keywords.get(name, {}).get(f, ()))}
            for f in functions
        ]
        industries.append(entry)
    return {"industries": industries, "skills": list(taxonomy.skills), "technologies": list(taxonomy.technologies)}


def _name(value: Any, spot: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{spot}: 'name' must be a non-empty string, got {value!r}")
    _printable(value, f"{spot}: 'name'")
    return value.strip()


def _description(value: Any, spot: str) -> str:
    """An optional one-sentence description; absent or null means none."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TaxonomyError(f"{spot} must be a string, got {type(value).__name__}")
    _printable(value, spot)
    return " ".join(value.split())


def _printable(value: str, spot: str) -> None:
    """Names, descriptions and keywords go into prompts and database columns: no control characters."""
    if any((ord(c) < 32 and c not in "\t\n\r") or c == "\x7f" for c in value):
        raise TaxonomyError(f"{spot} contains a control character: {value[:60]!r}")


def _keywords(value: Any, spot: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise TaxonomyError(f"{spot} must be a list of non-empty strings")
    for keyword in value:
        _printable(keyword, spot)
    seen: dict[str, None] = {}
    for keyword in value:
        seen.setdefault(keyword.strip().lower(), None)
    return tuple(seen)
