"""Commands that train and evaluate: probe (cached embeddings), transfer (ICPC-2015), pisa (video and audio),
the demo, and rerun (exactly the configuration a result file records)."""

from __future__ import annotations

from dataclasses import fields
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
    assumed_note,
    console,
    device_name,
    did_you_mean,
    fail,
    load_requested,
    parse_value,
    print_leaderboards,
    report_differences,
    score_line,
    split_list,
)
from .prepare import EXPECTED


def _tasks_for(names: list[str], ds: Any) -> list[Any]:
    from ..tasks import ALIASES, TASKS, get_task

    if not names or names == ["all"]:
        names = list(ds.tasks)
    out = []
    for name in names:
        known = set(ds.tasks) | set(ALIASES) | set(TASKS)
        if ALIASES.get(name, name) not in known and name != "pisa-player-level":
            hint = did_you_mean(name, known)
            manifest_note = ""
            if ds.info.get("manifest"):
                manifest_note = f"; a manifest's task follows from how its labels are written (this one's: {', '.join(ds.tasks)})"
            fail(f"unknown task {name!r}{hint}; tasks of {ds.name}: {', '.join(ds.tasks)}{manifest_note}", 2)
        out.append(get_task(name, ds))
    return out


def _heads_for(head: str) -> list[str]:
    from ..heads import HEADS

    names = list(HEADS) if head in ("both", "all") else split_list([head])
    for name in names:
        if name not in HEADS:
            fail(f"unknown head {name!r}{did_you_mean(name, HEADS)}; choose {', '.join(HEADS)} or both", 2)
    return names


