"""What a task's recordings become: examples (one recording, or an ordered pair of two) and their targets. The
kinds make them; nothing here knows a kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..datasets.base import Recording

if TYPE_CHECKING:
    from .base import Task


@dataclass(frozen=True)
class Example:
    ids: tuple[str, ...]  # one recording, or two for a ranking pair
    target: int | tuple[int, ...]  # class index, or a multi-hot vector
    accept: tuple[int, ...] = ()  # classes that count as a hit (single-label view of a multi-label set)


def multi_hot(names: tuple[str, ...], classes: tuple[str, ...]) -> tuple[int, ...]:
    unknown = set(names) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among {classes}")
    return tuple(int(c in names) for c in classes)


def pair_target(level_a: float, level_b: float, mode: str) -> int:
    """2-way: 0 if the first is better, else 1. 4-way: the level difference a - b of -2, -1, +1, +2 -> 0..3 (as the reference)."""
    diff = level_a - level_b
    if mode == "2way":
        return 0 if diff > 0 else 1
    mapping = {-2: 0, -1: 1, 1: 2, 2: 3}
    return mapping[int(round(diff))]


def build_pairs(task: Task, recordings: list[Recording], pair_group: str | None, seed: int) -> list[Example]:
    """Ordered pairs of recordings at different levels.

    With a ``pair_group`` (the synthetic set: the same piece), every ordered pair of
    different levels within a group. Without one (PLD), as the paper: each level is
    balanced to the smallest, shuffled, and paired element-wise across levels, in both orders.
    """
    assert task.label is not None and task.pair_mode is not None
    levels = {rec.id: float(task.label(rec)) for rec in recordings}
    allowed_diffs = {1, 2} if task.pair_mode == "4way" else None
    pairs: list[tuple[str, str]] = []
    if pair_group is not None:
        groups: dict[str, list[Recording]] = {}
        for rec in recordings:
            groups.setdefault(rec.groups[pair_group], []).append(rec)
        for members in groups.values():
            for first in members:
                for second in members:
                    if levels[first.id] != levels[second.id]:
                        pairs.append((first.id, second.id))
    else:
        rng = np.random.default_rng(seed)
        by_level: dict[float, list[str]] = {}
        for rec in recordings:
            by_level.setdefault(levels[rec.id], []).append(rec.id)
        smallest = min(len(v) for v in by_level.values())
        balanced = {lvl: list(rng.permutation(sorted(ids))[:smallest]) for lvl, ids in sorted(by_level.items())}
        lvls = sorted(balanced)
        for i, li in enumerate(lvls):
            for lj in lvls[i + 1 :]:
                for x, y in zip(balanced[li], balanced[lj]):
                    pairs += [(str(x), str(y)), (str(y), str(x))]
    out = []
    for a, b in pairs:
        diff = abs(levels[a] - levels[b])
        if allowed_diffs is not None and int(round(diff)) not in allowed_diffs:
            raise ValueError(f"task {task.name} needs level differences of 1 or 2, got {diff} ({a}, {b})")
        out.append(Example((a, b), pair_target(levels[a], levels[b], task.pair_mode)))
    return out
