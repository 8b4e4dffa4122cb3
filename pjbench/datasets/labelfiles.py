"""Reading published label files: CSV/TSV rows with the columns checked, errors that name the file."""

from __future__ import annotations

import csv
from pathlib import Path


class LabelFileError(ValueError):
    """A label file that is missing or not in the published format; the message names the file."""


def label_file(labels_dir: Path, name: str) -> Path:
    path = labels_dir / name
    if not path.is_file():
        raise LabelFileError(
            f"label file {path} not found; --labels must be a folder holding the published files under their published names "
            f"(default: labels/ under --audio-root)"
        )
    return path


def read_rows(path: Path, required: tuple[str, ...], delimiter: str = ",") -> list[dict[str, str]]:
    """All rows as dicts of stripped strings; a clear error if a required column is absent."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, delimiter=delimiter)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            missing = [c for c in required if c not in columns]
            if missing:
                raise LabelFileError(f"{path}: missing column(s) {missing}; found {columns}")
            rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except UnicodeDecodeError as err:
        raise LabelFileError(f"{path}: not UTF-8 text ({err})") from err
    except csv.Error as err:
        raise LabelFileError(f"{path}: unreadable as CSV ({err})") from err
    if not rows:
        raise LabelFileError(f"{path}: no rows")
    return rows


def read_list(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a text list (url lists, name lists)."""
    with open(path, encoding="utf-8-sig") as fh:
        return [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
