"""The leaderboard: per dataset, encoders (and heads) as rows, task metrics as mean ± 95% CI."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from ..heads import HEADS
from .published import reference_rows
from .results import UPDATE_REFERENCE_ENV, TaskResult, is_reference


def columns() -> tuple[tuple[str, str], ...]:
    """(task, metric) columns in display order: the task registry's order and each task's leaderboard columns
    (a task's columns appear when it has results)."""
    from ..tasks import TASKS

    return tuple((task.name, metric) for task in TASKS.values() for metric in task.leaderboard_columns)


UNSCALED = {"kendall_tau", "spearman", "mae"}  # correlations, shown as they are (not in percent)


def load_results(results_dir: Path) -> dict[str, list[TaskResult]]:
    out: dict[str, list[TaskResult]] = {}
    for path in sorted(results_dir.glob("*/*/*.json")):
        try:
            result = TaskResult.load(path)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"{path}: not a pjbench result file ({err})") from err
        out.setdefault(result.dataset, []).append(result)
    return out


def _fmt(mean: float, ci: float, metric: str = "") -> str:
    if math.isnan(mean):
        return "–"
    if metric in UNSCALED:
        return f"{mean:.2f} ± {ci:.2f}" if not math.isnan(ci) else f"{mean:.2f}"
    return f"{100 * mean:.1f} ± {100 * ci:.1f}" if not math.isnan(ci) else f"{100 * mean:.1f}"


NEAR_CHANCE = " °"
NEAR_CHANCE_NOTE = "° the 95% interval reaches the chance level: not clearly above chance."


def clearly_above(mean: float, ci: float, chance: float) -> bool:
    """The lower end of the 95% interval over seeds lies above the chance level (a single seed: its score does)."""
    if math.isnan(mean):
        return False
    return mean - (0.0 if math.isnan(ci) else ci) > chance


def table(dataset: str, results: list[TaskResult]) -> tuple[list[str], list[list[str]]]:
    present = {(r.task, m) for r in results for m in r.scores}
    known = columns()
    extra = sorted({(r.task, r.primary_metric) for r in results} - set(known))
    shown = [c for c in known if c in present] + [c for c in extra if c in present]
    header = ["encoder", "head", "seeds"] + [f"{t} {m}" for t, m in shown]
    rows: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    seeds: dict[tuple[str, str], set[int]] = {}
    chance: dict[tuple[str, str], str] = {}
    for r in results:
        row = rows.setdefault((r.encoder, r.head), {})
        seeds.setdefault((r.encoder, r.head), set()).add(len(r.per_seed))
        for t, m in shown:
            if t == r.task and m in r.scores:
                row[(t, m)] = _fmt(r.scores[m]["mean"], r.scores[m]["ci95"], m)
                if m == r.primary_metric and "chance" in r.counts:
                    chance[(t, m)] = f"{100 * r.counts['chance']:.1f}"
                    if not clearly_above(r.scores[m]["mean"], r.scores[m]["ci95"], r.counts["chance"]):
                        row[(t, m)] += NEAR_CHANCE
                elif m in UNSCALED:
                    chance[(t, m)] = "0.00"
    body = [[enc, head, _count(seeds[(enc, head)])] + [cells.get(c, "") for c in shown] for (enc, head), cells in sorted(rows.items())]
    body.append(["chance", "(label-blind guess)", ""] + [chance.get(c, "") for c in shown])
    for label, values in reference_rows(dataset).items():
        body.append([label, "reference", ""] + [f"{values[c]:.2f}" if c in values else "" for c in shown])
    return header, body


def _count(values: set[int]) -> str:
    return str(min(values)) if len(values) == 1 else f"{min(values)}-{max(values)}"


CSV_FIELDS = (
    "dataset",
    "encoder",
    "head",
    "task",
    "metric",
    "mean",
    "ci95",
    "ci_low",
    "ci_high",
    "n_seeds",
    "chance",
    "clearly_above_chance",
)


