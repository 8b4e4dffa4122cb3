"""Learnability and shortcut check of the synthetic dataset (the quality bar of docs/synthetic.md).

1. Log-mel statistics + logistic regression, per task: every label should be learnable
   (well above chance) and none trivially (near 100%).
2. Shortcut check: the nuisance variables alone (soundfont one-hot, room RT60 and wet
   share, loudness) with the same classifier: every task should stay at chance.

Features per recording: mean and standard deviation over real frames of the log-mel
cache, plus mean absolute and standard deviation of the frame-to-frame difference (how
fast the spectrum changes). C of the logistic regression is chosen on the validation
split; the test split is scored once.

Run: python research/learnability.py [--dataset synthetic]   (after `pjbench extract --encoder mel`)
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pjbench.datasets import load_dataset
from pjbench.extraction.cache import CacheReader
from pjbench.paths import cache_dir
from pjbench.probing.feeders import _real_frames
from pjbench.probing.probe import find_cache
from pjbench.tasks import TASKS

C_GRID = (0.001, 0.01, 0.1, 1.0)


def mel_features(reader: CacheReader, ids: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for i in ids:
        frames = _real_frames(reader.get(i), reader.frame_rate)[:, 0]  # (T, D)
        delta = np.diff(frames, axis=0)
        out[i] = np.concatenate([frames.mean(0), frames.std(0), np.abs(delta).mean(0), delta.std(0)])
    return out


def nuisance_features(ds) -> dict[str, np.ndarray]:
    import csv

    with open(ds.root / "manifest.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    timbres = sorted({r["timbre"] for r in rows.values()})
    return {
        i: np.array([float(r["timbre"] == t) for t in timbres] + [float(r["rt60"]), float(r["wet"]), float(r["loudness_dbfs"])])
        for i, r in rows.items()
    }


def _xy(task, examples, feats):
    if task.kind.name == "pairwise":
        x = np.stack([feats[e.ids[0]] - feats[e.ids[1]] for e in examples])  # the difference ranks a pair
    else:
        x = np.stack([feats[e.ids[0]] for e in examples])
    return x, np.array([e.target for e in examples])


def _fit(task, x, y, c, examples):
    base = LogisticRegression(C=c, max_iter=3000)
    model = OneVsRestClassifier(base) if task.kind.name == "multilabel" or task.accept is not None else base
    pipeline = make_pipeline(StandardScaler(), model)
    if task.accept is not None:  # each class's chance of being among the true labels, as the probes learn it
        return pipeline.fit(x, task.targets(examples, torch.device("cpu")).numpy())
    return pipeline.fit(x, y)


def _score(task, model, x, y, examples) -> float:
    if task.kind.name == "multilabel":
        probs = model.predict_proba(x)
        return float(np.mean([average_precision_score(y[:, k], probs[:, k]) for k in range(y.shape[1]) if y[:, k].any()]))
    if task.accept is not None:
        pred = model.predict_proba(x).argmax(1)
        return float(np.mean([p in e.accept for p, e in zip(pred, examples)]))
    pred = model.predict(x)
    if task.kind.name == "pairwise" and task.n_classes == 2:
        return float(np.mean(pred == y))
    return float(balanced_accuracy_score(y, pred))


def evaluate(ds, feats, task) -> float:
    splits = {s: task.examples(ds.split(s), ds.pair_group) for s in ("train", "val", "test")}
    data = {s: _xy(task, ex, feats) for s, ex in splits.items()}
    best = max(C_GRID, key=lambda c: _score(task, _fit(task, *data["train"], c, splits["train"]), *data["val"], splits["val"]))
    return _score(task, _fit(task, *data["train"], best, splits["train"]), *data["test"], splits["test"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--cache", type=Path, help="the mel cache to read (default: the newest for the dataset)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    ds = load_dataset(args.dataset, build_missing=False)
    reader = CacheReader(args.cache or find_cache(ds, "mel", cache_dir()))
    mel = mel_features(reader, [r.id for r in ds.recordings])
    nuisance = nuisance_features(ds)
    print(f"dataset {ds.name}: {len(ds.recordings)} clips\n")
    print("| task | metric | chance | log-mel stats + logistic regression | nuisance only (soundfont, room, loudness) |")
    print("|---|---|---|---|---|")
    for name in (
        "technique-single",
        "technique-multilabel",
        "expertise-3way",
        "expertise-2way",
        "expertise-4way",
        "difficulty-3way",
        "difficulty-9way",
    ):
        task = TASKS[name]
        test = task.examples(ds.split("test"), ds.pair_group)
        if task.kind.name == "multilabel":
            chance, metric = task.chance(test), "mAP"  # a random ranking's expected AP, as the leaderboard
        elif task.accept is not None:
            counts = np.bincount([a for e in test for a in e.accept], minlength=task.n_classes)
            chance, metric = counts.max() / len(test), "hit accuracy"
        elif task.kind.name == "pairwise" and task.n_classes == 2:
            chance, metric = 0.5, "pair accuracy"
        else:
            chance, metric = 1 / task.n_classes, "balanced accuracy"
        print(
            f"| {name} | {metric} | {100 * chance:.1f} | {100 * evaluate(ds, mel, task):.1f} | {100 * evaluate(ds, nuisance, task):.1f} |"
        )


if __name__ == "__main__":
    main()
