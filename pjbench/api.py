"""pjbench's Python API: what each command does, callable from a notebook or a script. The CLI parses its options,
calls one of these and prints; nothing a second caller needs lives in the CLI.

    import pjbench
    ds = pjbench.get_dataset("synthetic-tiny")
    report = pjbench.extract(ds, pjbench.get_encoder("mel"))
    results = pjbench.probe(ds, report.cache_path, ["difficulty-3way"], heads=["linear"], seeds=2)
    board = pjbench.leaderboard("pjbench-results")  # {dataset: markdown}

Every function takes its options by keyword; defaults are the commands' defaults. Lines a person would read
(scores as they finish, notes) go to ``say`` and ``on_result`` callbacks: silent unless given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .hints import did_you_mean
from .paths import DEFAULT_RESULTS

if TYPE_CHECKING:
    from .datasets.base import Dataset
    from .encoders.base import Encoder
    from .experiments.pisa import PisaConfig
    from .extraction.extract import ExtractConfig, ExtractReport
    from .extraction.shards import Shard
    from .probing.config import TrainConfig
    from .probing.grid import ProbeJob
    from .results.record import TaskResult
    from .tasks import Task

Say = Callable[[str], None]
OnResult = Callable[[str, "TaskResult", bool], None]  # (label, result, ran: False when it was on record already)
ASSUMED = "synthetic"  # the dataset used when neither a name nor a manifest is given


class UsageError(ValueError):
    """A request naming something that does not exist (a task, a head, an encoder): the CLI exits 2 on it."""


def _quiet(_: str) -> None:
    return None


def get_dataset(
    name: str | None = None,
    *,
    manifest: Path | None = None,
    audio_root: Path | None = None,
    labels: Path | None = None,
    split_seed: int = 0,
    build: bool = False,
) -> Dataset:
    """A dataset by name (`pjbench list datasets`), a synthetic dataset folder or a manifest CSV; with neither name nor
    manifest, the embedded synthetic set. ``build``: render a synthetic set that is not there yet."""
    from .datasets import load_dataset

    return load_dataset(
        name or (None if manifest else ASSUMED),
        manifest,
        build_missing=build,
        audio_root=audio_root,
        labels_dir=labels,
        split_seed=split_seed,
    )


def get_encoder(name: str, *, checkpoint: str | None = None, **options: Any) -> Encoder:
    """An encoder by name (`pjbench list encoders`) or ``package.module:factory``, with its options; weights load from
    ``checkpoint`` or the local Hugging Face cache, never from the network."""
    from .encoders import available, load_encoder

    known = available()
    if name not in known and ":" not in name:
        raise UsageError(
            f"unknown encoder {name!r}{did_you_mean(name, known)}; known: {', '.join(sorted(known))} (or package.module:object)"
        )
    return load_encoder(name, **options, **({"checkpoint": checkpoint} if checkpoint else {}))


def get_tasks(dataset: Dataset, names: Sequence[str] = ("all",)) -> list[Task]:
    """The tasks ``names`` (registry names, aliases such as ``difficulty``, or ``all``: the dataset's) on ``dataset``."""
    from .tasks import ALIASES, TASKS, get_task

    wanted = list(dataset.tasks) if not names or list(names) == ["all"] else list(names)
    out = []
    for name in wanted:
        known = set(dataset.tasks) | set(ALIASES) | set(TASKS)
        if ALIASES.get(name, name) not in known and name != "pisa-player-level":
            note = ""
            if dataset.info.get("manifest"):
                note = f"; a manifest's task follows from how its labels are written (this one's: {', '.join(dataset.tasks)})"
            raise UsageError(f"unknown task {name!r}{did_you_mean(name, known)}; tasks of {dataset.name}: {', '.join(dataset.tasks)}{note}")
        out.append(get_task(name, dataset))
    return out


def get_heads(heads: str | Sequence[str] = "both") -> list[str]:
    """Head names: ``both`` (or ``all``) for every head, else the names given, each checked."""
    from .heads import HEADS

    names = list(HEADS) if heads in ("both", "all") else ([heads] if isinstance(heads, str) else list(heads))
    for name in names:
        if name not in HEADS:
            raise UsageError(f"unknown head {name!r}{did_you_mean(name, HEADS)}; choose {', '.join(HEADS)} or both")
    return names


def extract(
    dataset: Dataset,
    encoder: Encoder,
    *,
    config: ExtractConfig | None = None,
    cache_root: Path | None = None,
    shard: Shard | None = None,
    progress: bool = True,
    name: str | None = None,
) -> ExtractReport:
    """Embed every recording of ``dataset`` into its HDF5 cache (resumable); the report's ``cache_path`` is the file.
    ``name``: what the encoder was called (a plugin's ``pkg.mod:factory``), recorded so that ``probe`` finds the cache
    by that name as well as by the encoder's own."""
    from .extraction.extract import extract as run_extract
    from .paths import cache_dir

    root = cache_root or cache_dir()
    return run_extract(dataset, encoder, config, cache_root=root, shard=shard, progress=progress, encoder_spec=name)


def find_cache(dataset: Dataset, encoder: str, *, cache_root: Path | None = None, extract_hint: str | None = None) -> Path:
    """The cache of ``encoder`` for ``dataset`` under ``cache_root`` (the newest when several)."""
    from .encoders import available
    from .paths import cache_dir
    from .probing.probe import find_cache as find

    try:
        return find(dataset, encoder, cache_root or cache_dir(), extract_hint)
    except FileNotFoundError:
        known = available()
        if encoder not in known and ":" not in encoder:  # not a typo'd cache but a name nothing knows: say so
            raise UsageError(
                f"unknown encoder {encoder!r}{did_you_mean(encoder, known)} and no cache by that name for {dataset.name}; "
                f"known: {', '.join(sorted(known))} (or package.module:object)"
            ) from None
        raise


def probe(
    dataset: Dataset,
    caches: Path | dict[str, Path],
    tasks: Sequence[str] = ("all",),
    *,
    heads: str | Sequence[str] = "both",
    seeds: int = 5,
    schedule: str = "paper",
    lr: float | None = None,
    batch_size: int | None = None,
    weight_decay: float | None = None,
    epochs: int | None = None,
    patience: int | None = None,
    standardize: bool | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    results_dir: Path = DEFAULT_RESULTS,
    layers: str = "mix",
    jobs: int = 1,
    executor: str = "processes",
    cluster_options: dict[str, Any] | None = None,
    baselines: bool = True,
    allow_missing: bool = False,
    cache_root: Path | None = None,
    on_result: OnResult | None = None,
    say: Say = _quiet,
) -> list[TaskResult]:
    """Train probes on cached embeddings (``caches``: one cache, or {encoder: cache} for a grid), select on
    validation, score the test split once; results under ``results_dir``. ``layers="each"`` also probes each stored
    layer alone and writes a layer curve per task; ``baselines`` adds the shortcut rows the board lacks."""
    from .heads import head_fits
    from .probing.config import train_config
    from .probing.grid import ProbeJob, run_grid

    names = list(tasks) or ["all"]
    head_names = check_probe_request(names, heads, precision)
    if layers not in ("mix", "each"):
        raise UsageError(f"--layers must be mix or each, not {layers!r}")
    chosen = get_tasks(dataset, names)
    refusals = dataset.info.get("label_refusals", [])
    if refusals:  # found when the label file was read (datasets/labels.py); before any training
        raise ValueError(
            f"{dataset.info.get('manifest', dataset.name)}: " + "; ".join(refusals) + " (`pjbench data check` lists every finding)"
        )
    by_encoder = caches if isinstance(caches, dict) else {"": Path(caches)}
    grid = []
    for cache_path in by_encoder.values():
        n_layers = _layers_to_probe(layers, cache_path)
        frames, dims = _input_shape(cache_path)
        for h in head_names:
            cfg = train_config(h, seeds, schedule, lr, batch_size, weight_decay, epochs, patience, standardize, device, precision)
            for t in chosen:
                for k in [None, *range(n_layers)]:  # the layer mix first: the board's row
                    why = head_fits(h, frames * t.kind.inputs_per_example, dims[k])
                    if why is not None:  # said once per head and task; the other jobs run
                        if k is None:
                            say(f"skipped: the {h} head on {t.name} ({cache_path.name}): {why}")
                        continue
                    grid.append(ProbeJob(dataset, t.name, cache_path, cfg, results_dir, allow_missing, layer=k))

    def heard(job: ProbeJob, result: TaskResult, ran: bool) -> None:
        if on_result is not None:
            layer = "" if job.layer is None else f" layer {job.layer}"
            prefix = f"{result.encoder} " if len(by_encoder) > 1 else ""
            on_result(f"{prefix}{job.task} {result.label}{layer}", result, ran)

    results = run_grid(grid, jobs, executor, cluster_options=cluster_options, on_result=heard)
    for csv_path, png_path in write_layer_curves(results, results_dir):
        say(f"layer curve: {csv_path} and {png_path.name}")
    if baselines:  # every board carries its shortcut rows (made once per dataset and task)
        probe_baselines(
            dataset, [t.name for t in chosen], seeds=seeds, cache_root=cache_root, results_dir=results_dir, only_missing=True,
            allow_missing=allow_missing, on_result=on_result,
        )  # fmt: skip
    return results


def check_labels(dataset: Dataset) -> None:
    """Refuse labels no probe can learn from (one class in training, classes differing by case: datasets/labels.py),
    found when the label file was read; before any cache is looked for or any training."""
    refusals = dataset.info.get("label_refusals", [])
    if refusals:
        raise ValueError(
            f"{dataset.info.get('manifest', dataset.name)}: " + "; ".join(refusals) + " (`pjbench data check` lists every finding)"
        )


def check_probe_request(tasks: Sequence[str], heads: str | Sequence[str], precision: str = "fp32") -> list[str]:
    """What can be checked of a probe request before any data is read: no task has a command of its own (PISA), the
    training precision is one training offers, and the heads exist (their names returned)."""
    from .probing.config import check_train_precision

    if any(n.startswith("pisa-") for n in tasks):
        raise UsageError(
            "the PISA player level has its own command: `pjbench pisa --modality video|audio|multimodal` (see `pjbench pisa --help`)"
        )
    try:
        check_train_precision(precision)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return get_heads(heads)


def _input_shape(cache_path: Path) -> tuple[int, dict[int | None, int]]:
    """A cache's frames per segment, and the dimensions a probe of each stored layer sees (None: all of them)."""
    from .extraction.cache import CacheReader, stored_layers

    reader = CacheReader(cache_path)
    try:
        ids = reader.ids()
        if not ids:
            raise ValueError(f"{cache_path}: no recordings")
        _, _, frames, dim = reader.get(ids[0]).embeddings.shape
        n = stored_layers(reader)
        per_layer = list(reader.layer_dims) if reader.layer_dims else [dim] * n
    finally:
        reader.close()
    return frames, {None: dim, **dict(enumerate(per_layer))}


def _layers_to_probe(layers: str, cache_path: Path) -> int:
    """0 for ``mix``; for ``each``, the number of layers the cache stores (at least two)."""
    if layers == "mix":
        return 0
    from .extraction.cache import CacheReader, stored_layers

    reader = CacheReader(cache_path)
    try:
        n = stored_layers(reader)
    finally:
        reader.close()
    if n < 2:
        raise ValueError(f"--layers each: {cache_path} stores one layer; extract with --layer all for a layer curve")
    return n


def write_layer_curves(results: list[TaskResult], results_dir: Path) -> list[tuple[Path, Path]]:
    """Per encoder, task and head probed layer by layer: the curve (CSV and PNG) beside the mix's result."""
    from .reporting.layer_curves import write_layer_curve

    groups: dict[tuple[str, str, str], list[TaskResult]] = {}
    for r in results:
        groups.setdefault((r.encoder, r.task, r.label), []).append(r)
    written = []
    for members in groups.values():
        per_layer = [r for r in members if r.layer is not None]
        if per_layer:
            mix = next((r for r in members if r.layer is None), None)
            written.append(write_layer_curve(per_layer, mix, results_dir))
    return written


def probe_baselines(
    dataset: Dataset,
    tasks: Sequence[str] = ("all",),
    *,
    seeds: int = 5,
    cache_root: Path | None = None,
    results_dir: Path = DEFAULT_RESULTS,
    only_missing: bool = False,
    allow_missing: bool = False,
    on_result: OnResult | None = None,
) -> list[TaskResult]:
    """The shortcut baseline rows (duration, loudness, the synthetic set's nuisance draws) of ``tasks``, each probed
    like an encoder (linear head, schedule paper); with ``only_missing``, those not yet on the board."""
    from .extraction.baselines import applicable, build_caches
    from .paths import cache_dir
    from .probing.config import train_config
    from .probing.probe import run_probe

    cfg = train_config("linear", seeds, "paper", device="cpu")
    chosen = get_tasks(dataset, tasks)
    check_labels(dataset)

    def wanted(baseline: str, task: Task) -> bool:
        return not only_missing or not (results_dir / dataset.name / baseline / f"{task.name}.{cfg.head}-{cfg.schedule}.json").exists()

    todo = [(b.name, t) for b in applicable(dataset) for t in chosen if wanted(b.name, t)]
    if not todo:
        return []
    built = build_caches(dataset, cache_root or cache_dir())
    results = []
    for name, t in todo:
        result = run_probe(dataset, t, built[name], cfg, results_dir, allow_missing=allow_missing)
        results.append(result)
        if on_result is not None:
            on_result(f"{name} (baseline) {t.name}", result, True)
    return results


def transfer(
    *,
    encoder: str = "mel",
    pld_audio_root: Path | None = None,
    pld_labels: Path | None = None,
    icpc_audio_root: Path | None = None,
    icpc_labels: Path | None = None,
    train: TrainConfig | None = None,
    part_segments: int = 30,
    fit_epochs: int = 5,
    split_seed: int = 0,
    cache_root: Path | None = None,
    results_dir: Path = DEFAULT_RESULTS,
) -> TaskResult:
    """The PLD expertise-2way probe judges ICPC-2015 candidate pairs; candidates ranked by win count."""
    from .datasets import load_dataset
    from .experiments.icpc_transfer import TransferConfig, run_transfer
    from .probing.config import train_config

    pld = load_dataset("pld-expertise", build_missing=False, audio_root=pld_audio_root, labels_dir=pld_labels, split_seed=split_seed)
    icpc = load_dataset("icpc2015", build_missing=False, audio_root=icpc_audio_root, labels_dir=icpc_labels)
    hint = "pjbench extract --encoder {} --dataset {}{}"
    source = find_cache(pld, encoder, cache_root=cache_root, extract_hint=hint.format(encoder, "pld-expertise", _root(pld_audio_root)))
    target = find_cache(icpc, encoder, cache_root=cache_root, extract_hint=hint.format(encoder, "icpc2015", _root(icpc_audio_root)))
    cfg = train or train_config("linear", 5)
    return run_transfer(pld, source, icpc, target, cfg, TransferConfig(part_segments, fit_epochs), results_dir)


def _root(audio_root: Path | None) -> str:
    return f" --audio-root {audio_root}" if audio_root else ""


def pisa(
    request: dict[str, Any], config: PisaConfig, *, cache_root: Path | None = None, results_dir: Path = DEFAULT_RESULTS, say: Say = _quiet
) -> TaskResult:
    """PISA player level; ``request`` names the data: ``dataset`` (pisa, or a synthetic set with keyboard videos),
    ``video_root`` and ``labels`` (pisa), ``split_seed``."""
    from .datasets import DATASETS
    from .datasets.pisa import load_synthetic_pisa
    from .experiments.pisa import run_pisa

    if request["dataset"] == "pisa":
        if request.get("video_root") is None:
            raise UsageError("--dataset pisa needs --video-root DIR (the PISA videos; annotations from --labels or DIR/labels)")
        labels = Path(request["labels"]) if request.get("labels") else None
        ds = DATASETS["pisa"].load(Path(request["video_root"]), labels, request.get("split_seed", 0))
        if ds.missing:
            say(f"{len(ds.missing)} of {ds.info['n_label_rows']} performances have no video")
    else:
        if request["dataset"] not in DATASETS and not Path(request["dataset"]).is_dir():
            raise UsageError(f"unknown dataset {request['dataset']!r}{did_you_mean(request['dataset'], DATASETS)}; pisa or a synthetic set")
        root, name = _synthetic_video_root(request["dataset"], say)
        ds = load_synthetic_pisa(root, name)
    return run_pisa(ds, config, cache_root, results_dir, request=request)


def _synthetic_video_root(dataset: str, say: Say) -> tuple[Path, str]:
    """A synthetic dataset's folder with its keyboard videos, rendered on first use."""
    from .datasets import load_dataset
    from .datasets.synthetic.video import ANNOTATIONS, build_videos

    ds = load_dataset(dataset)
    assert ds.root is not None
    if not (ds.root / ANNOTATIONS).exists():
        say(f"rendering the keyboard videos of {ds.name} (once)")
        build_videos(ds.root)
    return ds.root, f"{ds.name}-video"


DEMO_DATASETS = ("synthetic", "percepiano")


def demo(
    *,
    size: str = "small",
    dataset: str = "synthetic",
    encoders: Sequence[str] = ("mel",),
    published_encoders: Sequence[str] = ("mel",),
    published_schedules: Sequence[str] = ("fast",),
    seeds: int = 5,
    baselines: bool = True,
    results_dir: Path = DEFAULT_RESULTS,
    on_result: OnResult | None = None,
    say: Say = _quiet,
) -> list[TaskResult]:
    """The whole benchmark on an embedded dataset (``dataset``: the synthetic set of ``size``, or PercePiano's rendered
    performances): render, extract, every task with the linear head (paper schedule) and, for ``published_encoders``,
    the published head on each of ``published_schedules``: on the CPU-sized ``fast`` one beside the linear head on
    the same budget, on ``paper`` as the paper trained it; the shortcut baselines."""
    from .datasets.synthetic.build import SynthConfig, build
    from .datasets.synthetic.dataset import load_synthetic
    from .extraction.extract import ExtractConfig
    from .probing.config import train_config
    from .probing.probe import run_probe

    if dataset not in DEMO_DATASETS:
        raise UsageError(f"demo --dataset {dataset!r}: choose one of {', '.join(DEMO_DATASETS)}")
    unknown = set(published_schedules) - {"fast", "paper"}
    if unknown:
        raise UsageError(f"demo: published schedules {sorted(unknown)}: choose fast or paper")
    ds = load_synthetic(build(SynthConfig.for_size(size))) if dataset == "synthetic" else get_dataset(dataset, build=True)
    if dataset == "synthetic" and size == "tiny":
        say(
            f"note: the tiny set has {len(ds.split('test'))} test clips: its scores show that the pipeline runs, not how good an "
            "encoder is (its intervals are wide and its rows mostly tied); `pjbench demo` runs the small set the "
            "leaderboard is made on"
        )
    caches = {}
    for name in encoders:
        report = extract(ds, get_encoder(name), config=ExtractConfig())
        caches[name] = report.cache_path
        say(f"{name} cache: {report.cache_path} ({report.extracted} new, {report.already_done} cached, {len(report.skipped)} skipped)")
    tasks = get_tasks(ds)
    linear = [(name, train_config("linear", seeds, "paper", device="cpu")) for name in encoders]
    # both heads under one budget, so that the board can say which is the stronger
    published = [n for n in published_encoders if n in caches]
    fast = [(n, train_config(h, seeds, "fast", device="cpu")) for n in published for h in ("linear", "published")]
    paper = [(n, train_config("published", seeds, "paper", device="cpu")) for n in published]
    results: list[TaskResult] = []

    def probe_each(runs: list[tuple[str, TrainConfig]]) -> None:
        for name, cfg in runs:
            for task in tasks:
                result = run_probe(ds, task, caches[name], cfg, results_dir)
                results.append(result)
                if on_result is not None:
                    on_result(f"{name} {task.name} {result.label}", result, True)

    probe_each(linear)
    if baselines:  # before the costly published head
        results += probe_baselines(ds, seeds=seeds, results_dir=results_dir, on_result=on_result)
    if "fast" in published_schedules:
        probe_each(fast)
    if "paper" in published_schedules:
        probe_each(paper)
    return results


def rerun(
    result: TaskResult | Path, *, results_dir: Path = DEFAULT_RESULTS, cache_root: Path | None = None, cache: Path | None = None
) -> TaskResult:
    """The configuration a result records, run again (dataset and split, cache, task, head, seeds, schedule); compare
    its ``per_seed`` with the recorded one's (``results.record.score_differences``)."""
    from .heads import infer_schedule
    from .probing.config import TrainConfig
    from .results.record import TaskResult
    from .tasks import TASKS

    recorded = result if isinstance(result, TaskResult) else TaskResult.load(Path(result))
    config = recorded.config
    runner = TASKS[recorded.task].kind.runner if recorded.task in TASKS else "probe"
    if runner == "pisa":
        from .experiments.pisa import PisaConfig

        if "request" not in config:
            raise ValueError("this PISA result predates recorded requests: run `pjbench pisa` with the options in its config.pisa")
        return pisa(config["request"], _dataclass_from(PisaConfig, config["pisa"]), cache_root=cache_root, results_dir=results_dir)
    # results written before schedules had names: name theirs, so the rerun lands beside its own kind
    # (their batch size is recorded resolved, the task's, so it does not tell a custom one)
    unnamed = {k: v for k, v in config["train"].items() if k != "batch_size"}
    # results written before each seed drew its own data order trained every seed in order_seed's order
    recorded_train = {"data_order": "shared", **config["train"]}
    train = _dataclass_from(TrainConfig, {**recorded_train, "schedule": config["train"].get("schedule") or infer_schedule(unnamed)})
    if runner == "transfer":
        from .experiments.icpc_transfer import TransferConfig, run_transfer

        source, target = dataset_from_record(config["source"]["dataset"]), dataset_from_record(config["target"]["dataset"])
        caches = [_existing(Path(config["source"]["cache"])), _existing(Path(config["target"]["cache"]))]
        return run_transfer(source, caches[0], target, caches[1], train, _dataclass_from(TransferConfig, config["transfer"]), results_dir)
    from .probing.probe import run_probe
    from .tasks import get_task

    ds = dataset_from_record(config["dataset"])
    task = get_task(config["task"]["name"], ds)
    # results from before the coverage check were made on whatever the cache held
    allow_missing = config.get("allow_missing", True)
    return run_probe(
        ds,
        task,
        _existing(cache or Path(config["cache"]["path"])),
        train,
        results_dir,
        allow_missing=allow_missing,
        layer=config.get("layer"),
    )


def _dataclass_from(cls: Any, values: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})


