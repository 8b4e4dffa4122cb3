"""Seeded, grouped, stratified train/val/test assignment.

Every group (a performer, a source video) goes wholly to one split. Within each stratum
(an expertise level, a primary technique), groups are dealt in a random order, each to the
split furthest below its target share; of many such deals (drawn from the seed) the one
closest to the target shares wins, preferring deals that give every split some examples.
So the seed changes which groups go where, while the shares stay near the targets even when
a few performers own most of the recordings.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.7, "val": 0.1, "test": 0.2}
DEALS = 200


def _deal(groups: list[str], sizes: dict[str, int], fractions: dict[str, float], order: np.ndarray) -> tuple[dict[str, str], float]:
    total = sum(sizes[g] for g in groups)
    filled = dict.fromkeys(fractions, 0)
    placed = {}
    for i in order:
        group = groups[i]
        split = max(fractions, key=lambda s: fractions[s] * total - filled[s])
        filled[split] += sizes[group]
        placed[group] = split
    empty = sum(1 for s in fractions if filled[s] == 0 and fractions[s] > 0)
    distance = sum(abs(filled[s] / total - fractions[s]) for s in fractions)
    return placed, empty * 10.0 + distance


def grouped_split(
    items: list[str], group_of: dict[str, str], stratum_of: dict[str, str], seed: int, fractions: dict[str, float] | None = None
) -> dict[str, str]:
    """item -> split. A group spanning several strata is placed with its most common stratum."""
    fractions = fractions or DEFAULT_FRACTIONS
    members: dict[str, list[str]] = defaultdict(list)
    for item in items:
        members[group_of[item]].append(item)
    sizes = {g: len(m) for g, m in members.items()}
    group_stratum = {}
    for group, its in members.items():
        counts: dict[str, int] = defaultdict(int)
        for item in its:
            counts[stratum_of[item]] += 1
        group_stratum[group] = max(sorted(counts), key=lambda s: counts[s])
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for stratum in sorted(set(group_stratum.values())):
        groups = sorted(g for g, s in group_stratum.items() if s == stratum)
        deals = [_deal(groups, sizes, fractions, rng.permutation(len(groups))) for _ in range(DEALS)]
        placed = min(deals, key=lambda d: d[1])[0]  # min keeps the first of equals: deterministic
        for group, split in placed.items():
            for item in members[group]:
                assignment[item] = split
    return assignment
