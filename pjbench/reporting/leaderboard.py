"""The leaderboard: per dataset, encoders (and heads, schedules) as rows, task metrics as mean ± 95% interval.

Rows come in three kinds: encoders; baselines that know one trivial thing about a recording (its length, its
level); and the chance row (the best label-blind constant answer, per column). The papers' numbers follow as
reference rows on the datasets they were measured on. In every column the best row, and every row the paired
bootstrap cannot tell from it, is marked; below the table, any task where a baseline is not clearly beaten, and
the head comparison (on validation, under one schedule).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..datasets.fingerprint import short
from ..extraction.baselines import is_baseline
from ..heads import HEADS, SCHEDULES
from ..results.record import UPDATE_REFERENCE_ENV, TaskResult, plot_problem
from ..scoring.bootstrap import BOOTSTRAP_SEED
from . import compare
from .ceilings import LABEL as CEILING_LABEL
from .ceilings import NOTE as CEILING_NOTE
from .ceilings import ceiling
from .published import reference_rows, selected_on_test
from .sources import Source, boards, load_sources, open_sources, origin, separated_note, without_copies
from .verify import REFUSED, VERIFIED, Verdict, verify_all

UNSCALED = {"kendall_tau", "spearman", "mae"}  # correlations, shown as they are (not in percent)
NEAR_CHANCE = " °"
BEST = " ★"
MIXED = " ‡"
LEGEND = {
    NEAR_CHANCE: "° the 95% interval reaches the chance level: not clearly above chance.",
    BEST: "★ the best row of its column, or tied with it: the paired bootstrap (test groups and seeds, 95%, Holm over the column) "
    "cannot tell them apart.",
    MIXED: "‡ the row's results were made under differing configurations (named below): its columns are not like for like.",
}
# what may differ between one row's results by design: per-task settings, where files lie, the task itself
PER_TASK = ("train.lr", "train.batch_size", "train.device", "cache.path", "task.", "provenance.", "hash", "dataset.")

log = logging.getLogger(__name__)


def columns() -> tuple[tuple[str, str], ...]:
    """(task, metric) columns in display order: the task registry's order and each task's leaderboard columns
    (a task's columns appear when it has results)."""
    from ..tasks import TASKS

    return tuple((task.name, metric) for task in TASKS.values() for metric in task.leaderboard_columns)


def _fmt(mean: float, ci: float, metric: str = "") -> str:
    if math.isnan(mean):
        return "–"
    if metric in UNSCALED:
        return f"{mean:.2f} ± {ci:.2f}" if not math.isnan(ci) else f"{mean:.2f}"
    return f"{100 * mean:.1f} ± {100 * ci:.1f}" if not math.isnan(ci) else f"{100 * mean:.1f}"


def interval(score: dict[str, float]) -> tuple[float, float]:
    """The 95% interval's ends: the two-stage bootstrap's where recorded, else mean ± the seed half-width."""
    mean, half = score["mean"], score.get("ci95", float("nan"))
    if "ci_low" in score:
        return score["ci_low"], score["ci_high"]
    half = 0.0 if math.isnan(half) else half
    return mean - half, mean + half


def clearly_above(score: dict[str, float], chance: float) -> bool:
    """The lower end of the 95% interval lies above the chance level."""
    if math.isnan(score["mean"]):
        return False
    return interval(score)[0] > chance


def chance_levels(result: TaskResult) -> dict[str, float]:
    levels = dict(result.counts.get("chance_levels", {}))
    if "chance" in result.counts:
        levels.setdefault(result.primary_metric, result.counts["chance"])
    return levels


@dataclass
class Row:
    encoder: str
    head: str
    schedule: str
    baseline: bool
    source: str = ""  # the results folder or bundle it came from (boards from several)
    results: dict[str, TaskResult] = field(default_factory=dict)  # task -> result

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.encoder, self.head, self.schedule)


def rows_of(results: list[TaskResult], sources: list[Source] | None = None) -> list[Row]:
    """Encoder rows first, then baseline rows, each sorted by name, head, schedule and source; one encoder's
    results from two sources are two rows."""
    rows: dict[tuple[str, str, str, str], Row] = {}
    for r in results:
        where = origin(r, sources) if sources else ""
        key = (r.encoder, r.head, r.variant, where)
        row = rows.setdefault(key, Row(r.encoder, r.head, r.variant, is_baseline(r.encoder_meta), where))
        row.results[r.task] = r
    return sorted(rows.values(), key=lambda row: (row.baseline, row.key, row.source))


