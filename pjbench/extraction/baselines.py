"""Shortcut baselines: rows that know one trivial thing about a recording, probed like any encoder.

If the recording's length, its loudness, (on the synthetic set) the rendering's nuisance draws, or (on PercePiano,
where a test performance's piece is heard in training under the performer split) which piece it is predict a label as
well as an encoder does, the encoder's score says little about musical understanding. Each baseline writes an
ordinary pjbench cache (one "frame" per recording holding its few numbers), so the linear probe trains and
scores it on the same splits, with the same metrics and intervals, as every encoder; the board lists the rows as
baselines. For a ranking pair the probe sees both recordings' numbers, so it can learn their difference (the log
ratio of the durations).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import AudioError, load_audio
from ..datasets.base import Dataset, Recording
from ..progress import progress_bar
from ..version import __version__
from .cache import CacheReader, CacheWriter, Source, cache_key, dataset_identity
from .extract import why_not_a_file

log = logging.getLogger(__name__)

BASELINE_VERSION = "1"
SAMPLE_RATE = 16000  # enough for a length and an RMS level
FRAME_SECONDS = 0.05


@dataclass(frozen=True)
class Baseline:
    name: str
    description: str
    features: tuple[str, ...]
    needs_audio: bool = True
    needs_labels: tuple[str, ...] = ()  # recording labels it reads (the nuisance draws)


BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline("duration", "the recording's length only (log seconds)", ("log_seconds",)),
        Baseline(
            "loudness",
            "the level only: mean, std and 10th/50th/90th percentiles of the 50-ms RMS in dB",
            ("rms_db_mean", "rms_db_std", "rms_db_p10", "rms_db_p50", "rms_db_p90"),
        ),
        Baseline(
            "nuisance",
            "the synthetic rendering's nuisance draws only: soundfont, room (RT60, wet mix), level",
            ("timbre one-hot...", "rt60", "wet", "loudness_dbfs"),
            needs_audio=False,
            needs_labels=("timbre", "rt60", "wet", "loudness_dbfs"),
        ),
        Baseline(
            "piece",
            "which piece excerpt is played, one-hot, and nothing of how: it scores what the pieces' mean ratings explain",
            ("excerpt one-hot...",),
            needs_audio=False,
            needs_labels=("excerpt",),
        ),
    )
}


def is_baseline(encoder_meta: dict[str, Any]) -> bool:
    return bool(encoder_meta.get("baseline"))


def applicable(dataset: Dataset) -> list[Baseline]:
    """The baselines a dataset supports (the nuisance draws exist only where they were recorded)."""
    return [b for b in BASELINES.values() if all(all(k in r.labels for k in b.needs_labels) for r in dataset.recordings)]


def audio_features(path: Path) -> dict[str, np.ndarray]:
    """The duration and loudness features of one recording."""
    audio = load_audio(path, SAMPLE_RATE)
    hop = int(SAMPLE_RATE * FRAME_SECONDS)
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop) if len(audio) >= hop else audio[None, :]
    rms_db = 20 * np.log10(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-8)
    return {
        "duration": np.array([np.log(len(audio) / SAMPLE_RATE)]),
        "loudness": np.array([rms_db.mean(), rms_db.std(), *np.percentile(rms_db, [10, 50, 90])]),
    }


def nuisance_features(rec: Recording, timbres: list[str]) -> np.ndarray:
    onehot = [float(rec.labels["timbre"] == t) for t in timbres]
    return np.array([*onehot, float(rec.labels["rt60"]), float(rec.labels["wet"]), float(rec.labels["loudness_dbfs"])])


def one_hot(value: str, values: list[str]) -> np.ndarray:
    return np.array([float(value == v) for v in values])


def cache_config(dataset: Dataset, baseline: Baseline) -> dict[str, Any]:
    return {
        "dataset": dataset.name,
        **dataset_identity(dataset),
        "encoder": {
            "name": baseline.name,
            "description": baseline.description,
            "baseline": True,
            "features": list(baseline.features),
            "version": BASELINE_VERSION,
            "sample_rate": SAMPLE_RATE,
        },
        "layer": "last",
        "pool": "none",
    }


def build_caches(dataset: Dataset, cache_root: Path, progress: bool = True) -> dict[str, Path]:
    """A cache per applicable baseline (resumable: recordings already in a cache are not read again); unreadable
    recordings are skipped with their reason, as in extraction."""
    chosen = applicable(dataset)
    writers: dict[str, CacheWriter] = {}
    paths: dict[str, Path] = {}
    for b in chosen:
        conf = cache_config(dataset, b)
        paths[b.name] = cache_root / dataset.name / f"{b.name}-{cache_key(conf)}.h5"
        attrs = {
            "encoder": b.name,
            "revision": BASELINE_VERSION,
            "config_hash": cache_key(conf),
            "config": json.dumps(conf, sort_keys=True),
            "sample_rate": SAMPLE_RATE,
            "frame_rate": 1.0,  # one stored frame per one-second "segment": the recording's numbers
            "encoder_frame_rate": 1.0,
            "pool": "none",
            "segment_seconds": 1.0,
            "max_segments": 1,
            "pjbench_version": __version__,
        }
        writers[b.name] = CacheWriter(paths[b.name], attrs)
    timbres = sorted({str(r.labels.get("timbre")) for r in dataset.recordings})
    excerpts = sorted({str(r.labels.get("excerpt")) for r in dataset.recordings})
    makers: dict[str, Callable[[Recording, dict[str, np.ndarray]], np.ndarray]] = {
        "duration": lambda rec, audio: audio["duration"],
        "loudness": lambda rec, audio: audio["loudness"],
        "nuisance": lambda rec, audio: nuisance_features(rec, timbres),
        "piece": lambda rec, audio: one_hot(str(rec.labels["excerpt"]), excerpts),
    }
    try:
        for rec in progress_bar(dataset.recordings, desc="baselines", unit="rec", enabled=progress):
            if not rec.path.is_file():
                for w in writers.values():
                    w.skip(rec.id, f"{rec.path}: {why_not_a_file(rec.path)}")
                continue
            source = Source.of(rec.path)
            todo = [b for b in chosen if not writers[b.name].complete(rec.id, source)]
            if not todo:
                continue
            try:
                audio = audio_features(rec.path) if any(b.needs_audio for b in todo) else {}
            except AudioError as err:
                log.warning("skipped %s: %s", rec.id, err)
                for b in todo:
                    writers[b.name].skip(rec.id, str(err))
                continue
            seconds = float(np.exp(audio["duration"][0])) if "duration" in audio else float(rec.duration or 0.0)
            for b in todo:
                values = makers[b.name](rec, audio).astype(np.float32)
                writers[b.name].write(rec.id, values.reshape(1, 1, 1, -1), 1.0, source, seconds)
    finally:
        for w in writers.values():
            w.close()
    return paths


def read_features(path: Path) -> dict[str, np.ndarray]:
    """recording id -> its baseline features (for reports and tests)."""
    reader = CacheReader(path)
    try:
        return {i: reader.get(i).embeddings.reshape(-1).astype(np.float32) for i in reader.ids()}
    finally:
        reader.close()
