"""The ``pjbench`` command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from . import __version__

if TYPE_CHECKING:
    from .benchmark.pisa import PisaConfig

app = typer.Typer(
    help="pjbench: does an audio encoder hear how well a piano is played?\n\n"
    "Typical run: `pjbench extract --encoder mel --dataset synthetic`, then "
    "`pjbench probe --task difficulty --encoder mel --dataset synthetic`, then `pjbench leaderboard`. "
    "`pjbench demo` does all of it on the embedded synthetic dataset.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

DatasetOpt = Annotated[
    str,
    typer.Option(
        "--dataset",
        "-d",
        help="synthetic | synthetic-tiny | synthetic-short | synthetic-full | a synthetic dataset folder | pld-expertise | pld-technique | "
        "cipi-difficulty | icpc2015 (the last four need --audio-root)",
    ),
]
AudioRootOpt = Annotated[
    Path | None, typer.Option("--audio-root", help="your copy of a published dataset's audio, laid out as its label files name it")
]
LabelsOpt = Annotated[
    Path | None,
    typer.Option("--labels", help="folder with the published label files under their published names (default: AUDIO_ROOT/labels)"),
]
SplitSeedOpt = Annotated[int, typer.Option("--split-seed", help="seed of the grouped, stratified split (PLD expertise and technique)")]
ManifestOpt = Annotated[Path | None, typer.Option("--manifest", help="your own dataset: a CSV with columns id,path,split,label[,group]")]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", help="where embedding caches live (default $PJBENCH_HOME/cache)")]
ResultsOpt = Annotated[Path, typer.Option("--results-dir", help="where result JSON files and leaderboards go")]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    for noisy in ("matplotlib", "numba", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    _setup_logging(verbose)


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _parse_value(value: str) -> object:
    """true/false -> bool, numbers -> int/float, anything else stays a string."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _encoder_options(options: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep:
            _fail(f"encoder option {item!r} is not KEY=VALUE")
        out[key.replace("-", "_")] = _parse_value(value)
    return out


@app.command()
def synth(
    size: Annotated[
        str,
        typer.Option(
            help="tiny (~100 short clips, tests) | small (600 clips of 10-60 s, the demo) | full (4500 clips) | "
            "short (360 clips of 8.5-12 s: one PISA sample per keyboard video)"
        ),
    ] = "small",
    seed: Annotated[int, typer.Option(help="the same seed gives bit-identical audio")] = 0,
    out: Annotated[Path | None, typer.Option(help="output folder (default: $PJBENCH_HOME/datasets/synthetic-SIZE-seedN-RATEk)")] = None,
    sample_rate: Annotated[int, typer.Option("--sample-rate", help="FLAC sample rate")] = 24000,
    workers: Annotated[int, typer.Option(help="rendering processes (default: all cores)")] = 0,
    video: Annotated[
        bool, typer.Option("--video", help="also render keyboard videos (for pisa-player-level): one suited performance per piece")
    ] = False,
) -> None:
    """Render the embedded synthetic piano dataset: scores x performers -> FLAC + MIDI + manifest.csv.

    Labels are known by construction: techniques from the score's figures, difficulty 1-9 from
    measured score properties, expertise / player level from the performer's skill. Soundfont,
    room and loudness are drawn independently of every label. Cached: the same call twice does the work once.
    """
    from .datasets.synthetic.build import SynthConfig, build

    try:
        cfg = SynthConfig.for_size(size, seed, sample_rate)
        path = build(cfg, out, workers=workers or None)
        if video:
            from .datasets.synthetic.video import build_videos

            build_videos(path, workers=workers or None)
    except (ValueError, RuntimeError, FileExistsError) as err:
        _fail(str(err))
    console.print(f"synthetic dataset ({size}, seed {seed}) at [bold]{path}[/bold]")