def shown_columns(results: list[TaskResult]) -> list[tuple[str, str]]:
    present = {(r.task, m) for r in results for m in r.scores}
    known = columns()
    extra = sorted({(r.task, r.primary_metric) for r in results} - set(known))
    return [c for c in known if c in present] + [c for c in extra if c in present]


@dataclass
class Board:
    dataset: str
    header: list[str]
    body: list[list[str]]
    notes: list[str]
    csv_rows: list[dict[str, object]]
    rows: list[Row] = field(default_factory=list)  # the encoder and baseline rows, in the body's order
    columns: list[tuple[str, str]] = field(default_factory=list)  # (task, metric) per score column
    marked: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # column -> rows with ★
    chance: dict[tuple[str, str], float] = field(default_factory=dict)  # column -> chance level
    lead: int = 4  # the columns before the scores (encoder, [source], head, schedule, seeds, [checked])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.body]
        text = "\n".join(lines)
        return f"{text}\n\n" + "\n".join(f"- {n}" for n in self.notes) if self.notes else text


def scored_result(result: TaskResult, results_dir: Path | None, split: str, cache: dict) -> compare.Scored | None:
    """The result with its predictions (None for results written without them, and for the transfer and PISA,
    whose items are not a probe's: their intervals include the test sample, but rows are not compared pairwise)."""
    from ..tasks import TASKS

    if not result.predictions or (result.task in TASKS and TASKS[result.task].kind.runner != "probe"):
        return None
    key = (str(result.file_in(results_dir)), split)
    if key not in cache:
        cache[key] = compare.load_scored(result.file_in(results_dir), split)
    return cache[key]


