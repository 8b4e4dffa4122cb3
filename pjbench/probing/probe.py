"""Probe one task on cached embeddings over several seeds, and write the result record."""

from __future__ import annotations

import csv
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..allocator import keep_freed_memory
from ..datasets.base import SPLITS, Dataset
from ..datasets.fingerprint import fingerprint
from ..extraction.cache import CacheReader, LayerView, dataset_identity, encoder_specs, encoder_stats, stored_identity
from ..extraction.shards import shard_of
from ..hashing import file_sha256
from ..heads import get_head, infer_schedule
from ..results import predictions
from ..results.plots import plot_for
from ..results.record import TaskResult, build_result, check_same_data, check_writable, result_file, summed_confusion
from ..scoring import bootstrap
from ..tasks import Task
from .config import TrainConfig
from .feeders import FEEDERS, Feeder
from .train import deterministic_torch, train_seeds

log = logging.getLogger(__name__)


def find_cache(dataset: Dataset, encoder_name: str, cache_root: Path, extract_hint: str | None = None) -> Path:
    """The newest cache of ``encoder_name`` for ``dataset``; ``extract_hint`` is the command that would make one."""
    folder = cache_root / dataset.name
    found = sorted(folder.glob(f"{encoder_name}-*.h5"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
    if not found and folder.exists():  # a plugin named as extracted ("pkg.mod:factory"), its file named by its meta name
        named = [p for p in folder.glob("*.h5") if encoder_name in encoder_specs(p)]
        found = sorted(named, key=lambda p: p.stat().st_mtime)
    identity = dataset_identity(dataset)
    if identity:  # a manifest's dataset: only caches of that manifest (two projects' manifest.csv share a folder)
        found = [p for p in found if stored_identity(p) in (identity, None)]
    shards = [p for p in found if shard_of(p) is not None]
    found = [p for p in found if shard_of(p) is None]  # a shard holds a share: probes read the merged cache
    if not found and shards:
        raise FileNotFoundError(f"{folder} holds only shards of the {encoder_name} cache; run `pjbench cache merge {shards[0]}` first")
    if not found:
        hint = extract_hint or f"pjbench extract --encoder {encoder_name} --dataset {dataset.name}"
        raise FileNotFoundError(f"no {encoder_name} cache for dataset {dataset.name} under {folder}; run `{hint}` first")
    if len(found) > 1:
        # caches of one encoder differ by its options (log or power mel, pooling, layer): name what each holds,
        # since the newest is not always the one meant
        log.warning(
            "several %s caches for %s: %s; using the newest, %s (choose with --cache)",
            encoder_name,
            dataset.name,
            "; ".join(f"{p.name} ({_cache_summary(p)})" for p in found),
            found[-1].name,
        )
    return found[-1]


def _cache_summary(path: Path) -> str:
    try:
        reader = CacheReader(path)
    except (OSError, KeyError, ValueError) as err:
        return f"unreadable: {err}"
    config = reader.config
    reader.close()
    return f"{config['encoder'].get('description', config['encoder'].get('name'))}, pool {config.get('pool')}, layer {config.get('layer')}"


def split_examples(task: Task, dataset: Dataset, available: set[str]) -> tuple[dict[str, list], dict[str, int]]:
    """Examples per split, dropping those whose recordings are not in the cache (counted)."""
    splits, dropped = {}, {}
    for split in SPLITS:
        examples = task.examples(task.recordings(dataset, split), dataset.pair_group)
        kept = [ex for ex in examples if all(i in available for i in ex.ids)]
        splits[split] = kept
        dropped[split] = len(examples) - len(kept)
        if not kept:
            raise ValueError(f"task {task.name} on {dataset.name}: no {split} examples with cached embeddings")
    return splits, dropped


def make_feeder(cfg: TrainConfig, reader: CacheReader, splits: dict[str, list]) -> Feeder:
    """The head's input pipeline; normalisation statistics come from the training split only."""
    return FEEDERS[get_head(cfg.head).feeder](cfg, reader, splits)


def check_coverage(
    task: Task, dataset: Dataset, reader: CacheReader, splits: dict[str, list], dropped: dict[str, int], allow_missing: bool
) -> None:
    """Refuse embeddings of other audio than the dataset's, and (unless ``allow_missing``) splits that lost examples
    to recordings missing from the cache; say what was left out either way."""
    used = {i for examples in splits.values() for ex in examples for i in ex.ids}
    stale = reader.stale(r for r in dataset.recordings if r.id in used)
    if stale:
        first = next(iter(stale))
        raise ValueError(
            f"{reader.path}: {len(stale)} recording(s) of {dataset.name} were embedded from other audio than the dataset "
            f"has now (e.g. {first}: {stale[first]}); run `pjbench extract` on this dataset again: it embeds exactly those anew"
        )
    if not any(dropped.values()):
        return
    counts = ", ".join(f"{n} of {n + len(splits[split])} {split}" for split, n in dropped.items() if n)
    if not allow_missing:
        raise ValueError(
            f"task {task.name} on {dataset.name}: {counts} examples need recordings that {reader.path} lacks (not extracted "
            "yet, or skipped as unreadable: `pjbench cache verify` lists them); run `pjbench extract` to complete the cache, or "
            "pass --allow-missing to probe without them"
        )
    log.warning(
        "%s on %s: %s examples left out (--allow-missing): their recordings are not in %s", task.name, dataset.name, counts, reader.path
    )


def check_targets(task: Task, dataset: Dataset, splits: dict[str, list]) -> None:
    """Refuse a training split whose examples all have one target (the probe would learn the constant and score
    chance); warn of test classes that training never shows."""
    train = Counter(repr(ex.target) for ex in splits["train"])
    if len(train) == 1:
        raise ValueError(
            f"task {task.name} on {dataset.name}: all {len(splits['train'])} training examples have the same target "
            f"({next(iter(train))}): a probe learns nothing from them; `pjbench data check` shows the labels per split"
        )
    unseen = Counter(repr(ex.target) for ex in splits["test"] if repr(ex.target) not in train)
    if unseen and task.kind.name not in ("multilabel", "regression"):  # sets and ratings: every value new is normal
        log.warning(
            "%s on %s: %d test example(s) of target(s) %s that no training example has",
            task.name,
            dataset.name,
            sum(unseen.values()),
            sorted(unseen),
        )


def run_probe(
    dataset: Dataset,
    task: Task,
    cache_path: Path,
    cfg: TrainConfig,
    results_dir: Path,
    progress: bool = True,
    allow_missing: bool = False,
    layer: int | None = None,
) -> TaskResult:
    """Train and score ``task``'s probes on one cache; ``allow_missing`` probes the examples whose recordings are
    cached when some are not (else that is an error); ``layer`` probes that stored layer alone (else every stored
    layer, through the heads' learned layer mix)."""
    started = time.perf_counter()
    check_writable(results_dir)  # before the training, not after it
    whole = CacheReader(cache_path)
    reader: Any = whole if layer is None else LayerView(whole, layer)
    data = fingerprint(dataset)
    variant = cfg.schedule or infer_schedule(cfg.record())
    try:
        label = f"{cfg.head}-{variant}" if variant else cfg.head
        target = result_file(results_dir, dataset.name, reader.config["encoder"]["name"], task.name, label, layer)
        check_same_data(target, data["digest"])  # before the training: another dataset's result of this name stays
        splits, dropped = split_examples(task, dataset, set(reader.ids()))
        check_coverage(task, dataset, reader, splits, dropped, allow_missing)
        check_targets(task, dataset, splits)
        feeder = make_feeder(cfg, reader, splits)
        deterministic_torch()
        keep_freed_memory()
        seeds = [outcome for _, outcome in train_seeds(task, feeder, splits, cfg, progress=progress)]
        outcomes = [s.record() for s in seeds]
        encoder_config = reader.config
        stats = encoder_stats(whole.attrs)
    finally:
        whole.close()
    groups = {r.id: r.groups for r in dataset.recordings}
    scores, intervals = bootstrap.task_scores(
        task,
        [(splits["test"], s.probabilities["test"]) for s in seeds],
        [(ex.ids, [groups.get(i, {}) for i in ex.ids]) for ex in splits["test"]],
        task.resample_group or dataset.resample_group,
        outcomes,
        stream=bootstrap.seed_stream_of(encoder_config["encoder"]["name"], cfg.head),
    )
    config: dict[str, Any] = {
        "train": {**cfg.record(), "lr": cfg.lr_for(task), "batch_size": cfg.batch_size_for(task)},
        "cache": {"path": str(cache_path), **encoder_config},
        "task": {
            "name": task.name,
            "kind": task.kind.name,
            "classes": list(task.classes),
            "pair_group": dataset.pair_group,
            "primary_metric": task.primary_metric,
            "ordinal": task.ordinal,
            "class_values": list(task.class_values) if task.class_values else None,
        },
        "dataset": dataset_record(dataset, task.resample_group),
        "provenance": provenance(dataset, cache_path),
        "allow_missing": allow_missing,
        **({"layer": layer} if layer is not None else {}),
    }
    result = build_result(
        dataset=dataset.name,
        encoder=encoder_config["encoder"]["name"],
        task=task.name,
        head=cfg.head,
        primary_metric=task.primary_metric,
        per_seed=outcomes,
        config=config,
        encoder_meta={**encoder_config["encoder"], **stats},
        counts={
            **{f"n_{k}": len(v) for k, v in splits.items()},
            **{f"dropped_{k}": v for k, v in dropped.items()},
            "chance": task.chance(splits["test"]),
            "chance_levels": task.chance_levels(splits["test"]),
            **(
                {"n_label_rows": dataset.info["n_label_rows"], "n_missing_audio": dataset.info["n_missing_audio"]}
                if "n_label_rows" in dataset.info
                else {}
            ),
        },
        started=started,
        confusion=summed_confusion([s.test_confusion for s in seeds]),
        classes=list(task.classes),
        scores=scores,
        intervals=intervals,
        variant=variant,
        layer=layer,
        fingerprint=data,
    )
    rows = (
        row
        for s in seeds
        for split in ("val", "test")
        for row in predictions.records(s.seed, split, splits[split], s.probabilities[split], groups)
    )
    target = result.path(results_dir)
    check_writable(results_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    result.predictions = predictions.write(predictions_path(target), rows)
    result.save(results_dir, plot=plot_for)
    save_splits(dataset, results_dir)
    return result


def dataset_record(dataset: Dataset, resample_group: Any = None) -> dict[str, Any]:
    """How the dataset was read and split: enough to rebuild the same split (``resample_group``: the task's own
    groups for intervals, where it has them)."""
    record: dict[str, Any] = {"name": dataset.name, "resample_group": resample_group or dataset.resample_group}
    keys = ("split_rule", "split_seed", "split_hash", "audio_root", "labels_dir", "manifest", "n_label_rows", "n_missing_audio")
    record.update({k: dataset.info[k] for k in keys if k in dataset.info})
    if "config" in dataset.info:  # the synthetic set: its generator config and where it lies
        record["synthetic_config"] = dataset.info["config"]
        record["root"] = str(dataset.root)
    return record


_SHA256: dict[tuple[str, int, float], str] = {}


def sha256_of(path: Path) -> str:
    """A file's sha256, memoised per (path, size, mtime): a board of tasks hashes its cache once."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime)
    if key not in _SHA256:
        _SHA256[key] = file_sha256(path)
    return _SHA256[key]


def provenance(dataset: Dataset, cache_path: Path) -> dict[str, Any]:
    """What the numbers depend on beyond the configuration: the embeddings file's sha256, the label file's (a
    manifest) and, for the synthetic set, the generator version and the soundfonts that rendered it."""
    out: dict[str, Any] = {"cache_sha256": sha256_of(cache_path)}
    manifest = dataset.info.get("manifest") or (dataset.root / "manifest.csv" if dataset.root and "config" in dataset.info else None)
    if manifest and Path(manifest).is_file():
        out["manifest_sha256"] = sha256_of(Path(manifest))
    if "config" in dataset.info:  # the synthetic set
        out["generator_version"] = dataset.info.get("generator_version")
        out["soundfonts"] = [
            {"name": t.get("name"), "file": Path(t.get("path", "")).name, "sha256": t.get("sha256")}
            for t in dataset.info.get("timbres", [])
        ]
    return out


def save_splits(dataset: Dataset, results_dir: Path) -> Path | None:
    """results/<dataset>/splits-<hash>.csv: every label row's split, so a result can be reproduced on it."""
    assignment, digest = dataset.info.get("splits"), dataset.info.get("split_hash")
    if not assignment or not digest:
        return None
    out = results_dir / dataset.name / f"splits-{digest}.csv"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "split"])
            writer.writerows(sorted(assignment.items()))
    return out


def predictions_path(result_path: Path) -> Path:
    """``<task>.<head>.predictions.jsonl.gz`` beside ``<task>.<head>.json``."""
    return result_path.with_name(result_path.stem + predictions.SUFFIX)