def train_config(
    head: str,
    seeds: int,
    schedule: str = "paper",
    lr: float | None = None,
    batch_size: int | None = None,
    weight_decay: float | None = None,
    epochs: int | None = None,
    patience: int | None = None,
    standardize: bool | None = None,
    device: str = "cpu",
):
    """A probe's training configuration, built by keyword in one place: the named schedule, then any explicit
    setting. A setting that changes the schedule makes it a variant of its own, ``custom-<hash>``, so its results
    never overwrite the schedule's."""
    from ..hashing import config_hash
    from ..heads import get_head, get_schedule
    from ..probing.config import TrainConfig

    spec, named = get_head(head), get_schedule(schedule)
    base: dict[str, Any] = {"lr": spec.lr(named.lr), "batch_size": None, "weight_decay": 0.01, "max_epochs": named.max_epochs}
    base |= {"patience": named.patience, "standardize": named.standardize}
    asked: dict[str, Any] = {"lr": lr, "batch_size": batch_size, "weight_decay": weight_decay, "max_epochs": epochs, "patience": patience}
    asked["standardize"] = standardize
    chosen = {**base, **{k: v for k, v in asked.items() if v is not None}}
    variant = schedule if chosen == base else f"custom-{config_hash({'schedule': schedule, **chosen})[:8]}"
    return TrainConfig(head=head, schedule=variant, seeds=tuple(range(seeds)), device=device, **chosen)


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
    lr: Annotated[float | None, typer.Option(help="learning rate (default: the schedule's; paper: the task's, 1e-3 for linear)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="default: the paper's per task")] = None,
    epochs: Annotated[int | None, typer.Option(help="maximum epochs (default: the schedule's)")] = None,
    patience: Annotated[int | None, typer.Option(help="early stopping on the validation split (default: the schedule's)")] = None,
    weight_decay: Annotated[float | None, typer.Option("--weight-decay", help="AdamW weight decay (default 0.01)")] = None,
    standardize: Annotated[
        bool | None,
        typer.Option(
            "--standardize/--no-standardize",
            help="published head: standardise each input dimension with training-split statistics (default: the schedule's)",
        ),
    ] = None,
    device: DeviceOpt = "auto",
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
        int, typer.Option("--jobs", "-j", help="probe jobs (encoder x task x head x layer) at a time, in local processes or cluster jobs")
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
    from ..paths import cache_dir as default_cache
    from ..probing.grid import ProbeJob, run_grid
    from ..probing.probe import find_cache

    names = split_list(task) or ["all"]
    if "pisa-player-level" in names or any(n.startswith("pisa-") for n in names):
        fail("the PISA player level has its own command: `pjbench pisa --modality video|audio|multimodal` (see `pjbench pisa --help`)", 2)
    heads = _heads_for(head)
    try:
        ds = load_requested(dataset, manifest, audio_root, labels, split_seed)
        tasks = _tasks_for(names, ds)
        encoders = split_list([encoder])
        if cache is not None and len(encoders) > 1:
            raise ValueError("--cache names one cache: give one --encoder with it")
        caches = {
            name: cache or find_cache(ds, name, cache_dir or default_cache(), _extract_hint(name, dataset or ASSUMED, manifest, audio_root))
            for name in encoders
        }
        dev = device_name(device)
        grid = []
        for cache_path in caches.values():
            n_layers = _layers_to_probe(layers, cache_path)
            for h in heads:
                cfg = train_config(h, seeds, schedule, lr, batch_size, weight_decay, epochs, patience, standardize, dev)
                for t in tasks:
                    for k in [None, *range(n_layers)]:  # the layer mix first: the board's row
                        grid.append(ProbeJob(ds, t.name, cache_path, cfg, results_dir, allow_missing, layer=k))

        def said(job: ProbeJob, result: Any, ran: bool) -> None:
            layer = "" if job.layer is None else f" layer {job.layer}"
            prefix = f"{result.encoder} " if len(caches) > 1 else ""
            line = score_line(f"{prefix}{job.task} {result.label}{layer}", result) + ("" if ran else " (on record)")
            console.print(line, markup=False, highlight=False)

        options = dict(_option_pair(o) for o in cluster_option or [])
        results = run_grid(grid, jobs, executor, cluster_options=options, on_result=said)
        _layer_curves(results, results_dir)
        if baselines:  # every board carries its shortcut rows (made once per dataset and task)
            run_baselines(ds, tasks, seeds, cache_dir or default_cache(), results_dir, only_missing=True, allow_missing=allow_missing)
    except EXPECTED as err:
        fail(str(err) + assumed_note(dataset, manifest))
    print_leaderboards(results_dir)


def _layers_to_probe(layers: str, cache_path: Path) -> int:
    """0 for ``--layers mix``; for ``each``, the number of layers the cache stores (at least two)."""
    if layers == "mix":
        return 0
    if layers != "each":
        fail(f"--layers must be mix or each, not {layers!r}", 2)
    from ..extraction.cache import CacheReader, stored_layers

    reader = CacheReader(cache_path)
    try:
        n = stored_layers(reader)
    finally:
        reader.close()
    if n < 2:
        raise ValueError(f"--layers each: {cache_path} stores one layer; extract with --layer all for a layer curve")
    return n


def _layer_curves(results: list[Any], results_dir: Path) -> None:
    """Per encoder, task and head probed layer by layer: the curve beside the mix's result."""
    from ..reporting.layer_curves import write_layer_curve

    groups: dict[tuple[str, str, str], list[Any]] = {}
    for r in results:
        groups.setdefault((r.encoder, r.task, r.label), []).append(r)
    for members in groups.values():
        per_layer = [r for r in members if r.layer is not None]
        if not per_layer:
            continue
        mix = next((r for r in members if r.layer is None), None)
        csv_path, png_path = write_layer_curve(per_layer, mix, results_dir)
        console.print(f"layer curve: {csv_path} and {png_path.name}", markup=False, highlight=False)


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
    from ..paths import cache_dir as default_cache

    try:
        ds = load_requested(dataset, manifest, audio_root, labels, split_seed)
        tasks = _tasks_for(split_list(task) or ["all"], ds)
        run_baselines(ds, tasks, seeds, cache_dir or default_cache(), results_dir, allow_missing=allow_missing)
    except EXPECTED as err:
        fail(str(err) + assumed_note(dataset, manifest))
    print_leaderboards(results_dir)


def run_baselines(
    ds: Any, tasks: list[Any], seeds: int, cache_root: Path, results_dir: Path, only_missing: bool = False, allow_missing: bool = False
) -> None:
    """The baseline rows of ``tasks`` (linear head, schedule paper); with ``only_missing``, those not yet on the
    board (what `probe` adds so that every board has them)."""
    from ..extraction.baselines import applicable, build_caches
    from ..probing.probe import run_probe

    cfg = train_config("linear", seeds, "paper", device="cpu")

    def wanted(baseline: str, task: Any) -> bool:
        return not only_missing or not (results_dir / ds.name / baseline / f"{task.name}.{cfg.head}-{cfg.schedule}.json").exists()

    todo = [(b.name, t) for b in applicable(ds) for t in tasks if wanted(b.name, t)]
    if not todo:
        return
    caches = build_caches(ds, cache_root)
    for name, t in todo:
        result = run_probe(ds, t, caches[name], cfg, results_dir, allow_missing=allow_missing)
        console.print(score_line(f"{name} (baseline) {t.name}", result), markup=False, highlight=False)


def _extract_hint(encoder: str, dataset: str, manifest: Path | None, audio_root: Path | None) -> str:
    """The extract command for the data the user named, repeating how they named it."""
    where = f"--manifest {manifest}" if manifest else f"--dataset {dataset}" + (f" --audio-root {audio_root}" if audio_root else "")
    return f"pjbench extract --encoder {encoder} {where}"


def transfer(
    encoder: Annotated[str, typer.Option("--encoder", "-e", help="the encoder whose caches (PLD and ICPC) to use")] = "mel",
    pld_audio_root: Annotated[Path | None, typer.Option("--pld-audio-root", help="audio of pld-expertise (the training data)")] = None,
    pld_labels: Annotated[Path | None, typer.Option("--pld-labels", help="PLD label files (default: PLD_AUDIO_ROOT/labels)")] = None,
    icpc_audio_root: Annotated[Path | None, typer.Option("--icpc-audio-root", help="audio of the ICPC-2015 preliminary round")] = None,
    icpc_labels: Annotated[
        Path | None, typer.Option("--icpc-labels", help="the ICPC2015-dataset files (default: ICPC_AUDIO_ROOT/labels)")
    ] = None,
    head: Annotated[str, typer.Option(help="published | linear")] = "linear",
    seeds: SeedsOpt = 5,
    lr: Annotated[float | None, typer.Option(help="learning rate (default: the paper's for ranking; 1e-3 for the linear head)")] = None,
    epochs: Annotated[int | None, typer.Option(help="maximum PLD training epochs (default: the head's, 100)")] = None,
    patience: Annotated[int | None, typer.Option(help="early stopping on PLD validation (default: the head's, 15)")] = None,
    part_segments: Annotated[int, typer.Option("--part-segments", help="segments per recital part (30 = 5 minutes)")] = 30,
    fit_epochs: Annotated[int, typer.Option("--fit-epochs", help="epochs of the 'with fitting' protocol")] = 5,
    split_seed: SplitSeedOpt = 0,
    device: DeviceOpt = "auto",
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """Apply the PLD expertise-2way probe to ICPC-2015 candidates: pairs of candidates who reached different
    stages, judged part by part (5-minute parts, part j with part j), by majority vote and by mean probability;
    with and without fitting on a disjoint half of the candidates; candidates ranked by win count, with Kendall
    tau and Spearman against the stage reached, and the paper's Figure 2 as a PNG.

    Extract both first: `pjbench extract -e mel -d pld-expertise --audio-root A` and
    `pjbench extract -e mel -d icpc2015 --audio-root B` (every segment of the recitals is kept).
    """
    from ..datasets import load_dataset
    from ..experiments.icpc_transfer import TransferConfig, run_transfer
    from ..paths import cache_dir as default_cache
    from ..probing.probe import find_cache

    _heads_for(head)
    try:
        pld = load_dataset("pld-expertise", build_missing=False, audio_root=pld_audio_root, labels_dir=pld_labels, split_seed=split_seed)
        icpc = load_dataset("icpc2015", build_missing=False, audio_root=icpc_audio_root, labels_dir=icpc_labels)
        root = cache_dir or default_cache()
        cfg = train_config(head, seeds, lr=lr, epochs=epochs, patience=patience, device=device_name(device))
        result = run_transfer(
            pld,
            find_cache(pld, encoder, root, _extract_hint(encoder, "pld-expertise", None, pld_audio_root)),
            icpc,
            find_cache(icpc, encoder, root, _extract_hint(encoder, "icpc2015", None, icpc_audio_root)),
            cfg,
            TransferConfig(part_segments, fit_epochs),
            results_dir,
        )
    except EXPECTED as err:
        fail(str(err))
    s = result.scores
    console.print(
        f"ICPC-2015 transfer ({encoder}, {head}): pair accuracy by vote {100 * s['accuracy_vote']['mean']:.1f} ± "
        f"{100 * s['accuracy_vote']['ci95']:.1f}, by mean probability {100 * s['accuracy_mean_prob']['mean']:.1f}; with fitting "
        f"{100 * s['fit_accuracy_vote']['mean']:.1f}; Kendall tau {s['kendall_tau']['mean']:.2f}, Spearman {s['spearman']['mean']:.2f} "
        "(chance: 50%, 0)",
        markup=False,
        highlight=False,
    )
    top = result.extra["ranking"][:10]
    console.print(
        "top candidates by win count: " + "; ".join(f"{r['candidate']} ({r['mean_wins']:.0f}, {r['stage_name']})" for r in top),
        markup=False,
        highlight=False,
    )
    print_leaderboards(results_dir)


def pisa(
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="pisa (your copy: --video-root) | synthetic-short (embedded keyboard videos)")
    ] = "synthetic-short",
    modality: Annotated[str, typer.Option(help="video | audio | multimodal")] = "multimodal",
    sampling: Annotated[str, typer.Option(help="contiguous | uniform (10 clips of 16 frames per sample)")] = "uniform",
    mode: Annotated[str, typer.Option(help="end-to-end (train the backbones) | frozen (probe cached features)")] = "end-to-end",
    video_root: Annotated[Path | None, typer.Option("--video-root", help="pisa: your copy of the PISA videos (<number>.mp4 ...)")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="pisa: the annotations (default: VIDEO_ROOT/labels)")] = None,
    split_seed: Annotated[int, typer.Option("--split-seed", help="seed of the validation carve-out")] = 0,
    video_backbone: Annotated[str, typer.Option("--video-backbone", help="c3d-small | r3d18")] = "c3d-small",
    audio_backbone: Annotated[str, typer.Option("--audio-backbone", help="resnet18")] = "resnet18",
    video_weights: Annotated[Path | None, typer.Option("--video-weights", help="pretrained video backbone (torchvision layout)")] = None,
    audio_weights: Annotated[
        Path | None, typer.Option("--audio-weights", help="pretrained ResNet-18 (ImageNet, torchvision layout)")
    ] = None,
    width: Annotated[int, typer.Option(help="backbone channel width (64 = the published size)")] = 64,
    frame_size: Annotated[int, typer.Option("--frame-size", help="cropped frames are resized to this square")] = 112,
    seeds: SeedsOpt = 3,
    lr: Annotated[float, typer.Option(help="learning rate (Adam, as the paper)")] = 1e-4,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 4,
    epochs: Annotated[int, typer.Option(help="maximum epochs")] = 100,
    patience: Annotated[int, typer.Option(help="early stopping on the validation split")] = 100,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Adam weight decay (the paper: 0)")] = 0.0,
    device: DeviceOpt = "auto",
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """PISA player level (1-10) from video, audio or both, trained end to end or probed on frozen features.

    Samples are 10 clips of 16 frames (and a mel image each) from a performance; the multimodal model trains a
    video, an audio and a fusion head together (the paper's Eq. 1). Validation chooses the epoch; the test split
    is evaluated once per seed.
    """
    from ..experiments.pisa import PisaConfig

    cfg = PisaConfig(
        modality=modality,
        sampling=sampling,
        mode=mode,
        video_backbone=video_backbone,
        audio_backbone=audio_backbone,
        width=width,
        video_weights=str(video_weights) if video_weights else None,
        audio_weights=str(audio_weights) if audio_weights else None,
        frame_size=frame_size,
        epochs=epochs,
        patience=patience,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        seeds=tuple(range(seeds)),
        device=device_name(device),
    )
    request = {"dataset": dataset, "video_root": str(video_root) if video_root else None, "labels": str(labels) if labels else None}
    result = run_pisa_request({**request, "split_seed": split_seed}, cfg, cache_dir, results_dir)
    s = result.scores
    console.print(
        f"{result.task} ({cfg.mode}): accuracy {100 * s['accuracy']['mean']:.1f} ± {100 * s['accuracy']['ci95']:.1f}"
        f" (chance {100 * result.counts['chance']:.1f}), within one level {100 * s['within_one']['mean']:.1f}, MAE {s['mae']['mean']:.2f}",
        markup=False,
        highlight=False,
    )
    print_leaderboards(results_dir)


def run_pisa_request(request: dict[str, Any], cfg: Any, cache_dir: Path | None, results_dir: Path) -> Any:
    """Load the PISA dataset a request names (``dataset``, ``video_root``, ``labels``, ``split_seed``) and run."""
    from ..datasets import DATASETS
    from ..datasets.pisa import load_synthetic_pisa
    from ..experiments.pisa import run_pisa

    try:
        if request["dataset"] == "pisa":
            if request.get("video_root") is None:
                fail("--dataset pisa needs --video-root DIR (the PISA videos; annotations from --labels or DIR/labels)", 2)
            labels = Path(request["labels"]) if request.get("labels") else None
            ds = DATASETS["pisa"].load(Path(request["video_root"]), labels, request.get("split_seed", 0))
            if ds.missing:
                console.print(f"[yellow]{len(ds.missing)} of {ds.info['n_label_rows']} performances have no video[/yellow]")
        else:
            if request["dataset"] not in DATASETS and not Path(request["dataset"]).is_dir():
                fail(f"unknown dataset {request['dataset']!r}{did_you_mean(request['dataset'], DATASETS)}; pisa or a synthetic set", 2)
            root, name = _synthetic_video_root(request["dataset"])
            ds = load_synthetic_pisa(root, name)
        return run_pisa(ds, cfg, cache_dir, results_dir, request=request)
    except EXPECTED as err:
        fail(str(err))


def _synthetic_video_root(dataset: str) -> tuple[Path, str]:
    """A synthetic dataset's folder with its keyboard videos, rendered on first use."""
    from ..datasets import load_dataset
    from ..datasets.synthetic.video import ANNOTATIONS, build_videos

    ds = load_dataset(dataset)
    assert ds.root is not None
    if not (ds.root / ANNOTATIONS).exists():
        console.print(f"rendering the keyboard videos of {ds.name} (once)")
        build_videos(ds.root)
    return ds.root, f"{ds.name}-video"


def demo(
    size: Annotated[str, typer.Option(help="synthetic dataset size: small (the benchmark) or tiny (a quick check)")] = "small",
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
    seeds: Annotated[int, typer.Option(help="seeds per probe")] = 5,
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
    `pjbench probe` runs the paper's schedule by default.
    """
    from ..datasets.synthetic.build import SynthConfig, build
    from ..datasets.synthetic.dataset import load_synthetic
    from ..encoders import load_encoder
    from ..extraction.extract import ExtractConfig
    from ..extraction.extract import extract as run_extract
    from ..paths import cache_dir
    from ..probing.probe import run_probe
    from ..tasks import get_task
    from ..version import __version__

    encoders = split_list(encoder) or ["mel"]
    published = split_list(published_encoder) if published_encoder is not None else ["mel"]
    console.print(f"pjbench {__version__} demo: synthetic ({size}) x {', '.join(encoders)}")
    try:
        ds = load_synthetic(build(SynthConfig.for_size(size)))
        if size == "tiny":
            console.print(
                f"note: the tiny set has {len(ds.split('test'))} test clips: its scores show that the pipeline runs, not how good an "
                "encoder is (its intervals are wide and its rows mostly tied); `pjbench demo` runs the small set the "
                "leaderboard is made on",
                markup=False,
                highlight=False,
            )
        caches = {}
        for name in encoders:
            report = run_extract(ds, load_encoder(name), ExtractConfig(), cache_root=cache_dir())
            caches[name] = report.cache_path
            console.print(
                f"{name} cache: {report.cache_path} ({report.extracted} new, {report.already_done} cached, {len(report.skipped)} skipped)"
            )
        tasks = [get_task(name, ds) for name in ds.tasks]
        linear = [(name, train_config("linear", seeds, "paper", device="cpu")) for name in encoders]
        # both heads under one budget, so that the board can say which is the stronger
        fast = [(n, train_config(head, seeds, "fast", device="cpu")) for n in published if n in caches for head in ("linear", "published")]

        def probe_each(runs: list[tuple[str, Any]]) -> None:
            for name, cfg in runs:
                for task in tasks:
                    result = run_probe(ds, task, caches[name], cfg, results_dir)
                    console.print(score_line(f"{name} {task.name} {result.label}", result), markup=False, highlight=False)

        probe_each(linear)
        if baselines:  # before the costly published head
            run_baselines(ds, tasks, seeds, cache_dir(), results_dir)
        probe_each(fast)
    except EXPECTED as err:
        fail(str(err))
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
    from ..results.record import TaskResult, score_differences

    try:
        recorded = TaskResult.load(result_file)
    except (OSError, ValueError, TypeError, KeyError) as err:
        fail(f"{result_file}: cannot read a result from it ({err})")
    try:
        fresh = _rerun(recorded, results_dir, cache_dir, cache)
    except EXPECTED as err:
        fail(str(err))
    label = f"{recorded.dataset}/{recorded.encoder}/{recorded.task}.{recorded.label}"
    report_differences(f"{label}: scores differ from {result_file}:", score_differences(recorded.per_seed, fresh.per_seed))
    console.print(
        f"{label}: every seed's test scores are identical to {result_file} ({len(fresh.per_seed)} seeds)", markup=False, highlight=False
    )


def _rerun(recorded: Any, results_dir: Path, cache_dir: Path | None, cache: Path | None = None) -> Any:
    from ..probing.config import TrainConfig
    from ..tasks import TASKS

    config = recorded.config
    runner = TASKS[recorded.task].kind.runner if recorded.task in TASKS else "probe"
    if runner == "pisa":
        from ..experiments.pisa import PisaConfig

        if "request" not in config:
            raise ValueError("this PISA result predates recorded requests: run `pjbench pisa` with the options in its config.pisa")
        pisa_cfg = _dataclass_from(PisaConfig, config["pisa"])
        return run_pisa_request(config["request"], pisa_cfg, cache_dir, results_dir)
    from ..heads import infer_schedule

    # results written before schedules had names: name theirs, so the rerun lands beside its own kind
    # (their batch size is recorded resolved, the task's, so it does not tell a custom one)
    unnamed = {k: v for k, v in config["train"].items() if k != "batch_size"}
    train = _dataclass_from(TrainConfig, {**config["train"], "schedule": config["train"].get("schedule") or infer_schedule(unnamed)})
    if runner == "transfer":
        from ..experiments.icpc_transfer import TransferConfig, run_transfer

        source, target = _dataset_from(config["source"]["dataset"]), _dataset_from(config["target"]["dataset"])
        caches = [_existing(Path(config["source"]["cache"])), _existing(Path(config["target"]["cache"]))]
        return run_transfer(source, caches[0], target, caches[1], train, _dataclass_from(TransferConfig, config["transfer"]), results_dir)
    from ..probing.probe import run_probe
    from ..tasks import get_task

    ds = _dataset_from(config["dataset"])
    task = get_task(config["task"]["name"], ds)
    # results from before the coverage check were made on whatever the cache held
    return run_probe(
        ds,
        task,
        _existing(cache or Path(config["cache"]["path"])),
        train,
        results_dir,
        allow_missing=config.get("allow_missing", True),
        layer=config.get("layer"),
    )


def _dataclass_from(cls: Any, values: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
    return cls(**kwargs)


def _dataset_from(record: dict[str, Any]) -> Any:
    from ..datasets import load_dataset

    if record.get("manifest"):
        return load_dataset(manifest=Path(record["manifest"]))
    if record.get("root") and record.get("synthetic_config"):  # a synthetic set: its folder, or the same set rendered here
        if Path(record["root"]).is_dir():
            return load_dataset(record["root"])
        from ..datasets.synthetic.build import SynthConfig, build
        from ..datasets.synthetic.dataset import load_synthetic

        return load_synthetic(build(SynthConfig(**record["synthetic_config"])))
    return load_dataset(
        record["name"],
        build_missing=False,
        audio_root=Path(record["audio_root"]) if record.get("audio_root") else None,
        labels_dir=Path(record["labels_dir"]) if record.get("labels_dir") else None,
        split_seed=int(record.get("split_seed", 0)),
    )


def _existing(cache: Path) -> Path:
    if not cache.is_file():
        raise FileNotFoundError(f"the cache this result was computed from, {cache}, is gone: extract again with the recorded options")
    return cache
