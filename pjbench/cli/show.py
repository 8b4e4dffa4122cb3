"""Commands that show: the leaderboard, and the registries (encoders, tasks, datasets, heads)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import DEFAULT_RESULTS, console, did_you_mean, fail, print_leaderboards, report_differences

LISTS = ("encoders", "tasks", "datasets", "heads")


def leaderboard(
    results_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--results-dir",
            envvar="PJBENCH_RESULTS",
            help="a results folder or a bundle (.tar.gz from `pjbench export`); repeat to put several on one board, e.g. "
            "--results-dir results --results-dir pjbench-results (default ./pjbench-results)",
        ),
    ] = None,
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="only these tasks' columns (repeat)")] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="recompute each row from its predictions file first (cached by the file's sha256) and leave out rows whose "
            "numbers do not follow from them",
        ),
    ] = True,
    html: Annotated[
        bool,
        typer.Option(
            "--html",
            help="also write <dataset>/leaderboard.html: a static page (no server, no network) with sortable tables, the "
            "intervals and marks, each encoder's metadata, the plots and layer curves",
        ),
    ] = False,
) -> None:
    """Print the leaderboard of every dataset with results, and write leaderboard.md / .csv per dataset into the
    first results folder given that can be written (pjbench's committed results/ and bundles are only read).

    Cells are test-split scores in percent: the mean over seeds ± a 95% interval from a bootstrap that resamples the
    test groups (pieces, performers, videos) and the seeds together (docs/statistics.md); ★ marks the best row of a
    column and every row a paired comparison cannot tell from it, ° a cell whose interval reaches chance. A 'chance'
    row gives the best guess that ignores the input, baseline rows (duration, loudness) sit beside the encoders, and
    the papers' published numbers appear only on the datasets they were measured on.

    Several --results-dir make one board per dataset with a source column; results of one dataset made on other data
    (their data fingerprints differ) get a board of their own, never a shared column. `checked` says which rows were
    recomputed exactly from their predictions.

    Example, your encoder beside pjbench's committed board: pjbench leaderboard --results-dir results --results-dir pjbench-results
    """
    dirs = results_dir or [DEFAULT_RESULTS]
    missing = [d for d in dirs if not d.exists()]
    if missing:
        fail(f"no results in {', '.join(map(str, missing))}; run `pjbench probe` first")
    try:
        print_leaderboards(dirs, verify=verify, tasks=task, html=html)
    except ValueError as err:
        fail(str(err))


def rows_of(what: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of one registry, read without loading any model."""
    if what == "encoders":
        from ..encoders import available

        header = ["name", "rate Hz", "frames/s", "dim", "layers", "licence", "training data", "weights", "weights here", "description"]
        rows = []
        for name, spec in sorted(available().items()):
            m = spec.meta
            if m is None:
                rows.append([name, "", "", "", "", "", "", spec.weights, "", "plugin: metadata once loaded"])
                continue
            rows.append(
                [
                    name,
                    str(m.sample_rate),
                    f"{m.frame_rate:g}",
                    str(m.dim),
                    str(m.n_layers),
                    m.licence,
                    "; ".join(m.training_data),
                    spec.weights,
                    spec.weights_here(),
                    m.description,
                ]
            )
        # the routes that need no adapter, named like the manifest row of `list datasets`
        blank = ["", "", "", "", "", ""]
        rows.append(
            ["hf:ID_OR_FOLDER", *blank, "a folder, or the Hugging Face cache", "", "any transformers audio model of the supported families"]
        )
        rows.append(["hear:MODULE[=WEIGHTS]", *blank, "the module's", "", "any HEAR-API module (its timestamp embeddings)"])
        rows.append(["package.module:factory", *blank, "the plugin's", "", "any object with meta, embed and to (a plugin)"])
        return header, rows
    if what == "tasks":
        from ..tasks import MANIFEST_TASKS, TASKS

        header = ["task", "kind", "classes", "primary metric", "lr", "batch", "command", "datasets", "description"]
        rows = [
            [
                t.name,
                t.kind.name,
                str(t.n_classes),
                t.primary_metric,
                f"{t.lr:g}",
                str(t.batch_size),
                t.kind.runner,
                t.datasets,
                t.description,
            ]
            for t in TASKS.values()
        ]
        rows += [[name, "from the labels", "", "", "5e-05", "12", "probe", "--manifest", desc] for name, desc in MANIFEST_TASKS.items()]
        return header, rows
    if what == "datasets":
        from ..datasets import DATASETS

        header = ["dataset", "needs", "command", "tasks", "splits", "description"]
        rows = [
            [s.name, f"--{s.needs}" if s.needs else "", s.command, ", ".join(s.tasks), s.splits, s.description] for s in DATASETS.values()
        ]
        rows.append(
            [
                "--manifest FILE.csv",
                "",
                "probe",
                "classification | multilabel | ranking-2way",
                "the manifest's split column",
                "your own recordings: id,path,split,label[,group]",
            ]
        )
        return header, rows
    if what == "heads":
        from ..heads import HEADS, SCHEDULES

        header = ["head / schedule", "default lr", "max epochs", "patience", "description"]
        rows = [[h.name, "the task's" if h.default_lr is None else f"{h.default_lr:g}", "", "", h.description] for h in HEADS.values()]
        rows += [
            [f"--schedule {s.name}", "the head's" if s.lr is None else f"{s.lr:g}", str(s.max_epochs), str(s.patience), s.description]
            for s in SCHEDULES.values()
        ]
        return header, rows
    fail(f"cannot list {what!r}{did_you_mean(what, LISTS)}; choose {', '.join(LISTS)}", 2)


def list_things(
    what: Annotated[str, typer.Argument(help="encoders | tasks | datasets | heads")] = "encoders",
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv (json and csv for scripts)")] = "table",
) -> None:
    """List encoders (with their metadata, no weights loaded), tasks, datasets or probe heads."""
    header, rows = rows_of(what)
    if fmt == "json":
        print(json.dumps([dict(zip(header, row)) for row in rows], indent=2))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        print(buffer.getvalue(), end="")
    elif fmt == "table":
        table = Table(show_lines=False)
        for k, col in enumerate(header):
            # names are never cut or wrapped; the long free-text columns fold instead
            table.add_column(col, no_wrap=k == 0, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table, markup=False, highlight=False)
    else:
        fail(f"--format {fmt!r}: choose table, json or csv", 2)


def rescore(result_file: Annotated[Path, typer.Argument(help="a result JSON written by probe (its predictions file beside it)")]) -> None:
    """Recompute every metric and interval of a result from its predictions file alone (checked by its sha256) and
    say whether they are exactly the recorded ones. Exits with status 1 if any differs."""
    from ..reporting.rescore import differences
    from ..reporting.rescore import rescore as recompute

    try:
        result, per_seed, scores = recompute(result_file)
    except (OSError, ValueError, KeyError, TypeError) as err:
        fail(f"{result_file}: {err}")
    for metric, s in scores.items():
        shown = f"{100 * s['mean']:.2f}" + ("" if s["ci95"] != s["ci95"] else f" ± {100 * s['ci95']:.2f}")
        console.print(f"{result.task} {result.head} {metric} = {shown}", markup=False, highlight=False)
    found = differences(result, per_seed, scores)
    report_differences(f"{result_file}: {len(found)} number(s) differ from the recorded ones:", found)
    console.print(
        f"{result_file}: every metric of {len(per_seed)} seed(s) recomputed exactly from its predictions", markup=False, highlight=False
    )


def compare(
    result_a: Annotated[Path | None, typer.Argument(help="result JSON A (its predictions file beside it)")] = None,
    result_b: Annotated[Path | None, typer.Argument(help="result JSON B, on the same dataset, task and test items")] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", metavar="METRIC", help="a metric to compare (repeat; default: the task's primary)")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="test, or val (to choose between configurations honestly)")] = "test",
    all_in: Annotated[
        list[Path] | None,
        typer.Option(
            "--all",
            help="compare every pair of results under DIR per dataset and task, Holm-corrected; repeat for several folders or "
            "bundles (results on different data are never paired)",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """Is A better than B? A paired bootstrap over the same test groups (pieces, performers, videos) and both
    results' seeds gives the difference with its 95% interval, a p-value and a verdict: `A better`, `B better` or
    `tie`. Any two rows of a board compare: encoders, heads, layers, schedules, baselines.

    Example: pjbench compare results/synthetic/basicpitch/difficulty-9way.linear-paper.json results/synthetic/mel/difficulty-9way.linear-paper.json
    """
    from ..api import compare_folder, compare_results
    from ..reporting import compare as cmp  # the verdicts' wording

    if split not in ("test", "val"):
        fail(f"--split {split!r}: choose test or val", 2)
    if fmt not in ("text", "json"):
        fail(f"--format {fmt!r}: choose text or json", 2)
    try:
        if all_in:
            if result_a is not None or result_b is not None:
                fail("give two result files, or --all DIR, not both", 2)
            found, skipped = compare_folder(all_in, split=split, metric=metric[0] if metric else None)
            for path, why in skipped:
                console.print(f"skipped {path}: {why}", markup=False, highlight=False)
        else:
            if result_a is None or result_b is None:
                fail("give two result files (A and B), or --all DIR", 2)
            found = compare_results(result_a, result_b, metrics=metric, split=split)
    except (OSError, ValueError, KeyError) as err:
        fail(str(err))
    if fmt == "json":
        print(json.dumps([cmp.as_record(c) for c in found], indent=2, default=float, allow_nan=False))
        return
    for c in found:
        console.print(cmp.describe(c), markup=False, highlight=False)
    if all_in:
        console.print(f"{len(found)} comparison(s); verdicts at 95% after Holm's correction per dataset and task", markup=False)
