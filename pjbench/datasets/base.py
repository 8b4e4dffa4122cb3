"""A dataset is a list of recordings with split, group ids and labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class Recording:
    id: str
    path: Path
    split: str
    duration: float | None = None
    groups: dict[str, str] = field(default_factory=dict)  # e.g. {"performer": ..., "piece": ...}
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dataset:
    name: str
    recordings: list[Recording]
    tasks: tuple[str, ...]
    root: Path | None = None
    pair_group: str | None = None  # ranking pairs compare recordings of the same group (e.g. the same piece)
    # test items are resampled by this group for intervals (pieces, performers, source videos): items of one group are
    # not independent draws; several crossed factors (piece, performer) are resampled each on its own; None: each
    # recording is its own group
    resample_group: str | tuple[str, ...] | None = None
    max_segments: int | None = 30  # default segments kept per recording at extraction (None: all, e.g. 30-minute recitals)
    info: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> list[Recording]:
        return [r for r in self.recordings if r.split == name]


def check_group_leakage(recordings: list[Recording]) -> list[str]:
    """Messages for every group id that appears in more than one split."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rec in recordings:
        for kind, value in rec.groups.items():
            seen[(kind, value)].add(rec.split)
    return [f"{kind} {value!r} is in splits {sorted(splits)}" for (kind, value), splits in sorted(seen.items()) if len(splits) > 1]