@app.command()
def extract(
    encoder: Annotated[
        str, typer.Option("--encoder", "-e", help="encoder name (`pjbench list encoders`) or package.module:object")
    ] = "mel",
    dataset: DatasetOpt = "synthetic",
    manifest: ManifestOpt = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="encoder option KEY=VALUE, e.g. -o scale=power for the reference's linear mel"),
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(help="pretrained weights: a local file or folder in the published layout (default: the Hugging Face cache, offline)"),
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda[:N]; fp16 autocast on GPU")] = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", help="10-second segments per encoder call")] = 16,
    segment_seconds: Annotated[float, typer.Option("--segment-seconds")] = 10.0,
    max_segments: Annotated[
        int | None,
        typer.Option("--max-segments", help="segments kept per recording (default: the dataset's, 30 = the first 5 minutes; 0 = all)"),
    ] = None,
    layer: Annotated[str, typer.Option(help="which hidden layer to store: last | all | an index")] = "last",
    pool: Annotated[
        str,
        typer.Option(
            help="temporal pooling at extraction: none (full frame rate) | mean (one frame per segment) | rate:HZ (average to HZ frames/s)"
        ),
    ] = "none",
    workers: Annotated[int, typer.Option(help="audio decoding processes")] = 1,
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    cache_dir: CacheOpt = None,
) -> None:
    """Embed every recording into an HDF5 cache (resumable: finished recordings are skipped).

    Audio is decoded, downmixed and resampled to the encoder's rate, cut into 10-second
    segments (a trailing part of at least 5 s is kept, padded), embedded in batches and
    stored as float16. Missing, undecodable, too short or silent files are logged and skipped.
    """
    from .benchmark.extract import ExtractConfig
    from .benchmark.extract import extract as run_extract
    from .benchmark.segments import SegmentConfig
    from .datasets import load_dataset
    from .encoders import load_encoder
    from .paths import cache_dir as default_cache

    try:
        ds = load_dataset(None if manifest else dataset, manifest, audio_root=audio_root, labels_dir=labels, split_seed=split_seed)
        enc = load_encoder(encoder, **_encoder_options(option or []), **({"checkpoint": checkpoint} if checkpoint else {}))
        keep = ds.max_segments if max_segments is None else (max_segments or None)
        cfg = ExtractConfig(SegmentConfig(segment_seconds, keep), layer, pool, batch_size, device, workers)
        report = run_extract(ds, enc, cfg, cache_root=cache_dir or default_cache())
    except (ValueError, RuntimeError, FileNotFoundError, TypeError) as err:
        _fail(str(err))
    if ds.info.get("n_missing_audio"):
        console.print(
            f"[yellow]{ds.info['n_missing_audio']} of {ds.info['n_label_rows']} label rows have no audio[/yellow] (listed in {report.cache_path.parent / 'missing-audio.csv'})"
        )
    console.print(
        f"{report.extracted} extracted, {report.already_done} already cached, {len(report.skipped)} skipped "
        f"({report.realtime_factor:.0f}x real time) -> [bold]{report.cache_path}[/bold]"
    )


