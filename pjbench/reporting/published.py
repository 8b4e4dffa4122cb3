"""The papers' published numbers, shown as labelled reference rows only on the datasets they were measured on,
never ranked with pjbench's own rows. The numbers are data, in ``pjbench/data/published_numbers.csv``: one row
per (datasets, row label, task, metric) with its value in percent and its source (paper and table)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

NUMBERS_FILE = "published_numbers.csv"


SELECTED_ON_TEST = "Piano Judges"  # its reference code checkpoints and stops on the test split (shared/REFERENCE.md)


@cache
def _sources() -> dict[str, set[str]]:
    """dataset -> the sources of its published numbers."""
    out: dict[str, set[str]] = {}
    text = resources.files("pjbench.data").joinpath(NUMBERS_FILE).read_text()
    for row in csv.DictReader(text.splitlines()):
        for dataset in row["datasets"].split("|"):
            out.setdefault(dataset, set()).add(row["source"])
    return out


def selected_on_test(dataset: str) -> bool:
    """Whether this dataset's published numbers come from a paper that chose its checkpoints on the test split."""
    return any(source.startswith(SELECTED_ON_TEST) for source in _sources().get(dataset, ()))


@cache
def _published() -> dict[str, dict[str, dict[tuple[str, str], float]]]:
    """dataset -> row label -> (task, metric) -> value in percent."""
    out: dict[str, dict[str, dict[tuple[str, str], float]]] = {}
    text = resources.files("pjbench.data").joinpath(NUMBERS_FILE).read_text()
    for row in csv.DictReader(text.splitlines()):
        for dataset in row["datasets"].split("|"):
            out.setdefault(dataset, {}).setdefault(row["row"], {})[(row["task"], row["metric"])] = float(row["value"])
    return out


def reference_rows(dataset: str) -> dict[str, dict[tuple[str, str], float]]:
    """Labelled rows of the papers' published numbers for this dataset (none for the synthetic set or a manifest)."""
    return _published().get(dataset, {})