def dataset_from_record(record: dict[str, Any]) -> Dataset:
    """The dataset a result's ``config.dataset`` describes: a manifest, a synthetic set (its folder, or the same set
    rendered here), or a registered dataset with its audio root, labels and split seed."""
    from .datasets import load_dataset

    if record.get("manifest"):
        return load_dataset(manifest=Path(record["manifest"]))
    if record.get("root") and record.get("synthetic_config"):
        if Path(record["root"]).is_dir():
            return load_dataset(record["root"])
        from .datasets.synthetic.build import SynthConfig, build
        from .datasets.synthetic.dataset import load_synthetic

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


def boards(
    results_dirs: Path | Sequence[Path] = DEFAULT_RESULTS,
    *,
    tasks: Sequence[str] | None = None,
    verify: bool = True,
    progress: bool = False,
) -> Any:
    """The boards of one or several results folders and bundles (``.tar.gz`` from `export`), not yet written: one
    per dataset and data fingerprint, each row with its source, rows verified from their predictions (``verify``)."""
    from .reporting.leaderboard import make_boards

    return make_boards(results_dirs, tasks=tasks, verify=verify, progress=progress)


def leaderboard(
    results_dirs: Path | Sequence[Path] = DEFAULT_RESULTS, *, tasks: Sequence[str] | None = None, verify: bool = True, made: Any = None
) -> dict[str, str]:
    """Each board as markdown {board: text}, written as leaderboard.md and .csv into the first results folder that
    can be written (pjbench's committed results and bundles are only read); ``made``: boards from `boards`."""
    from .reporting.leaderboard import write_boards

    return write_boards(made or boards(results_dirs, tasks=tasks, verify=verify))