@app.command()
def probe(
    task: Annotated[str, typer.Option("--task", "-t", help="a task name, expertise | difficulty | technique, or all")] = "all",
    encoder: Annotated[str, typer.Option("--encoder", "-e", help="the encoder whose cache to probe")] = "mel",
    dataset: DatasetOpt = "synthetic",
    manifest: ManifestOpt = None,
    head: Annotated[str, typer.Option(help="published (conv+attention) | linear (pooled mean/std) | both")] = "both",
    seeds: Annotated[int, typer.Option(help="number of seeds (0..N-1); the CI is over seeds")] = 5,
    lr: Annotated[float | None, typer.Option(help="learning rate (default: the paper's per task; 1e-3 for the linear head)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="default: the paper's per task")] = None,
    epochs: Annotated[int, typer.Option(help="maximum epochs")] = 100,
    patience: Annotated[int, typer.Option(help="early stopping on the validation split")] = 15,
    weight_decay: Annotated[
        float | None, typer.Option("--weight-decay", help="default 0.01 (AdamW); 0 for pisa (Adam, as the paper)")
    ] = None,
    standardize: Annotated[
        bool,
        typer.Option(
            "--standardize/--no-standardize", help="published head: standardise each input dimension with training-split statistics"
        ),
    ] = False,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "cpu",
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    cache: Annotated[Path | None, typer.Option(help="an explicit cache file (default: the newest for this dataset and encoder)")] = None,
    modality: Annotated[str, typer.Option(help="pisa-player-level: video | audio | multimodal")] = "multimodal",
    sampling: Annotated[str, typer.Option(help="pisa-player-level: contiguous | uniform (10 clips of 16 frames per sample)")] = "uniform",
    mode: Annotated[
        str, typer.Option(help="pisa-player-level: end-to-end (train the backbones) | frozen (probe cached features)")
    ] = "end-to-end",
    video_root: Annotated[Path | None, typer.Option("--video-root", help="pisa: your copy of the PISA videos (<number>.mp4 ...)")] = None,
    video_backbone: Annotated[str, typer.Option("--video-backbone", help="pisa-player-level: c3d-small | r3d18")] = "c3d-small",
    audio_backbone: Annotated[str, typer.Option("--audio-backbone", help="pisa-player-level: resnet18")] = "resnet18",
    video_weights: Annotated[
        Path | None, typer.Option("--video-weights", help="pisa: pretrained video backbone (torchvision layout)")
    ] = None,
    audio_weights: Annotated[
        Path | None, typer.Option("--audio-weights", help="pisa: pretrained ResNet-18 (ImageNet, torchvision layout)")
    ] = None,
    width: Annotated[int, typer.Option(help="pisa: backbone channel width (64 = the published size)")] = 64,
    frame_size: Annotated[int, typer.Option("--frame-size", help="pisa: cropped frames are resized to this square")] = 112,
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = Path("results"),
) -> None:
    """Train probes on cached embeddings, select on validation, evaluate the test split once.

    Writes results/<dataset>/<encoder>/<task>.<head>.json (scores per seed, mean, 95% CI,
    config, versions, git revision) and a PNG beside it (confusion matrix or per-class AP).
    """
    from .benchmark.extract import resolve_device
    from .benchmark.probe import find_cache, run_probe
    from .benchmark.train import TrainConfig
    from .datasets import load_dataset
    from .paths import cache_dir as default_cache
    from .tasks import get_task

    if task == "pisa-player-level":
        from .benchmark.pisa import PisaConfig

        cfg_pisa = PisaConfig(
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
            lr=lr if lr is not None else 1e-4,
            weight_decay=weight_decay or 0.0,
            batch_size=batch_size or 4,
            seeds=tuple(range(seeds)),
            device=str(resolve_device(device)),
        )
        _probe_pisa(dataset, video_root, labels, split_seed, cfg_pisa, cache_dir, results_dir)
        return
    try:
        ds = load_dataset(
            None if manifest else dataset, manifest, build_missing=False, audio_root=audio_root, labels_dir=labels, split_seed=split_seed
        )
        cache_path = cache or find_cache(ds, encoder, cache_dir or default_cache())
        tasks = [get_task(t, ds) for t in (ds.tasks if task == "all" else [task])]
        heads = ["published", "linear"] if head == "both" else [head]
        dev = str(resolve_device(device))
        for h in heads:
            for t in tasks:
                head_lr = lr if lr is not None else (1e-3 if h == "linear" else None)
                wd = weight_decay if weight_decay is not None else 0.01
                cfg = TrainConfig(h, tuple(range(seeds)), head_lr, batch_size, wd, epochs, patience, standardize=standardize, device=dev)
                result = run_probe(ds, t, cache_path, cfg, results_dir)
                s = result.scores[result.primary_metric]
                console.print(
                    f"{t.name:22s} {h:9s} {result.primary_metric} = {100 * s['mean']:.1f} ± {100 * s['ci95']:.1f}  (chance {100 * result.counts['chance']:.1f})"
                )
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        _fail(str(err))
    _print_leaderboards(results_dir)


@app.command()
def transfer(
    encoder: Annotated[str, typer.Option("--encoder", "-e", help="the encoder whose caches (PLD and ICPC) to use")] = "mel",
    pld_audio_root: Annotated[Path | None, typer.Option("--pld-audio-root", help="audio of pld-expertise (the training data)")] = None,
    pld_labels: Annotated[Path | None, typer.Option("--pld-labels", help="PLD label files (default: PLD_AUDIO_ROOT/labels)")] = None,
    icpc_audio_root: Annotated[Path | None, typer.Option("--icpc-audio-root", help="audio of the ICPC-2015 preliminary round")] = None,
    icpc_labels: Annotated[
        Path | None, typer.Option("--icpc-labels", help="the ICPC2015-dataset files (default: ICPC_AUDIO_ROOT/labels)")
    ] = None,
    head: Annotated[str, typer.Option(help="published | linear")] = "linear",
    seeds: Annotated[int, typer.Option(help="seeds of the PLD probe (and of the fitting halves)")] = 5,
    lr: Annotated[float | None, typer.Option(help="learning rate (default: the paper's for ranking; 1e-3 for the linear head)")] = None,
    epochs: Annotated[int, typer.Option(help="maximum PLD training epochs")] = 100,
    patience: Annotated[int, typer.Option(help="early stopping on PLD validation")] = 15,
    part_segments: Annotated[int, typer.Option("--part-segments", help="segments per recital part (30 = 5 minutes)")] = 30,
    fit_epochs: Annotated[int, typer.Option("--fit-epochs", help="epochs of the 'with fitting' protocol")] = 5,
    split_seed: SplitSeedOpt = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "cpu",
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = Path("results"),
) -> None:
    """Apply the PLD expertise-2way probe to ICPC-2015 candidates: pairs of candidates who reached different
    stages, judged part by part (5-minute parts, part j with part j), by majority vote and by mean probability;
    with and without fitting on a disjoint half of the candidates; candidates ranked by win count, with
    Kendall tau and Spearman against the stage reached, and the paper's Figure 2 as a PNG.

    Extract both first: `pjbench extract -e mel -d pld-expertise --audio-root A` and
    `pjbench extract -e mel -d icpc2015 --audio-root B` (every segment of the recitals is kept).
    """
    from .benchmark.extract import resolve_device
    from .benchmark.probe import find_cache
    from .benchmark.train import TrainConfig
    from .benchmark.transfer import TransferConfig, run_transfer
    from .datasets import load_dataset
    from .paths import cache_dir as default_cache

    try:
        pld = load_dataset("pld-expertise", build_missing=False, audio_root=pld_audio_root, labels_dir=pld_labels, split_seed=split_seed)
        icpc = load_dataset("icpc2015", build_missing=False, audio_root=icpc_audio_root, labels_dir=icpc_labels)
        root = cache_dir or default_cache()
        head_lr = lr if lr is not None else (1e-3 if head == "linear" else None)
        cfg = TrainConfig(head, tuple(range(seeds)), head_lr, None, 0.01, epochs, patience, device=str(resolve_device(device)))
        result = run_transfer(
            pld,
            find_cache(pld, encoder, root),
            icpc,
            find_cache(icpc, encoder, root),
            cfg,
            TransferConfig(part_segments, fit_epochs),
            results_dir,
        )
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        _fail(str(err))
    s = result.scores
    console.print(
        f"ICPC-2015 transfer ({encoder}, {head}): pair accuracy by vote {100 * s['accuracy_vote']['mean']:.1f} ± {100 * s['accuracy_vote']['ci95']:.1f}, "
        f"by mean probability {100 * s['accuracy_mean_prob']['mean']:.1f}; with fitting {100 * s['fit_accuracy_vote']['mean']:.1f}; "
        f"Kendall tau {s['kendall_tau']['mean']:.2f}, Spearman {s['spearman']['mean']:.2f} (chance: 50%, 0)"
    )
    top = result.extra["ranking"][:10]
    console.print("top candidates by win count: " + "; ".join(f"{r['candidate']} ({r['mean_wins']:.0f}, {r['stage_name']})" for r in top))
    _print_leaderboards(results_dir)


def _probe_pisa(
    dataset: str, video_root: Path | None, labels: Path | None, split_seed: int, cfg: PisaConfig, cache_dir: Path | None, results_dir: Path
) -> None:
    from .benchmark.pisa import run_pisa
    from .datasets.pisa import load_pisa, load_synthetic_pisa

    try:
        if dataset == "pisa":
            if video_root is None:
                _fail("--dataset pisa needs --video-root DIR (the PISA videos; annotations from --labels or DIR/labels)")
            ds = load_pisa(video_root, labels, split_seed=split_seed)
            if ds.missing:
                console.print(f"[yellow]{len(ds.missing)} of {ds.info['n_label_rows']} performances have no video[/yellow]")
        else:
            root, name = _synthetic_video_root(dataset)
            ds = load_synthetic_pisa(root, name)
        result = run_pisa(ds, cfg, cache_dir, results_dir)
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        _fail(str(err))
    s = result.scores
    console.print(
        f"pisa-player-level {cfg.modality} ({cfg.sampling}, {cfg.mode}): accuracy {100 * s['accuracy']['mean']:.1f} ± {100 * s['accuracy']['ci95']:.1f}"
        f" (chance {100 * result.counts['chance']:.1f}), within one level {100 * s['within_one']['mean']:.1f}, MAE {s['mae']['mean']:.2f}"
    )
    _print_leaderboards(results_dir)


def _synthetic_video_root(dataset: str) -> tuple[Path, str]:
    """A synthetic dataset's folder with its keyboard videos, rendered on first use."""
    from .datasets import load_dataset
    from .datasets.synthetic.video import ANNOTATIONS, build_videos

    ds = load_dataset(dataset)
    assert ds.root is not None
    if not (ds.root / ANNOTATIONS).exists():
        console.print(f"rendering the keyboard videos of {ds.name} (once)")
        build_videos(ds.root)
    return ds.root, f"{ds.name}-video"


def _print_leaderboards(results_dir: Path) -> None:
    from .benchmark.leaderboard import write_leaderboards

    for name, md in write_leaderboards(results_dir).items():
        console.print(f"\n[bold]{name}[/bold]  ({results_dir / name / 'leaderboard.md'})")
        console.print(md, markup=False, highlight=False)


@app.command()
def leaderboard(results_dir: ResultsOpt = Path("results")) -> None:
    """Print the leaderboard of every dataset with results, and write leaderboard.md / .csv per dataset.

    Cells are test-split scores in percent, mean ± 95% CI over seeds; a 'chance' row gives the
    best guess that ignores the input; the paper's published numbers appear only on the datasets they were measured on.
    """
    if not results_dir.exists():
        _fail(f"no results in {results_dir}; run `pjbench probe` first")
    _print_leaderboards(results_dir)


data_app = typer.Typer(help="Inspect datasets: leakage, shortcuts, missing audio.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(
    dataset: Annotated[str, typer.Argument(help="a dataset name (pjbench list datasets) or a synthetic dataset folder")],
    manifest: ManifestOpt = None,
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    out: Annotated[Path | None, typer.Option(help="where the report goes (default: results/<dataset>/)")] = None,
) -> None:
    """Leakage and shortcut report: performer / piece / source overlap across splits, the same audio on two
    sides, missing and unreadable files, and per label the duration, codec, sample-rate and channel
    distribution with how well each property alone predicts the label. Writes data-check.txt, .png
    and missing-audio.csv."""
    from .datasets import load_dataset
    from .datasets.check import check_dataset, plot_report, render_text

    try:
        ds = load_dataset(
            None if manifest else dataset, manifest, build_missing=False, audio_root=audio_root, labels_dir=labels, split_seed=split_seed
        )
        report = check_dataset(ds)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    folder = out or Path("results") / ds.name
    folder.mkdir(parents=True, exist_ok=True)
    text = render_text(report)
    (folder / "data-check.txt").write_text(text)
    plot_report(report, folder / "data-check.png")
    from .benchmark.extract import write_missing_report

    missing_csv = write_missing_report(ds, folder)
    console.print(text, markup=False, highlight=False)
    console.print(f"report: {folder / 'data-check.txt'}, {folder / 'data-check.png'}" + (f", {missing_csv}" if missing_csv else ""))


@app.command("list")
def list_things(what: Annotated[str, typer.Argument(help="encoders | tasks | datasets | heads")] = "encoders") -> None:
    """List encoders (with their metadata), tasks, datasets or probe heads."""
    table = Table(show_lines=False)
    if what == "encoders":
        from .encoders import available, load_encoder

        for col in ("name", "rate Hz", "frames/s", "dim", "layers", "licence", "description"):
            table.add_column(col)
        from .encoders import PUBLISHED_META
        from .encoders.checkpoints import CheckpointError

        for name, target in sorted(available().items()):
            try:
                m, note = load_encoder(name).meta, ""
            except CheckpointError:
                m, note = PUBLISHED_META[name], " [yellow](weights not found here: --checkpoint PATH)[/yellow]"
            except Exception as err:  # a plugin that fails to load is listed, not fatal
                table.add_row(name, "", "", "", "", "", f"[red]cannot load: {err}[/red] ({target})")
                continue
            table.add_row(name, str(m.sample_rate), f"{m.frame_rate:g}", str(m.dim), str(m.n_layers), m.licence, m.description + note)
    elif what == "tasks":
        from .tasks import TASKS

        for col in ("task", "kind", "classes", "primary metric", "lr", "batch", "description"):
            table.add_column(col)
        for t in TASKS.values():
            table.add_row(t.name, t.kind, str(t.n_classes), t.primary_metric, f"{t.lr:g}", str(t.batch_size), t.description)
        table.add_row(
            "icpc-transfer",
            "pairwise",
            "2",
            "accuracy_vote",
            "(PLD)",
            "(PLD)",
            "PLD expertise probe on Chopin Competition pairs (`pjbench transfer`)",
        )
        table.add_row(
            "pisa-player-level",
            "multiclass",
            "10",
            "accuracy",
            "1e-4",
            "4",
            "player level from video / audio / both (--modality, --sampling)",
        )
    elif what == "datasets":
        from .datasets import DATASETS

        table.add_column("dataset")
        table.add_column("description")
        for name, desc in DATASETS.items():
            table.add_row(name, desc)
        table.add_row("pisa", "PISA: 61 piano performances with video, player level 1-10 (pisa-player-level; needs --video-root)")
        table.add_row("--manifest FILE.csv", "your own recordings: id,path,split,label[,group]")
    elif what == "heads":
        from .heads import HEADS

        table.add_column("head")
        table.add_column("description")
        for name, desc in HEADS.items():
            table.add_row(name, desc)
    else:
        _fail(f"cannot list {what!r}; choose encoders, tasks, datasets or heads")
    console.print(table)


@app.command("validate-encoder")
def validate_encoder_cmd(
    encoder: Annotated[str, typer.Argument(help="encoder name or package.module:object")],
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="encoder option KEY=VALUE")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="pretrained weights (file or folder in the published layout)")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "cpu",
) -> None:
    """Check an encoder before benchmarking it: output shape against its declared frame rate and dimension,
    determinism, batch invariance, silence and very short input, NaNs; reports throughput and peak memory.
    Exits with status 1 if a check fails."""
    from .benchmark.extract import resolve_device
    from .benchmark.validate import validate_encoder
    from .encoders import load_encoder

    try:
        enc = load_encoder(encoder, **_encoder_options(option or []), **({"checkpoint": checkpoint} if checkpoint else {}))
        checks = validate_encoder(enc, device=str(resolve_device(device)))
    except (ValueError, RuntimeError, TypeError) as err:
        _fail(str(err))
    table = Table(title=f"validate-encoder {encoder}")
    for col in ("check", "result", "detail"):
        table.add_column(col)
    for c in checks:
        table.add_row(c.name, "[green]pass[/green]" if c.passed else "[red]FAIL[/red]", c.detail)
    console.print(table)
    if not all(c.passed for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    size: Annotated[str, typer.Option(help="synthetic dataset size: small (the benchmark) or tiny (a 4-minute check)")] = "small",
    encoder: Annotated[list[str] | None, typer.Option("--encoder", "-e", help="encoders to compare (repeat the option)")] = None,
    published_encoder: Annotated[
        list[str] | None, typer.Option("--published-encoder", help="encoders that also get the published head (costly on a CPU)")
    ] = None,
    seeds: Annotated[int, typer.Option(help="seeds per linear probe (cheap: the default 5, as probe)")] = 5,
    published_seeds: Annotated[int, typer.Option("--published-seeds", help="seeds for the published head")] = 5,
    published_epochs: Annotated[int, typer.Option("--published-epochs", help="max epochs for the published head at lr 1e-3")] = 8,
    results_dir: ResultsOpt = Path("results"),
) -> None:
    """The whole benchmark on the embedded dataset: synth -> extract -> probe every task -> leaderboard.

    Default: the mel baseline and the offline pretrained basicpitch encoder, each with the linear probe
    (lr 1e-3, up to 100 epochs, patience 15, 5 seeds), and mel also with the published conv+attention head.
    Sized for a 2-core CPU: the published head runs on inputs standardised with training statistics, at lr 1e-3,
    for at most 8 epochs (patience 3) and 5 seeds (at the paper's lr 5e-5 it needs hundreds of epochs; at 1e-3 it
    peaks within a few, then overfits). Validation chooses the epoch in every case. `pjbench probe` runs the
    paper's settings.
    """
    from .benchmark.extract import ExtractConfig
    from .benchmark.extract import extract as run_extract
    from .benchmark.probe import run_probe
    from .benchmark.train import TrainConfig
    from .datasets.synthetic.build import SynthConfig, build
    from .datasets.synthetic.dataset import load_synthetic
    from .encoders import load_encoder
    from .paths import cache_dir
    from .tasks import get_task

    encoders = encoder or ["mel", "basicpitch"]
    published = published_encoder if published_encoder is not None else ["mel"]
    console.rule(f"pjbench {__version__} demo: synthetic ({size}) x {', '.join(encoders)}")
    ds = load_synthetic(build(SynthConfig.for_size(size)))
    caches = {}
    for name in encoders:
        report = run_extract(ds, load_encoder(name), ExtractConfig(), cache_root=cache_dir())
        caches[name] = report.cache_path
        console.print(
            f"{name} cache: {report.cache_path} ({report.extracted} new, {report.already_done} cached, {len(report.skipped)} skipped)"
        )
    runs = [(name, TrainConfig("linear", tuple(range(seeds)), lr=1e-3, max_epochs=100, patience=15)) for name in encoders]
    runs += [
        (name, TrainConfig("published", tuple(range(published_seeds)), lr=1e-3, max_epochs=published_epochs, patience=3, standardize=True))
        for name in published
        if name in caches
    ]
    for name, cfg in runs:
        for task_name in ds.tasks:
            result = run_probe(ds, get_task(task_name, ds), caches[name], cfg, results_dir)
            s = result.scores[result.primary_metric]
            console.print(
                f"{name:10s} {task_name:22s} {cfg.head:9s} {result.primary_metric} = {100 * s['mean']:.1f} ± {100 * s['ci95']:.1f}"
                f"  (chance {100 * result.counts['chance']:.1f})"
            )
    _print_leaderboards(results_dir)


if __name__ == "__main__":
    app()
