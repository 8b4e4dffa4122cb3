"""Label sanity: the label files' mistakes that no error would catch and that make a probe's score mean nothing.

- a training split with one class: the probe learns the constant and scores chance (refused);
- labels that differ only by case (``Low`` and ``low``): two classes where one was meant (refused);
- a class in validation or test that training never shows: no probe can predict it (warned, with the counts);
- a split with one class; a class with very few training examples (warned).

`pjbench data check` lists all of them; a probe refuses the refused ones before any training.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .base import SPLITS, Dataset

RARE_SHARE = 0.05  # a class under this share of the training labels (and under RARE_COUNT examples) is warned about
RARE_COUNT = 5


@dataclass
class LabelFindings:
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _classes(value: Any) -> tuple[str, ...]:
    """A label's class names: one for a class label, several for a multi-label one."""
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def label_findings(dataset: Dataset, key: str) -> LabelFindings:
    """The findings on label ``key`` of ``dataset`` (see the module)."""
    out = LabelFindings()
    values = {split: [r.labels[key] for r in dataset.split(split) if key in r.labels] for split in SPLITS}
    every = [v for vs in values.values() for v in vs]
    if not every:
        return out
    per_split = {split: Counter(c for v in vs for c in _classes(v)) for split, vs in values.items()}
    train = per_split["train"]
    if len(set(map(str, values["train"]))) == 1:
        only = str(values["train"][0])
        out.refusals.append(
            f"label {key!r}: every training recording has the same label ({only!r}, {len(values['train'])} recordings): a probe "
            "learns nothing from it"
        )
    if _numeric(every):  # levels (ranking): the class checks below are for names
        return out
    spellings: dict[str, Counter[str]] = {}
    for split_counts in per_split.values():
        for name, n in split_counts.items():
            spellings.setdefault(name.casefold(), Counter())[name] += n
    for variants in spellings.values():
        if len(variants) > 1:
            shown = " and ".join(f"{name!r} ({n})" for name, n in sorted(variants.items()))
            out.refusals.append(f"label {key!r}: {shown} differ only by case: they would be separate classes; write each one way")
    for split in ("val", "test"):
        unseen = {name: n for name, n in per_split[split].items() if name not in train}
        if unseen:
            shown = ", ".join(f"{name!r} ({n})" for name, n in sorted(unseen.items()))
            out.warnings.append(f"label {key!r}: class(es) {shown} in {split} never appear in train: no probe can predict them")
    for split in ("val", "test"):
        if values[split] and len(per_split[split]) == 1:
            out.warnings.append(f"label {key!r}: the {split} split has one class ({next(iter(per_split[split]))!r}) only")
    total = sum(train.values())
    rare = {n: c for n, c in train.items() if c < RARE_COUNT and c < RARE_SHARE * total}
    if rare and len(train) > 1:
        shown = ", ".join(f"{name!r} ({n} of {total})" for name, n in sorted(rare.items()))
        out.warnings.append(f"label {key!r}: class(es) {shown} are rare in train: their scores rest on very few examples")
    return out
