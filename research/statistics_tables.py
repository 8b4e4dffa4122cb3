"""The tables of docs/statistics.md, generated from a results folder (never typed): each is written between
``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->`` in the document.

- ``widths``: every linear-paper row's primary metric: mean, the seed-only half-width, the 95% interval and its
  half-width, their ratio, the test groups.
- ``factors``: per task, which grouping factor moves the interval most: the half-width of a bootstrap over each
  factor alone (with the seeds), of the recordings alone, and the two-way interval the board shows (median over the
  linear-paper rows of the task), and what the second factor adds to the first's (median, smallest and largest).
- ``changes`` (with ``--before DIR``, the same rows made by an earlier revision): how far each row's mean and
  half-width moved, per encoder and head, and the ★ that changed.

    python research/statistics_tables.py results/synthetic --write docs/statistics.md [--before OLD/results/synthetic]
    python research/statistics_tables.py results/synthetic --check docs/statistics.md   # exit 1 where a table is stale
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from generated_blocks import write_or_check

from pjbench.reporting.rescore import task_of
from pjbench.results import predictions
from pjbench.results.record import TaskResult
from pjbench.scoring import bootstrap

ROW_LABEL = "linear-paper"


def _results(folder: Path, label: str | None = ROW_LABEL) -> list[TaskResult]:
    """The board's results (not layer results) of a folder, sorted by encoder, label and task."""
    found = [TaskResult.load(p) for p in sorted(folder.glob("*/*.json")) if not p.name.startswith("leaderboard")]
    return sorted((r for r in found if label is None or r.label == label), key=lambda r: (r.encoder, r.label, r.task))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def widths(folder: Path) -> str:
    rows, halves, seeds = [], [], []
    for r in _results(folder):
        s = r.scores[r.primary_metric]
        if "ci_low" not in s:
            continue
        half = (s["ci_high"] - s["ci_low"]) / 2
        seed = s.get("seed_ci95", float("nan"))
        ratio = f"{half / seed:.1f}x" if np.isfinite(seed) and seed > 0 else "–"
        rows.append(
            [
                r.encoder,
                r.label,
                r.task,
                r.primary_metric,
                _pct(s["mean"]),
                f"± {_pct(seed)}",
                f"[{_pct(s['ci_low'])}, {_pct(s['ci_high'])}]",
            ]
            + [f"± {_pct(half)}", ratio, " × ".join(map(str, r.intervals.get("groups_per_factor") or [r.intervals.get("n_groups", "")]))]
        )
        halves.append(half)
        seeds.append(seed)
    header = ["encoder", "head", "task", "metric", "mean", "seeds only", "95% interval", "half-width", "ratio", "test groups"]
    summary = (
        f"\n\nMedian half-width ± {_pct(float(np.median(halves)))} points (seeds only: ± {_pct(float(np.nanmedian(seeds)))}) "
        f"over {len(rows)} cells."
    )
    return _table(header, rows) + summary


def factor_half_widths(result: TaskResult, path: Path) -> dict[str, float]:
    """The primary metric's 95% half-width from each part of a crossed interval: each factor alone, the recordings
    alone, and the combined two-way interval (one factor: that factor only)."""
    task = task_of(result)
    rows = predictions.read(path, result.predictions)
    grouped = predictions.by_seed_and_split(rows)
    first = result.per_seed[0]["seed"]
    items = [(r["ids"], r["groups"]) for r in rows if r["seed"] == first and r["split"] == "test"]
    key = result.config.get("dataset", {}).get("resample_group")
    clusters = bootstrap.clusters_of(items, key)
    per_seed = [grouped[(s["seed"], "test")] for s in result.per_seed]
    parts = bootstrap.replicate_parts(task.weighted_metrics, per_seed, clusters, stream=result.intervals.get("seed_stream"))
    metric = result.primary_metric

    def half(values: np.ndarray) -> float:
        low, high = bootstrap.percentile_interval(values)
        return (high - low) / 2

    out = {name: half(part[metric]) for name, part in parts.items()}
    out["combined"] = half(bootstrap.combine({k: part[metric] for k, part in parts.items()}))
    return out


