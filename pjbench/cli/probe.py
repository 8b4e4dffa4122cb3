"""Commands that probe cached embeddings: probe (one cache, or a grid of several), and the shortcut baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import (
    ASSUMED,
    DEFAULT_RESULTS,
    AudioRootOpt,
    CacheOpt,
    DatasetOpt,
    DeviceOpt,
    LabelsOpt,
    ManifestOpt,
    ResultsOpt,
    ScheduleOpt,
    SeedsOpt,
    SplitSeedOpt,
    above_zero,
    assumed_note,
    device_name,
    failing,
    load_requested,
    parse_value,
    print_leaderboards,
    print_result,
    say,
    split_list,
)

AllowMissingOpt = Annotated[
    bool,
    typer.Option(
        "--allow-missing",
        help="probe the examples whose recordings are cached when some are not (skipped as unreadable, or not extracted "
        "yet); without it that is an error, since scores on part of a split are not comparable with the board's",
    ),
]


def probe(
    task: Annotated[
        list[str] | None,
        typer.Option(
            "--task", "-t", metavar="TASK[,TASK]", help="task names (repeat, or a comma list), expertise | difficulty | technique, or all"
        ),
    ] = None,
    encoder: Annotated[
        str, typer.Option("--encoder", "-e", metavar="ENCODER[,ENCODER]", help="the encoder(s) whose cache to probe (a comma list: a grid)")
    ] = "mel",
    dataset: DatasetOpt = None,
    manifest: ManifestOpt = None,
    head: Annotated[str, typer.Option(help="published (conv+attention) | linear (pooled statistics) | both")] = "both",
    seeds: SeedsOpt = 5,
    schedule: ScheduleOpt = "paper",
    lr: Annotated[
        float | None, typer.Option(callback=above_zero, help="learning rate (default: the schedule's; paper: the task's, 1e-3 for linear)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="default: the paper's per task")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="maximum epochs (default: the schedule's)")] = None,
    patience: Annotated[int | None, typer.Option(min=1, help="early stopping on the validation split (default: the schedule's)")] = None,
    weight_decay: Annotated[float | None, typer.Option("--weight-decay", help="AdamW weight decay (default 0.01)")] = None,
    standardize: Annotated[
        bool | None,
        typer.Option(
            "--standardize/--no-standardize",
            help="published head: standardise each input dimension with training-split statistics (default: the schedule's)",
        ),
    ] = None,
    device: DeviceOpt = "auto",
    precision: Annotated[
        str,
        typer.Option(
            help="the probe's arithmetic: fp32 (the default, the board's) | bf16 (forward passes under autocast; weights, "
            "optimizer and losses stay fp32): faster on a GPU with bf16 units, slower on most CPUs, and its scores differ "
            "slightly (docs/benchmarks.md); its results are a schedule variant of their own, e.g. published-paper-bf16"
        ),
    ] = "fp32",
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    cache: Annotated[Path | None, typer.Option(help="an explicit cache file (default: the newest for this dataset and encoder)")] = None,
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="also probe the shortcut baseline rows the board lacks for these tasks")
    ] = True,
    allow_missing: AllowMissingOpt = False,
    layers: Annotated[
        str,
        typer.Option(
            help="mix: one probe over every stored layer, through a learned softmax layer mix | each: also one probe per "
            "stored layer alone, and per task a layer curve (score and interval against the layer, beside the mix's "
            "weights) as <task>.<head>-<schedule>.layer-curve.csv/.png under RESULTS/<dataset>/<encoder>/layers/; needs "
            "a cache extracted with --layer all"
        ),
    ] = "mix",
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="probe jobs (encoder x task x head x layer) at a time, in local processes or cluster jobs"
        ),
    ] = 1,
    executor: Annotated[
        str,
        typer.Option(
            help="processes (local, --jobs at a time) | slurm (submitit: one array job, --jobs at a time) | submitit-local "
            "(submitit's local mode: the same jobs as local subprocesses)"
        ),
    ] = "processes",
    cluster_option: Annotated[
        list[str] | None,
        typer.Option(
            "--cluster-option", metavar="KEY=VALUE", help="a submitit parameter, e.g. slurm_partition=gpu, gpus_per_node=1, timeout_min=120"
        ),
    ] = None,
) -> None:
    """Train probes on cached embeddings, select on validation, evaluate the test split once.

    Writes RESULTS_DIR/<dataset>/<encoder>/<task>.<head>-<schedule>.json (scores per seed, mean, 95% interval over
    test groups and seeds, config, versions, git revision), the per-item predictions beside it, and a PNG (confusion
    matrix or per-class AP). Any setting that departs from the schedule (--lr, --epochs...) makes a variant of its
    own, custom-<hash>, which never overwrites the schedule's results. The ICPC transfer and PISA have their
    own commands: `pjbench transfer`, `pjbench pisa`.
    """
    from ..api import check_labels, check_probe_request, get_tasks
    from ..api import probe as probe_tasks

    names = split_list(task) or ["all"]
    with failing():
        check_probe_request(names, head, precision)  # a wrong --head, --precision or a PISA task fails before any data is read
    with failing(assumed_note(dataset, manifest)):
        ds = load_requested(dataset, manifest, audio_root, labels, split_seed)
        get_tasks(ds, names)  # an unknown task fails before the caches are looked for
        check_labels(ds)
        encoders = split_list([encoder])
        if cache is not None and len(encoders) > 1:
            raise ValueError("--cache names one cache: give one --encoder with it")
        caches = {
            name: cache or _find(ds, name, cache_dir, _extract_hint(name, dataset or ASSUMED, manifest, audio_root)) for name in encoders
        }
        options = dict(_option_pair(o) for o in cluster_option or [])
        probe_tasks(
            ds, caches, names, heads=head, seeds=seeds, schedule=schedule, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
            epochs=epochs, patience=patience, standardize=standardize, device=device_name(device), precision=precision, results_dir=results_dir,
            layers=layers, jobs=jobs, executor=executor, cluster_options=options, baselines=baselines, allow_missing=allow_missing,
            cache_root=cache_dir, on_result=print_result, say=say,
        )  # fmt: skip
    print_leaderboards(results_dir)


def _find(ds: Any, encoder: str, cache_dir: Path | None, hint: str) -> Path:
    from ..api import find_cache

    return find_cache(ds, encoder, cache_root=cache_dir, extract_hint=hint)


def _option_pair(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise ValueError(f"--cluster-option {text!r}: give KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), parse_value(value)


def baselines(
    task: Annotated[
        list[str] | None, typer.Option("--task", "-t", metavar="TASK[,TASK]", help="task names (repeat, or a comma list), or all")
    ] = None,
    dataset: DatasetOpt = None,
    manifest: ManifestOpt = None,
    seeds: SeedsOpt = 5,
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
    allow_missing: AllowMissingOpt = False,
) -> None:
    """Probe the shortcut baselines beside the encoders: the recording's length only (duration), its level only
    (loudness: RMS statistics) and, on the synthetic set, the rendering's nuisance draws (soundfont, room).

    Each is probed like an encoder (linear head, schedule paper, the same splits, metrics and intervals) and appears
    on the board as a baseline row; the board names every task where a baseline is not clearly beaten.
    """
    from ..api import probe_baselines

    with failing(assumed_note(dataset, manifest)):
        ds = load_requested(dataset, manifest, audio_root, labels, split_seed)
        probe_baselines(
            ds, split_list(task) or ["all"], seeds=seeds, cache_root=cache_dir, results_dir=results_dir, allow_missing=allow_missing,
            on_result=print_result,
        )  # fmt: skip
    print_leaderboards(results_dir)


def _extract_hint(encoder: str, dataset: str, manifest: Path | None, audio_root: Path | None) -> str:
    """The extract command for the data the user named, repeating how they named it."""
    where = f"--manifest {manifest}" if manifest else f"--dataset {dataset}" + (f" --audio-root {audio_root}" if audio_root else "")
    return f"pjbench extract --encoder {encoder} {where}"
