"""A user's own dataset from a CSV manifest: ``id,path,split,label[,group]``.

``label`` is a class name (multi-class), several names joined by ``|`` (multi-label), or a
number (ranking levels: pairs are built across levels as for expertise). ``path`` is
relative to the manifest's folder unless absolute; ``group`` (performer, piece, ...) must
not appear in two splits; an optional ``group2``, a second grouping crossed with the first (pieces and
performers), is resampled with it for the intervals (docs/statistics.md).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from .base import SPLITS, Dataset, Recording, check_group_leakage
from .labels import label_findings

log = logging.getLogger(__name__)

REQUIRED = ("id", "path", "split", "label")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def id_problem(rec_id: str) -> str | None:
    """Why ``rec_id`` cannot name a recording (in the cache, in result files), or None."""
    if not rec_id.strip():
        return "an empty id"
    if rec_id in (".", ".."):
        return f"the id {rec_id!r} (a folder name, not a recording's)"
    if rec_id != rec_id.strip():
        return f"the id {rec_id!r} begins or ends with a space"
    if any(ord(c) < 32 or ord(c) == 127 for c in rec_id):
        return f"the id {rec_id!r} holds a control character"
    return None


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header and each row with the line it starts on."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, restkey=EXTRA)
            header = list(reader.fieldnames or [])
            rows = []
            line = reader.line_num + 1
            for row in reader:
                rows.append((line, row))
                line = reader.line_num + 1
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at position {err.start}); save the manifest as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
        ) from None
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV file ({err})") from None
    return header, rows


EXTRA = "__extra_fields__"  # where csv puts the fields beyond the header's


def load_manifest(path: Path) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {path} not found")
    header, numbered = _read_rows(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            hint = " (its header is one column: the file seems separated by something other than commas)"
        elif any(h != h.strip() for h in header):
            hint = " (some names have spaces around them)"
        raise ValueError(
            f"{path}: missing column(s) {missing}; its header reads {header}{hint}; a manifest needs "
            f"{', '.join(REQUIRED)} and optionally group, separated by commas"
        )
    if not numbered:
        raise ValueError(f"{path}: no rows")
    problems, seen = [], set()
    for line, fields in numbered:
        if fields.get(EXTRA):
            problems.append(
                f"line {line}: {len(header) + len(fields[EXTRA] or [])} fields for {len(header)} columns (a comma in a value? quote it)"
            )
            continue
        if any(fields.get(c) is None for c in REQUIRED):
            problems.append(f"line {line}: fewer fields than the {len(header)} columns")
            continue
        bad_id = id_problem(str(fields["id"]))
        if bad_id:
            problems.append(f"line {line}: {bad_id}; ids must be non-empty names of printable characters")
        if fields["split"] not in SPLITS:
            problems.append(f"line {line}: split {fields['split']!r} is not one of {SPLITS}")
        if not str(fields["label"]).strip():
            problems.append(f"line {line}: empty label")
        if "\\" in str(fields["path"]):
            problems.append(f"line {line}: path {fields['path']!r} uses backslashes; write paths with / (they work on every system)")
        if fields["id"] in seen:
            problems.append(f"line {line}: duplicate id {fields['id']!r}")
        seen.add(fields["id"])
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValueError(f"{path}: " + "; ".join(problems[:10]) + more)
    rows = [{k: str(v) for k, v in fields.items() if k != EXTRA and v is not None} for _, fields in numbered]

    labels = [r["label"].strip() for r in rows]
    if all(_is_number(x) for x in labels):
        kind, tasks = "ranking", ("ranking-2way",)
    elif any("|" in x for x in labels):
        kind, tasks = "multilabel", ("multilabel",)
    else:
        kind, tasks = "multiclass", ("classification",)
    recordings = []
    for row, label in zip(rows, labels):
        audio = Path(row["path"])
        audio = audio if audio.is_absolute() else path.parent / audio
        value: object
        if kind == "ranking":
            value = float(label)
        elif kind == "multilabel":
            value = tuple(sorted(filter(None, (x.strip() for x in label.split("|")))))
        else:
            value = label
        groups = {k: row[k] for k in ("group", "group2") if row.get(k)}
        recordings.append(Recording(id=row["id"], path=audio, split=row["split"], groups=groups, labels={"label": value}))
    leaks = check_group_leakage(recordings)
    if leaks:
        raise ValueError(f"{path}: groups cross splits, which leaks information: {leaks[:5]}")
    dataset = Dataset(
        name=path.stem,
        recordings=recordings,
        tasks=tasks,
        root=path.parent,
        # recordings without a group are their own; a second, crossed grouping (performer beside piece) is resampled too
        resample_group=("group", "group2") if any("group2" in r.groups for r in recordings) else "group",
        info={"manifest": str(path), "label_kind": kind},
    )
    findings = label_findings(dataset, "label")
    for text in findings.warnings:
        log.warning("%s: %s", path, text)
    dataset.info.update(label_refusals=findings.refusals, label_warnings=findings.warnings)
    return dataset