def numeric_rows(dataset: str, results: list[TaskResult]) -> list[dict[str, object]]:
    """One row per (encoder, head, task, metric) with numbers a spreadsheet reads: the metric on its own scale
    (accuracies as fractions), the 95% interval's ends, the number of seeds, the chance level of the primary
    metric; then the papers' reference numbers (as fractions too, no interval)."""
    out: list[dict[str, object]] = []
    for r in sorted(results, key=lambda r: (r.encoder, r.head, r.task)):
        for metric in (m for m in r.scores if "/" not in m):
            mean, ci = r.scores[metric]["mean"], r.scores[metric]["ci95"]
            primary = metric == r.primary_metric and "chance" in r.counts
            half = 0.0 if math.isnan(ci) else ci
            out.append(
                {
                    "dataset": dataset,
                    "encoder": r.encoder,
                    "head": r.head,
                    "task": r.task,
                    "metric": metric,
                    "mean": mean,
                    "ci95": "" if math.isnan(ci) else ci,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n_seeds": len(r.per_seed),
                    "chance": r.counts["chance"] if primary else "",
                    "clearly_above_chance": int(clearly_above(mean, ci, r.counts["chance"])) if primary else "",
                }
            )
    for label, values in reference_rows(dataset).items():
        for (task, metric), value in values.items():
            scale = 1.0 if metric in UNSCALED else 100.0
            row = dict.fromkeys(CSV_FIELDS, "")
            out.append(
                {**row, "dataset": dataset, "encoder": label, "head": "reference", "task": task, "metric": metric, "mean": value / scale}
            )
    return out


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def head_comparison(results: list[TaskResult]) -> list[str]:
    """One sentence per encoder with both heads: which head wins on how many tasks (primary metric)."""
    by_key = {(r.encoder, r.task, r.head): r.scores[r.primary_metric]["mean"] for r in results}
    lines = []
    for enc in sorted({r.encoder for r in results}):
        tasks = sorted({t for e, t, h in by_key if e == enc and (e, t, "published") in by_key and (e, t, "linear") in by_key})
        if not tasks:
            continue
        linear_wins = [t for t in tasks if by_key[(enc, t, "linear")] > by_key[(enc, t, "published")]]
        stronger = "linear" if len(linear_wins) * 2 > len(tasks) else "published"
        lines.append(
            f"{enc}: the linear probe beats the published head on {len(linear_wins)} of {len(tasks)} tasks "
            f"(primary metric); the {stronger} head is the stronger here (`--head {stronger}`)."
        )
    return lines


def write_leaderboards(results_dir: Path) -> dict[str, str]:
    """Write ``<dataset>/leaderboard.md`` and ``.csv`` (not into the committed reference results, which are only
    read); returns the markdown per dataset."""
    out = {}
    write = not is_reference(results_dir) or os.environ.get(UPDATE_REFERENCE_ENV) == "1"
    for dataset, results in load_results(results_dir).items():
        header, body = table(dataset, results)
        md = markdown(header, body)
        heads = sorted({r.head for r in results} & set(HEADS))
        note = "Test split, mean ± 95% CI over seeds (the `seeds` column), in percent. " + "; ".join(
            f"`{h}`: {HEADS[h].description}" for h in heads
        )
        if reference_rows(dataset):
            note += " Reference rows are the papers' published numbers on this dataset (no interval)."
        lines = head_comparison(results)
        if any(NEAR_CHANCE in cell for row in body for cell in row):
            lines.append(NEAR_CHANCE_NOTE)
        comparison = "\n".join(f"- {line}" for line in lines)
        md = f"{md}\n\n{comparison}" if comparison else md
        out[dataset] = md
        if not write:
            continue
        (results_dir / dataset / "leaderboard.md").write_text(f"# {dataset}\n\n{note}\n\n{md}\n")
        with open(results_dir / dataset / "leaderboard.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(numeric_rows(dataset, results))
    return out
