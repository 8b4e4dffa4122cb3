"""The interval widths of a results folder: per row and task, the primary metric's seed-only half-width beside the
two-stage interval (test groups and seeds). The table in docs/statistics.md comes from this script.

    python research/interval_widths.py results/synthetic
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pjbench.results.record import TaskResult


def rows(folder: Path) -> list[list[str]]:
    out = []
    for path in sorted(folder.glob("*/*.json")):
        r = TaskResult.load(path)
        s = r.scores[r.primary_metric]
        if "ci_low" not in s:
            continue
        half = (s["ci_high"] - s["ci_low"]) / 2
        seed = s.get("seed_ci95", float("nan"))
        ratio = half / seed if seed and np.isfinite(seed) and seed > 0 else float("nan")
        out.append(
            [
                r.encoder,
                r.label,
                r.task,
                r.primary_metric,
                f"{100 * s['mean']:.1f}",
                f"± {100 * seed:.1f}",
                f"[{100 * s['ci_low']:.1f}, {100 * s['ci_high']:.1f}]",
                f"± {100 * half:.1f}",
                f"{ratio:.1f}x",
                f"{r.intervals.get('n_groups', '')}",
            ]
        )
    return out


def main(folder: str) -> None:
    header = ["encoder", "head", "task", "metric", "mean", "seeds only", "95% interval", "half-width", "ratio", "test groups"]
    table = rows(Path(folder))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in table:
        print("| " + " | ".join(row) + " |")
    halves = [float(r[7].split()[1]) for r in table]
    seeds = [float(r[5].split()[1]) for r in table]
    print(f"\nmedian half-width {np.median(halves):.1f} points (seeds only: {np.median(seeds):.1f}) over {len(table)} cells")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/synthetic")
