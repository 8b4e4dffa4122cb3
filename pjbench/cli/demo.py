"""The demo (the whole benchmark on the embedded dataset) and rerun (a result file's configuration again)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    DEFAULT_RESULTS,
    CacheOpt,
    ResultsOpt,
    console,
    fail,
    failing,
    print_leaderboards,
    print_result,
    report_differences,
    say,
    split_list,
)

PUBLISHED_SCHEDULES = ("fast", "paper", "both")


def demo(
    size: Annotated[str, typer.Option(help="synthetic dataset size: small (the benchmark) or tiny (a quick check)")] = "small",
    dataset: Annotated[
        str,
        typer.Option(
            help="synthetic (the default), or percepiano: PercePiano's real performances, rendered offline, with experts' "
            "19 perceptual ratings (docs/percepiano.md)"
        ),
    ] = "synthetic",
    encoder: Annotated[
        list[str] | None,
        typer.Option(
            "--encoder",
            "-e",
            metavar="ENCODER[,ENCODER]",
            help="encoders to compare (repeat, or a comma list; default mel). `-e mel,basicpitch` adds the offline "
            "pretrained basic-pitch rows of results/synthetic (its extraction: about 9 more minutes on 2 cores)",
        ),
    ] = None,
    published_encoder: Annotated[
        list[str] | None,
        typer.Option("--published-encoder", metavar="ENCODER", help="encoders that also get the published head (costly on a CPU)"),
    ] = None,
    published_schedule: Annotated[
        str,
        typer.Option(
            "--published-schedule",
            help="the published head's schedule: fast (the default, beside a linear row of the same budget) | paper (the "
            "paper's: up to 100 epochs, patience 15; about 27 more minutes for mel on 2 cores) | both, as results/synthetic",
        ),
    ] = "fast",
    seeds: Annotated[int, typer.Option(min=1, help="seeds per probe")] = 5,
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="the duration, loudness and nuisance rows")] = True,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """The whole benchmark on the embedded dataset: synth -> extract -> probe every task -> leaderboard.

    Default: the mel baseline with the linear probe (schedule paper: lr 1e-3, up to 100 epochs, patience 15) and
    with the published conv+attention head. Sized for a 2-core CPU (about 10 minutes), the published head runs the
    `fast` schedule (lr 1e-3, at most 8 epochs, patience 3, standardised inputs), and so does a second linear row,
    so the two heads are compared under one budget (on validation). Shortcut baselines (duration, loudness, the
    rendering's nuisance draws) are probed beside them. 5 seeds; validation chooses the epoch in every case.
    `-e mel,basicpitch` adds the offline pretrained basic-pitch encoder (linear probe), as in results/synthetic.
    `--published-schedule both` adds the published head on the paper's own schedule (results/synthetic has both).
    `pjbench probe` runs the paper's schedule by default.
    """
    from ..api import demo as run_demo
    from ..version import __version__

    encoders = split_list(encoder) or ["mel"]
    published = split_list(published_encoder) if published_encoder is not None else ["mel"]
    if published_schedule not in PUBLISHED_SCHEDULES:
        fail(f"--published-schedule {published_schedule!r}: choose one of {', '.join(PUBLISHED_SCHEDULES)}", 2)
    schedules = ["fast", "paper"] if published_schedule == "both" else [published_schedule]
    shown = f"synthetic ({size})" if dataset == "synthetic" else dataset
    console.print(f"pjbench {__version__} demo: {shown} x {', '.join(encoders)}")
    with failing():
        run_demo(
            size=size, dataset=dataset, encoders=encoders, published_encoders=published, published_schedules=schedules, seeds=seeds, baselines=baselines, results_dir=results_dir,
            on_result=print_result, say=say,
        )  # fmt: skip
    print_leaderboards(results_dir)


def rerun(
    result_file: Annotated[Path, typer.Argument(help="a result JSON written by probe, transfer or pisa")],
    results_dir: ResultsOpt = DEFAULT_RESULTS,
    cache_dir: CacheOpt = None,
    cache: Annotated[
        Path | None, typer.Option(help="probe results: this cache instead of the recorded one (e.g. extracted again elsewhere)")
    ] = None,
) -> None:
    """Run again exactly the configuration a result file records (dataset and split, cache, task, head, seeds,
    schedule) and say whether every seed's test scores came out the same. Exits with status 1 if they differ."""
    from ..api import rerun as run_again
    from ..results.record import TaskResult, score_differences

    try:
        recorded = TaskResult.load(result_file)
    except (OSError, ValueError, TypeError, KeyError) as err:
        fail(f"{result_file}: cannot read a result from it ({err})")
    with failing():
        fresh = run_again(recorded, results_dir=results_dir, cache_root=cache_dir, cache=cache)
    label = f"{recorded.dataset}/{recorded.encoder}/{recorded.task}.{recorded.label}"
    report_differences(f"{label}: scores differ from {result_file}:", score_differences(recorded.per_seed, fresh.per_seed))
    console.print(
        f"{label}: every seed's test scores are identical to {result_file} ({len(fresh.per_seed)} seeds)", markup=False, highlight=False
    )