def leaderboard_pages(results_dirs: Path | Sequence[Path] = DEFAULT_RESULTS, *, made: Any = None, verify: bool = True) -> dict[str, Path]:
    """Write each board's static HTML page (sortable board, intervals, metadata, plots); {board: page}."""
    from .reporting.html_board import write_html

    made = made or boards(results_dirs, verify=verify)
    if made.folder is None:
        raise ValueError(
            f"{', '.join(s.label for s in made.sources)}: pjbench's committed reference results and bundles are only read; add a "
            "results folder of yours (--results-dir) for the page"
        )
    return write_html(made)


def compare_results(a: Path, b: Path, *, metrics: Sequence[str] | None = None, split: str = "test") -> list[Any]:
    """Is result A better than B? Paired bootstrap over the same test groups and both results' seeds, per metric
    (default: the task's primary): the difference, its 95% interval, a p-value and a verdict."""
    from .reporting import compare as cmp

    first, second = cmp.load_scored(Path(a), split), cmp.load_scored(Path(b), split)
    chosen = list(metrics or [first.result.primary_metric])
    return cmp.settled(lambda i, r: cmp.paired(first, second, [chosen[i]], r)[0], len(chosen))  # Holm over the metrics asked for


def compare_folder(
    folder: Path | Sequence[Path], *, split: str = "test", metric: str | None = None
) -> tuple[list[Any], list[tuple[Path, str]]]:
    """Every pair of results under ``folder`` (or several folders and bundles) per dataset, data fingerprint and task,
    Holm-corrected; and the result files that could not be compared, with the reason."""
    from .reporting import compare as cmp
    from .reporting.sources import open_sources

    folders = [Path(folder)] if isinstance(folder, (str, Path)) else [Path(f) for f in folder]
    found = [p for s in open_sources(folders) for p in sorted(s.folder.glob("**/*.json"))]
    paths, skipped = _with_predictions(found)
    return cmp.compare_all(paths, split, metric), skipped


def _with_predictions(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Result files that keep per-item predictions; the others with the reason they cannot be compared."""
    from .results.record import TaskResult

    kept, skipped = [], []
    for path in paths:
        if path.name.endswith(".predictions.json") or path.parent.name == "splits":
            continue
        try:
            result = TaskResult.load(path)
        except (ValueError, TypeError, KeyError):
            continue  # not a result file (a split list, a config)
        if result.predictions:
            kept.append(path)
        else:
            skipped.append((path, "no per-item predictions on record (rerun it with this pjbench)"))
    return kept, skipped


__all__ = [
    "UsageError",
    "boards",
    "compare_folder",
    "compare_results",
    "demo",
    "extract",
    "find_cache",
    "get_dataset",
    "get_encoder",
    "get_heads",
    "get_tasks",
    "leaderboard",
    "leaderboard_pages",
    "pisa",
    "probe",
    "probe_baselines",
    "rerun",
    "transfer",
]