def _flat(config: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = json.dumps(value, sort_keys=True)
    return out


def comparable_config(result: TaskResult) -> dict[str, str]:
    """The settings that must agree across one row's results (flattened): training, the cache's encoder and
    segments, the split and whether examples were left out; not what differs per task by design."""
    flat = _flat(result.config)
    kept = {k: v for k, v in flat.items() if not k.startswith(PER_TASK)}
    kept["dataset.split_hash"] = flat.get("dataset.split_hash", "")
    kept.setdefault("allow_missing", "false")
    return kept


def mixed_configuration(row: Row) -> str | None:
    """What differs between the results of one row (None: nothing), with the runs that wrote them."""
    configs = [comparable_config(r) for r in row.results.values()]
    keys = sorted({k for c in configs for k in c if len({c.get(k) for c in configs}) > 1})
    if not keys:
        return None
    runs = sorted({r.run_id or "unrecorded" for r in row.results.values()})
    shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
    return f"{row.encoder} {row.head}{'-' + row.schedule if row.schedule else ''}: its results differ in {shown} (runs {', '.join(runs)})"


def audio_budget_note(rows: list[Row]) -> str | None:
    """When encoder rows saw different amounts of each recording (``--max-segments`` at extraction), say so: their
    columns then compare encoders and input lengths at once."""
    seen: dict[str, str] = {}
    for row in rows:
        for r in row.results.values():
            segments = r.config.get("cache", {}).get("segments")
            if not segments or row.baseline:
                continue
            keep, seconds = segments.get("max_segments"), segments.get("seconds", 10.0)
            seen.setdefault(row.encoder, f"up to the first {keep * seconds:g} s" if keep else "whole recordings")
    if len(set(seen.values())) < 2:
        return None
    return "the encoder rows saw different parts of each recording: " + "; ".join(f"{e}: {what}" for e, what in sorted(seen.items()))


def best_and_tied(
    rows: list[Row], column: tuple[str, str], results_dir: Path | None, cache: dict, memo: compare.Memo, seed: int = BOOTSTRAP_SEED
) -> set[int]:
    """Row indices marked in this column: the best and those tied with it (rows with predictions only)."""
    task, metric = column
    candidates = [(i, row.results[task]) for i, row in enumerate(rows) if task in row.results and metric in row.results[task].scores]
    scored = [(i, scored_result(r, results_dir, "test", cache)) for i, r in candidates]
    usable = [(i, s) for i, s in scored if s is not None]
    if len(usable) < 2:
        return set()
    try:
        best, tied = compare.ties_with_best([s for _, s in usable], metric, memo=memo, seed=seed)
    except ValueError:
        return set()  # a metric the bootstrap does not cover, or rows on other test items: no paired comparison
    return {usable[best][0]} | {usable[k][0] for k in tied}


def baseline_warnings(
    rows: list[Row], tasks: list[str], results_dir: Path | None, cache: dict, memo: compare.Memo, seed: int = BOOTSTRAP_SEED
) -> list[str]:
    """Per task and baseline: the encoder rows it is not clearly below (primary metric, paired bootstrap, Holm over
    every baseline-encoder pair of the task, settled)."""
    out = []
    for task in tasks:
        encoders = [row for row in rows if not row.baseline and task in row.results]
        baselines = [row for row in rows if row.baseline and task in row.results]
        above: dict[str, list[str]] = {b.encoder: [] for b in baselines}
        tested: list[tuple[str, str, compare.Scored, compare.Scored, str]] = []
        for b in baselines:
            for e in encoders:
                rb, re_ = b.results[task], e.results[task]
                metric = re_.primary_metric
                label = f"{e.encoder} {re_.label}"
                if rb.scores[metric]["mean"] >= re_.scores[metric]["mean"]:
                    above[b.encoder].append(label)
                    continue
                sb, se = scored_result(rb, results_dir, "test", cache), scored_result(re_, results_dir, "test", cache)
                if sb is not None and se is not None and se.keys() == sb.keys():
                    tested.append((b.encoder, label, se, sb, metric))

        def one(i: int, resamples: int, tested: list = tested) -> compare.Comparison:
            _, _, se, sb, metric = tested[i]
            return compare.paired(se, sb, [metric], resamples, memo, seed)[0]

        try:
            verdicts = compare.settled(one, len(tested))
        except ValueError:
            verdicts = []  # rows that cannot be paired: no note
        tied: dict[str, list[str]] = {b.encoder: [] for b in baselines}
        for (baseline, label, *_), c in zip(tested, verdicts):
            if c.verdict != "A better":
                tied[baseline].append(label)
        found = []
        for b in baselines:
            parts = ([f"≥ {', '.join(above[b.encoder])}"] if above[b.encoder] else []) + (
                [f"tied with {', '.join(tied[b.encoder])}"] if tied[b.encoder] else []
            )
            if parts:
                found.append(f"{b.encoder} {'; '.join(parts)}")
        if found:
            out.append(f"shortcut on {task}: " + " | ".join(found))
    return out


def head_comparison(rows: list[Row], results_dir: Path | None, cache: dict, memo: compare.Memo, seed: int = BOOTSTRAP_SEED) -> list[str]:
    """Per encoder and schedule with both heads: the paired comparison on the validation split, task by task, Holm
    over the tasks (settled)."""
    lines = []
    by_key = {(*row.key, row.source): row for row in rows if not row.baseline}
    for (enc, head, schedule, where), row in sorted(by_key.items()):
        other = by_key.get((enc, "published", schedule, where))
        if head != "linear" or other is None:
            continue
        pairs = []
        for task in sorted(set(row.results) & set(other.results)):
            a = scored_result(row.results[task], results_dir, "val", cache)
            b = scored_result(other.results[task], results_dir, "val", cache)
            if a is not None and b is not None:
                pairs.append((task, a, b, row.results[task].primary_metric))

        def one(i: int, resamples: int, pairs: list = pairs) -> compare.Comparison:
            _, a, b, metric = pairs[i]
            return compare.paired(a, b, [metric], resamples, memo, seed)[0]

        verdicts: dict[str, list[str]] = {"linear better": [], "published better": [], "tied": []}
        for (task, *_), c in zip(pairs, compare.settled(one, len(pairs))):
            key = {"A better": "linear better", "B better": "published better"}.get(c.verdict, "tied")
            verdicts[key].append(task)
        n = sum(len(v) for v in verdicts.values())
        if not n:
            continue
        parts = [f"{k} on {len(v)} ({', '.join(v)})" for k, v in verdicts.items() if v]
        wins_l, wins_p = len(verdicts["linear better"]), len(verdicts["published better"])
        stronger = "linear" if wins_l > wins_p else "published" if wins_p > wins_l else None
        summary = f"the {stronger} head is the stronger here" if stronger else "neither head is the stronger here"
        lines.append(
            f"{enc}{f' ({where})' if where else ''}, heads compared on the validation split under schedule `{schedule or 'unnamed'}` "
            f"(paired bootstrap, 95%, Holm over the {n} tasks): {'; '.join(parts)} of {n} tasks: {summary}."
        )
    return lines


CHECKED_HELP = (
    "checked: ✓ every result of the row was recomputed exactly from its predictions (`pjbench rescore`); ✓ k/n: k of "
    "its n results; – none (results without predictions, or kinds not recomputed yet)"
)


def checked_cell(row: Row, verdicts: dict[Path, Verdict]) -> str:
    done = sum(verdicts[r.file_in()].status == VERIFIED for r in row.results.values() if r.file_in() in verdicts)
    n = len(row.results)
    return "✓" if done == n else f"✓ {done}/{n}" if done else "–"


def build_board(
    dataset: str,
    results: list[TaskResult],
    results_dir: Path | None = None,
    *,
    sources: list[Source] | None = None,
    verdicts: dict[Path, Verdict] | None = None,
    seed: int = BOOTSTRAP_SEED,
) -> Board:
    """One board: ``dataset`` is its name (``<dataset>@<fingerprint>`` when split off by data); ``sources``: the
    folders it was read from (a source column when more than one shows); ``verdicts``: each result's verification
    (refused results are left out with a note, a `checked` column says what was verified)."""
    refused = [r for r in results if verdicts and verdicts.get(r.file_in(), Verdict(VERIFIED)).status == REFUSED]
    results = [r for r in results if r not in refused]
    published_name = dataset.split("@", 1)[0]
    shown = shown_columns(results)
    rows = rows_of(results, sources)
    with_source = len({row.source for row in rows}) > 1
    cache: dict = {}
    memo: compare.Memo = {}
    marked = {c: best_and_tied(rows, c, results_dir, cache, memo, seed) for c in shown}
    lead = ["encoder"] + (["source"] if with_source else []) + ["head", "schedule", "seeds"] + (["checked"] if verdicts is not None else [])
    header = lead + [f"{t} {m}" for t, m in shown]
    blank = [""] * (len(lead) - 4)  # the fixed rows fill the source and checked columns too
    body: list[list[str]] = []
    mixed_notes: list[str] = []
    chance: dict[tuple[str, str], float] = {}
    for i, row in enumerate(rows):
        cells = []
        for t, m in shown:
            r = row.results.get(t)
            if r is None or m not in r.scores:
                cells.append("")
                continue
            cell = _fmt(r.scores[m]["mean"], r.scores[m]["ci95"], m)
            level = chance_levels(r).get(m)
            if level is not None:
                chance.setdefault((t, m), level)
                if not clearly_above(r.scores[m], level):
                    cell += NEAR_CHANCE
            if i in marked[(t, m)]:
                cell += BEST
            cells.append(cell)
        seeds = sorted({len(r.per_seed) for r in row.results.values()})
        kind = "baseline" if row.baseline else ""
        head = f"{row.head} ({kind})" if kind else row.head
        seeds_cell = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
        mixed = mixed_configuration(row)
        if mixed:
            seeds_cell += MIXED
            mixed_notes.append(mixed)
        body.append(
            [row.encoder]
            + ([row.source] if with_source else [])
            + [head, row.schedule or "", seeds_cell]
            + ([checked_cell(row, verdicts)] if verdicts is not None else [])
            + cells
        )
    body.append(["chance", "(label-blind guess)"] + blank + ["", ""] + [_chance_cell(chance.get(c), c[1]) for c in shown])
    ceilings = {t: ceiling(t, results, results_dir) for t in sorted({t for t, _ in shown})}
    if any(ceilings.values()):
        cells = []
        for t, m in shown:
            score = (ceilings[t] or {}).get("scores", {}).get(m)
            cells.append(_fmt(score["mean"], max(score["mean"] - score["ci_low"], score["ci_high"] - score["mean"]), m) if score else "")
        body.append([CEILING_LABEL, "(the raters themselves)"] + blank + ["", ""] + cells)
    for label, values in reference_rows(published_name).items():
        body.append([label, "reference"] + blank + ["", ""] + [f"{values[c]:.2f}" if c in values else "" for c in shown])
    notes = head_comparison(rows, results_dir, cache, memo, seed)
    notes += baseline_warnings(rows, sorted({t for t, _ in shown}), results_dir, cache, memo, seed)
    probe_rows = [r for r in results if r.predictions and r.config.get("task", {}).get("kind")]
    if probe_rows and not any(row.baseline for row in rows):
        notes.append(f"no baseline rows yet: `pjbench baselines --dataset {published_name}` (or the same options as your probe) adds them.")
    notes += [f"‡ {text}" for text in mixed_notes]
    if any(ceilings.values()):
        notes.append(CEILING_NOTE)
    budget = audio_budget_note(rows)
    if budget:
        notes.append(budget)
    stale_plots = [f"{r.task}.{r.label} ({why})" for r in results if (why := plot_problem(r, results_dir))]
    notes += [f"refused {r.file_in()}: {verdicts[r.file_in()].why}" for r in refused if verdicts]
    if verdicts is not None and any(verdicts[r.file_in()].status != VERIFIED for r in results if r.file_in() in verdicts):
        notes.append(CHECKED_HELP)
    if stale_plots:
        notes.append(f"plots that do not belong to their results (rerun those probes): {'; '.join(stale_plots)}")
    notes += [text for mark, text in LEGEND.items() if any(mark in cell for r in body for cell in r)]
    return Board(
        dataset, header, body, notes, numeric_rows(published_name, results, sources, verdicts), rows, shown, marked, chance, len(lead)
    )


def _chance_cell(level: float | None, metric: str) -> str:
    if level is None:
        return ""
    return f"{level:.2f}" if metric in UNSCALED else f"{100 * level:.1f}"


CSV_FIELDS = (
    "dataset",
    "encoder",
    "head",
    "schedule",
    "baseline",
    "task",
    "metric",
    "mean",
    "ci95",
    "ci_low",
    "ci_high",
    "seed_ci95",
    "n_seeds",
    "chance",
    "clearly_above_chance",
    "run_id",
    "fingerprint",
    "source",
    "verified",
)


def numeric_rows(
    dataset: str, results: list[TaskResult], sources: list[Source] | None = None, verdicts: dict[Path, Verdict] | None = None
) -> list[dict[str, object]]:
    """One row per (encoder, head, schedule, task, metric) with numbers a spreadsheet reads: the metric on its own
    scale (accuracies as fractions), the 95% interval's ends (test groups and seeds), the seed-only half-width,
    the number of seeds, the metric's chance level; then the papers' reference numbers (as fractions, no interval)."""
    out: list[dict[str, object]] = []
    for r in sorted(results, key=lambda r: (is_baseline(r.encoder_meta), r.encoder, r.head, r.variant, r.task)):
        levels = chance_levels(r)
        for metric in (m for m in r.scores if "/" not in m):
            score = r.scores[metric]
            low, high = interval(score)
            ci, seed_ci = score.get("ci95", float("nan")), score.get("seed_ci95", score.get("ci95", float("nan")))
            level = levels.get(metric)
            out.append(
                {
                    "dataset": dataset,
                    "encoder": r.encoder,
                    "head": r.head,
                    "schedule": r.variant,
                    "baseline": int(is_baseline(r.encoder_meta)),
                    "task": r.task,
                    "metric": metric,
                    "mean": score["mean"],
                    "ci95": "" if math.isnan(ci) else ci,
                    "ci_low": low,
                    "ci_high": high,
                    "seed_ci95": "" if math.isnan(seed_ci) else seed_ci,
                    "n_seeds": len(r.per_seed),
                    "chance": "" if level is None else level,
                    "clearly_above_chance": "" if level is None else int(clearly_above(score, level)),
                    "run_id": r.run_id,
                    "fingerprint": r.data_digest,
                    "source": origin(r, sources) if sources else "",
                    "verified": verdicts[r.file_in()].status if verdicts and r.file_in() in verdicts else "",
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


BASELINE_KNOWS = {"duration": "length", "loudness": "level", "nuisance": "nuisance draws", "piece": "piece"}


def _baseline_knowledge(results: list[TaskResult]) -> str:
    """What the board's baseline rows know, in words: "length, level or nuisance draws"."""
    present = {r.encoder for r in results}
    known = [words for name, words in BASELINE_KNOWS.items() if name in present] or list(BASELINE_KNOWS.values())[:3]
    return known[0] if len(known) == 1 else ", ".join(known[:-1]) + " or " + known[-1]


def header_note(dataset: str, results: list[TaskResult]) -> str:
    heads = sorted({r.head for r in results} & set(HEADS))
    schedules = sorted({r.variant for r in results} & set(SCHEDULES))
    interval_text = (
        "Test split, in percent: mean over seeds (the `seeds` column) ± the 95% interval of a bootstrap that redraws "
        "both the test groups (pieces, performers or videos) and the seeds (results without per-item predictions: over "
        "seeds only). The chance row is the best constant answer per column; baseline rows know only a recording's "
        f"{_baseline_knowledge(results)}. "
    )
    text = interval_text + "; ".join(f"`{h}`: {HEADS[h].description}" for h in heads)
    if schedules:
        text += ". Schedules: " + "; ".join(f"`{s}`: {SCHEDULES[s].description}" for s in schedules)
    if reference_rows(dataset):
        text += ". Reference rows are the papers' published numbers on this dataset (no interval)"
    if selected_on_test(dataset):
        text += (
            "; the Piano Judges paper chose its checkpoints and stopping epochs on the test split, so its numbers are "
            "optimistic next to rows chosen on validation"
        )
    return text + "."


def board_file(folder: Path, name: str, suffix: str) -> Path:
    """``<dataset>/leaderboard<suffix>``; a board split off by data: ``<dataset>/leaderboard@<fingerprint><suffix>``."""
    dataset, _, digest = name.partition("@")
    return folder / dataset / f"leaderboard{'@' + digest if digest else ''}{suffix}"


@dataclass
class Boards:
    """The boards of one or several sources, and where they are written (None: only shown)."""

    sources: list[Source]
    boards: dict[str, Board]
    results: dict[str, list[TaskResult]]
    verdicts: dict[Path, Verdict]
    folder: Path | None


def make_boards(
    results_dirs: Path | Sequence[Path],
    *,
    tasks: Sequence[str] | None = None,
    verify: bool = True,
    progress: bool = False,
    scratch: Path | None = None,
) -> Boards:
    """Every board of the given results folders and bundles: one per dataset and data fingerprint, rows verified
    from their predictions (``verify``), limited to ``tasks`` when given."""
    paths = [Path(results_dirs)] if isinstance(results_dirs, (str, Path)) else [Path(p) for p in results_dirs]
    sources = open_sources(paths, scratch)
    results, copies = without_copies(load_sources(sources))
    if tasks:
        unknown = sorted(set(tasks) - {r.task for r in results})
        if unknown:
            raise ValueError(f"no results for task(s) {', '.join(unknown)} in {', '.join(s.label for s in sources)}")
        results = [r for r in results if r.task in set(tasks)]
    grouped = boards(results)
    verdicts = verify_all(results, progress) if verify else {}
    built = {}
    for name, members in grouped.items():
        board = build_board(name, members, sources=sources if len(sources) > 1 else None, verdicts=verdicts if verify else None)
        split_off = separated_note(name, members, grouped)
        if split_off:
            board.notes.insert(0, split_off)
        digests = {r.data_digest for r in members}
        if copies:
            board.notes.append(
                f"{copies} result(s) held by more than one source (same predictions, byte for byte) are shown once, from the first"
            )
        if digests and digests != {""}:
            board.notes.append(f"data fingerprint {short(next(iter(digests)))} (docs/results-format.md)")
        built[name] = board
    update = os.environ.get(UPDATE_REFERENCE_ENV) == "1"
    writable = [s for s in sources if s.writable or (update and not s.packed)]
    return Boards(sources, built, grouped, verdicts, writable[0].folder if writable else None)


def write_boards(made: Boards) -> dict[str, str]:
    """Write each board's markdown and CSV into the first writable source (pjbench's committed results are only
    read, bundles never written); returns the markdown per board."""
    out = {}
    for name, board in made.boards.items():
        md = board.markdown()
        out[name] = md
        if made.folder is None:
            continue
        dataset = name.split("@", 1)[0]
        path = board_file(made.folder, name, ".md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n\n{header_note(dataset, made.results[name])}\n\n{md}\n")
        with open(board_file(made.folder, name, ".csv"), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(board.csv_rows)
    return out


def write_leaderboards(results_dirs: Path | Sequence[Path], **options: Any) -> dict[str, str]:
    """Build (see `make_boards`) and write every board; returns the markdown per board."""
    return write_boards(make_boards(results_dirs, **options))