def factors(folder: Path) -> str:
    by_task: dict[str, list[dict[str, float]]] = defaultdict(list)
    names: dict[str, tuple[str, str]] = {}
    for r in _results(folder):
        path = r.path(folder.parent)
        if not path.exists() or not r.predictions:
            continue
        key = bootstrap.factors_of(r.config.get("dataset", {}).get("resample_group"))
        if len(key) != 2:
            continue
        names[r.task] = (key[0], key[1])
        by_task[r.task].append(factor_half_widths(r, path))
    rows = []
    for task, found in sorted(by_task.items()):
        med = {k: float(np.median([f[k] for f in found])) for k in ("first", "second", "items", "combined")}
        added = [f["combined"] - f["first"] for f in found]
        rows.append(
            [task, str(len(found))]
            + [f"± {_pct(med[k])}" for k in ("first", "second", "items", "combined")]
            + [f"{100 * float(np.median(added)):+.1f} ({100 * min(added):+.1f} to {100 * max(added):+.1f})"]
        )
    first, second = next(iter(names.values())) if names else ("first factor", "second factor")
    header = ["task", "rows", f"{first}s alone", f"{second}s alone", "recordings alone", "two-way (the board)", f"{second}s add"]
    return _table(header, rows)


def _starred(folder: Path) -> set[tuple[str, str, str]]:
    """(task, encoder, head-schedule) of every ★ on the board of a folder's dataset (as `pjbench leaderboard` makes
    it)."""
    from pjbench.reporting.leaderboard import make_boards

    out = set()
    for board in make_boards(folder.parent, verify=False).boards.values():
        for (task, _), marked in board.marked.items():
            out |= {(task, board.rows[k].encoder, f"{board.rows[k].head}-{board.rows[k].schedule}") for k in marked}
    return out


def changes(folder: Path, before: Path) -> str:
    old = {(r.encoder, r.label, r.task): r for r in _results(before, None)}
    moved: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
    for r in _results(folder, None):
        o = old.get((r.encoder, r.label, r.task))
        if o is None:
            continue
        new_s, old_s = r.scores[r.primary_metric], o.scores[o.primary_metric]
        moved[(r.encoder, r.label)].append((new_s["mean"] - old_s["mean"], new_s["ci95"] - old_s["ci95"], r.task))
    rows = []
    for (encoder, label), found in sorted(moved.items()):
        means = np.abs([m for m, _, _ in found])
        largest = found[int(np.argmax(means))]
        rows.append(
            [encoder, label, str(len(found)), _pct(float(np.median(means))), f"{100 * largest[0]:+.1f} ({largest[2]})"]
            + [f"{100 * float(np.median([h for _, h, _ in found])):+.1f}"]
        )
    header = ["encoder", "head", "tasks", "median \\|Δ mean\\|", "largest Δ mean", "median Δ half-width"]
    return _table(header, rows)


def star_changes(folder: Path, before: Path) -> str:
    now, then = _starred(folder), _starred(before)
    gained = sorted(now - then)
    lost = sorted(then - now)
    say = lambda xs: ", ".join(f"{e} {lbl} on {t}" for t, e, lbl in xs) or "none"  # noqa: E731
    return f"★ gained: {say(gained)}.\n\n★ lost: {say(lost)}."


def sections(folder: Path, before: Path | None, with_factors: bool = True) -> dict[str, str]:
    out = {"widths": widths(folder)}
    if with_factors:
        out["factors"] = factors(folder)
    if before is not None:
        out["changes"] = changes(folder, before)
        out["star-changes"] = star_changes(folder, before)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a dataset's results folder, e.g. results/synthetic")
    parser.add_argument("--before", type=Path, help="the same dataset's results made by an earlier revision")
    parser.add_argument("--write", type=Path, help="fill the generated blocks of this document")
    parser.add_argument("--check", type=Path, help="exit 1 if a generated block of this document is stale")
    parser.add_argument("--no-factors", action="store_true", help="skip the factor table (it bootstraps every row)")
    args = parser.parse_args()
    tables = sections(args.folder, args.before, not args.no_factors)
    target = args.check or args.write
    if target:
        return write_or_check(target, tables, bool(args.check), f"python research/statistics_tables.py {args.folder} --write {target}")
    for name, table in tables.items():
        print(f"## {name}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
