"""Probe one task on cached embeddings over several seeds, and write the result record."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..datasets.base import SPLITS, Dataset
from ..tasks import Task, build_examples
from .cache import CacheReader
from .feeders import Feeder, PooledFeeder, SegmentFeeder
from .metrics import mean_ci
from .results import TaskResult, environment
from .train import TrainConfig, train_seed

log = logging.getLogger(__name__)


def find_cache(dataset: Dataset, encoder_name: str, cache_root: Path) -> Path:
    folder = cache_root / dataset.name
    found = sorted(folder.glob(f"{encoder_name}-*.h5"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
    if not found:
        raise FileNotFoundError(
            f"no {encoder_name} cache for dataset {dataset.name} under {folder}; run `pjbench extract --encoder {encoder_name} --dataset {dataset.name}` first"
        )
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
        examples = build_examples(task, dataset.split(split), dataset.pair_group)
        kept = [ex for ex in examples if all(i in available for i in ex.ids)]
        splits[split] = kept
        dropped[split] = len(examples) - len(kept)
        if not kept:
            raise ValueError(f"task {task.name} on {dataset.name}: no {split} examples with cached embeddings")
    return splits, dropped


def make_feeder(cfg: TrainConfig, reader: CacheReader, splits: dict[str, list]) -> Feeder:
    """The head's input pipeline; normalisation statistics come from the training split only."""
    train_ids = sorted({i for ex in splits["train"] for i in ex.ids})
    if cfg.head == "published":
        return SegmentFeeder(reader, cfg.max_segments, train_ids if cfg.standardize else None)
    if cfg.head == "linear":
        ids = sorted({i for exs in splits.values() for ex in exs for i in ex.ids})
        return PooledFeeder(reader, ids, train_ids)
    raise ValueError(f"unknown head {cfg.head!r}; choose published or linear")


def run_probe(dataset: Dataset, task: Task, cache_path: Path, cfg: TrainConfig, results_dir: Path, progress: bool = True) -> TaskResult:
    start = time.perf_counter()
    reader = CacheReader(cache_path)
    try:
        splits, dropped = split_examples(task, dataset, set(reader.ids()))
        feeder = make_feeder(cfg, reader, splits)
        torch.use_deterministic_algorithms(True, warn_only=True)
        outcomes = [train_seed(task, feeder, splits, cfg, seed, progress) for seed in cfg.seeds]
        encoder_config = reader.config
    finally:
        reader.close()

    metric_names = sorted(outcomes[0].test)
    scores = {}
    for m in metric_names:
        mean, ci = mean_ci([o.test[m] for o in outcomes])
        scores[m] = {"mean": mean, "ci95": ci}
    conf = None
    if outcomes[0].test_confusion is not None:
        conf = np.sum([np.array(o.test_confusion) for o in outcomes], axis=0).tolist()
    config: dict[str, Any] = {
        "train": {**asdict(cfg), "lr": cfg.lr if cfg.lr is not None else task.lr, "batch_size": cfg.batch_size or task.batch_size},
        "cache": {"path": str(cache_path), **encoder_config},
        "task": {"name": task.name, "kind": task.kind, "classes": list(task.classes), "pair_group": dataset.pair_group},
        "dataset": dataset_record(dataset),
    }
    config["hash"] = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]
    result = TaskResult(
        dataset=dataset.name,
        encoder=encoder_config["encoder"]["name"],
        task=task.name,
        head=cfg.head,
        primary_metric=task.primary_metric,
        scores=scores,
        per_seed=[asdict(o) for o in outcomes],
        config=config,
        encoder_meta=encoder_config["encoder"],
        counts={
            **{f"n_{k}": len(v) for k, v in splits.items()},
            **{f"dropped_{k}": v for k, v in dropped.items()},
            "chance": chance_level(task, splits["test"]),
            **(
                {"n_label_rows": dataset.info["n_label_rows"], "n_missing_audio": dataset.info["n_missing_audio"]}
                if "n_label_rows" in dataset.info
                else {}
            ),
        },
        environment=environment(),
        timings={
            "total_seconds": time.perf_counter() - start,
            "train_seconds_per_seed": float(np.mean([o.train_seconds for o in outcomes])),
        },
        confusion=conf,
        classes=list(task.classes),
    )
    path = result.save(results_dir)
    save_splits(dataset, results_dir)
    from .plots import plot_result

    plot_result(result, path.with_suffix(".png"))
    return result


def dataset_record(dataset: Dataset) -> dict[str, Any]:
    """How the dataset was read and split: enough to rebuild the same split."""
    keys = ("split_rule", "split_seed", "split_hash", "audio_root", "labels_dir", "n_label_rows", "n_missing_audio")
    record: dict[str, Any] = {"name": dataset.name, **{k: dataset.info[k] for k in keys if k in dataset.info}}
    if "config" in dataset.info:  # the synthetic set: its generator config
        record["synthetic_config"] = dataset.info["config"]
    return record


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


def chance_level(task: Task, test: list) -> float:
    """The primary metric of the best guess that ignores the input, so every number can be read against it:
    the most common answer for accuracies, 1/classes for per-class-averaged accuracy, and for mAP the expected
    AP of a random ranking (a constant score's AP, the prevalence, is lower: any trained model ranks)."""
    if task.kind == "multilabel":
        y = np.array([ex.target for ex in test])
        return float(np.mean([expected_random_ap(int(y[:, k].sum()), len(y)) for k in range(y.shape[1]) if y[:, k].sum() > 0]))
    if task.primary_metric == "acc0":
        return 1.0 / len({ex.target for ex in test})
    if task.primary_metric == "hit_accuracy":
        counts = np.zeros(task.n_classes)
        for ex in test:
            for a in ex.accept:
                counts[a] += 1
        return float(counts.max() / len(test))  # always guessing the most common technique
    _, class_counts = np.unique([ex.target for ex in test], return_counts=True)
    return float(class_counts.max() / len(test))


def expected_random_ap(positives: int, total: int) -> float:
    """Expected average precision of a uniformly random ranking of ``total`` items, ``positives`` of them relevant:
    (1/N) [H_N + (P-1)/(N-1) (N - H_N)], H_N the N-th harmonic number. Each rank r holds a positive with chance P/N,
    and then the precision there is (1 + (P-1)(r-1)/(N-1)) / r on average. Above P/N for finite N (for 90 clips and
    a prevalence of 0.1, 0.14)."""
    if positives <= 0 or total <= 0:
        raise ValueError(f"need positives and items, got {positives} of {total}")
    if total == 1:
        return 1.0
    harmonic = float(np.sum(1.0 / np.arange(1, total + 1)))
    return (harmonic + (positives - 1) / (total - 1) * (total - harmonic)) / total
