"""Reference labels from a file: source id -> label, as CSV or JSON, and the optional label -> function map.

The id is the feed's own id of a posting, the one its job key is made from: `referencenumber` (or the id tag
the feed's profile maps, e.g. `id`, `jobid`) for XML feeds, the API's own id for job APIs.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

ID_COLUMNS = ("source_id", "id", "referencenumber")
LABEL_COLUMNS = ("label", "category")


class LabelsFileError(ValueError):
    """A labels or label-map file cannot be read; the message names the file and the offending entry."""


def load_labels(path: str | Path) -> dict[str, str]:
    """Source id -> label from `path`: JSON ({id: label} or [{id, label}]) or CSV with a header row.

    Ids and labels are trimmed; rows with an empty label are skipped; a repeated id keeps its last label.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LabelsFileError(f"labels file {path} cannot be read: {exc.strerror or exc}") from exc
    pairs = _json_pairs(path, text) if path.suffix.lower() == ".json" else _csv_pairs(path, text)
    labels = {str(k).strip(): str(v).strip() for k, v in pairs if str(v or "").strip() and str(k or "").strip()}
    if not labels:
        raise LabelsFileError(f"labels file {path} holds no (id, label) pair")
    return labels


def _json_pairs(path: Path, text: str) -> list[tuple[object, object]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelsFileError(f"labels file {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if isinstance(data, dict):
        return list(data.items())
    if not isinstance(data, list):
        raise LabelsFileError(f"labels file {path}: expected an object {{id: label}} or a list of {{id, label}}")
    pairs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise LabelsFileError(f"labels file {path}: item [{index}] is not an object with an id and a label")
        pairs.append((_pick(item, ID_COLUMNS, path, f"item [{index}]"), _pick(item, LABEL_COLUMNS, path,
                                                                               f"item [{index}]")))
    return pairs


def _csv_pairs(path: Path, text: str) -> list[tuple[object, object]]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in reader.fieldnames or []]
    id_column = next((c for c in ID_COLUMNS if c in header), None)
    label_column = next((c for c in LABEL_COLUMNS if c in header), None)
    if id_column is None or label_column is None:
        raise LabelsFileError(f"labels file {path}: the CSV header must name an id column "
                              f"({' / '.join(ID_COLUMNS)}) and a label column ({' / '.join(LABEL_COLUMNS)}); "
                              f"it has {header or 'none'}")
    reader.fieldnames = header
    return [(row.get(id_column), row.get(label_column)) for row in reader]


def _pick(item: dict, names: tuple[str, ...], path: Path, where: str) -> object:
    for name in names:
        if name in item:
            return item[name]
    raise LabelsFileError(f"labels file {path}: {where} has none of {', '.join(names)}")


def load_label_map(path: str | Path) -> dict[str, str]:
    """Reference label -> function name, a JSON object (labels the map does not name stand for themselves)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelsFileError(f"label map {path} cannot be read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise LabelsFileError(f"label map {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise LabelsFileError(f"label map {path} must be a JSON object of label -> function name")
    return {str(k): v.strip() for k, v in data.items()}
