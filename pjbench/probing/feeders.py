"""Turn task examples into model inputs, streamed from the embedding cache.

``SegmentFeeder`` reads each batch's recordings from the open HDF5 file (bounded memory:
one batch at a time) and packs only real segments; ``PooledFeeder`` computes each
recording's mean and standard deviation over its real frames once (a few KB per
recording) and feeds those to a linear probe.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch import nn

from ..extraction.cache import CachedRecording
from ..heads import ConvAttentionProbe, PooledLinearProbe
from ..tasks import Example, Task

if TYPE_CHECKING:
    from .config import TrainConfig


def host_batch(shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """An empty float32 batch on the host, to be filled and sent to ``device``: page-locked where that is a GPU, so
    the copy (:func:`on_device`) runs without the host waiting for it."""
    return torch.empty(shape, dtype=torch.float32, pin_memory=device.type == "cuda")


def on_device(host: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``host`` on ``device``: the same tensor on the CPU; on a GPU an asynchronous copy (from page-locked memory,
    :func:`host_batch`, it overlaps the next batch's assembly; torch keeps the buffer until the copy is done)."""
    return host.to(device, non_blocking=device.type == "cuda")


class RecordingSource(Protocol):
    """What feeders read: a :class:`CacheReader`, or a view of one (the ICPC recital parts)."""

    path: Path

    def ids(self) -> list[str]: ...

    def get(self, rec_id: str) -> CachedRecording: ...

    @property
    def frame_rate(self) -> float: ...


class Feeder(Protocol):
    def make_model(self, task: Task) -> nn.Module: ...

    def rebind(self, reader: RecordingSource, ids: list[str]) -> Feeder:
        """The same input transform (shapes, training-split normalisation) over other recordings."""
        ...

    def batches(self, examples: list[Example], batch_size: int, device: torch.device) -> Iterator[tuple[tuple, list[Example]]]: ...


def _real_frames(rec: CachedRecording, frame_rate: float) -> np.ndarray:
    """All frames of real audio, (frames, layers, dim): the padded tail of the last segment is left out."""
    emb = rec.embeddings.astype(np.float32)  # (S, L, T, D)
    last = min(int(np.ceil(rec.last_segment_seconds * frame_rate)), emb.shape[2])
    parts = [emb[i] for i in range(rec.n_segments - 1)] + [emb[rec.n_segments - 1][:, :last]]
    return np.concatenate(parts, axis=1).transpose(1, 0, 2)


_FRAME_STATISTICS: dict[tuple[tuple[str, float, int | None], str], tuple[np.ndarray, np.ndarray]] = {}


def frame_statistics(reader: RecordingSource, train_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per layer and dimension: mean and standard deviation over the training recordings' real frames,
    accumulated one recording at a time (float64 sums, so memory stays one recording). Memoised per (cache file,
    its mtime, the training ids): the tasks of one dataset share their training recordings."""
    key = (_source_key(reader), _ids_digest(train_ids))
    if key not in _FRAME_STATISTICS:
        _FRAME_STATISTICS[key] = _frame_statistics(reader, train_ids)
    return _FRAME_STATISTICS[key]


def _frame_statistics(reader: RecordingSource, train_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    total: np.ndarray | None = None
    total_sq: np.ndarray | None = None
    count = 0
    for rec_id in train_ids:
        frames = _real_frames(reader.get(rec_id), reader.frame_rate).astype(np.float64)  # (T, L, D)
        s, sq = frames.sum(0), (frames**2).sum(0)
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        count += len(frames)
    if total is None or total_sq is None or count == 0:
        raise ValueError("no training frames to standardise with")
    mean = total / count
    std = standardising_scale(mean, np.sqrt(np.maximum(total_sq / count - mean**2, 0.0)))
    return mean.astype(np.float32), std.astype(np.float32)


def standardising_scale(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The divisor that standardises a feature with its training statistics. A feature constant in training (a piece
    never heard in training, in a one-hot) gets an infinite divisor, so it reads 0 everywhere: dividing its test
    values by a tiny std would turn them into numbers of a million and the probe's answers with them."""
    constant = std <= 1e-6 * (1.0 + np.abs(mean))
    return np.where(constant, np.inf, std + 1e-6)


MEMORY_BUDGET_ENV = "PJBENCH_MEMORY_BUDGET_MB"
DEFAULT_MEMORY_BUDGET_MB = 2048


def memory_budget_bytes() -> int:
    """How much RAM a feeder may keep its prepared inputs in ($PJBENCH_MEMORY_BUDGET_MB, default 2048; 0 reads every
    recording from the cache each time it is used)."""
    text = os.environ.get(MEMORY_BUDGET_ENV, str(DEFAULT_MEMORY_BUDGET_MB))
    try:
        return max(0, int(float(text) * 2**20))
    except ValueError:
        raise ValueError(f"${MEMORY_BUDGET_ENV}={text!r}: give a number of megabytes") from None


@dataclass
class KeptInputs:
    """Prepared recordings kept in RAM, up to a byte budget (the arrays are read-only once kept)."""

    budget: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    nbytes: int = 0

    def get(self, rec_id: str, prepare: Callable[[], np.ndarray]) -> np.ndarray:
        kept = self.arrays.get(rec_id)
        if kept is not None:
            return kept
        prepared = prepare()
        if self.nbytes + prepared.nbytes <= self.budget:
            prepared.setflags(write=False)
            self.arrays[rec_id] = prepared
            self.nbytes += prepared.nbytes
        return prepared


# The one process-wide store, for the latest (cache file, its mtime, input transform): the tasks of one cache after
# one another (a board, the demo) prepare each recording once; another cache or transform releases it.
_KEPT: tuple[Hashable, KeptInputs] | None = None


def kept_inputs(key: Hashable) -> KeptInputs:
    global _KEPT
    budget = memory_budget_bytes()
    if _KEPT is None or _KEPT[0] != (key, budget):
        _KEPT = None  # release the old arrays before the new ones fill up
        _KEPT = ((key, budget), KeptInputs(budget))
    return _KEPT[1]


def _source_key(reader: RecordingSource) -> tuple[str, float, int | None]:
    """What the memos know a source by: the file, its mtime, and the one layer a layer view shows (None: all)."""
    return (str(reader.path), reader.path.stat().st_mtime, getattr(reader, "layer", None))


def _ids_digest(ids: list[str]) -> str:
    """A short key for a list of recording ids (the training split a transform was computed from)."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


class SegmentFeeder:
    def __init__(self, reader: RecordingSource, max_segments: int = 30, train_ids: list[str] | None = None) -> None:
        """With ``train_ids``, every frame is standardised per layer and dimension with those recordings'
        statistics (training split only): raw encoder scales (log-mel in dB-like units, say) otherwise
        dominate the first convolution and the head memorises instead of learning.

        A recording's prepared segments (read, converted, standardised) are kept in RAM up to the memory budget: a
        ranking pair's recordings are used about four times an epoch, every epoch, for every seed, and preparing them
        cost more than the model's own step. They are shared by the feeders of every task on the same cache with the
        same transform (see :func:`kept_inputs`). The arrays are the same either way, so the numbers are too."""
        self.reader = reader
        self.max_segments = max_segments
        transform = None if train_ids is None else _ids_digest(train_ids)
        self._kept = kept_inputs((_source_key(reader), max_segments, transform))
        first = reader.get(reader.ids()[0]).embeddings
        self.n_layers, self.frames, self.dim = first.shape[1:]
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        if train_ids is not None:
            mean, std = frame_statistics(reader, train_ids)  # (L, D), broadcast over (S, L, T, D)
            self.mean, self.std = mean[:, None, :], std[:, None, :]

    def rebind(self, reader: RecordingSource, ids: list[str]) -> SegmentFeeder:
        other = copy.copy(self)
        other.reader = reader
        other._kept = KeptInputs(memory_budget_bytes())  # another reader's recordings: nothing kept carries over
        shape = reader.get(ids[0]).embeddings.shape[1:]
        if tuple(shape) != (self.n_layers, self.frames, self.dim):
            raise ValueError(
                f"{reader.path}: segments of {tuple(shape)} (layers, frames, dim), the probe was trained on {(self.n_layers, self.frames, self.dim)}"
            )
        return other

    def make_model(self, task: Task) -> nn.Module:
        frames = self.frames * task.kind.inputs_per_example
        return ConvAttentionProbe(frames, self.dim, task.n_classes, max_segments=self.max_segments, n_layers=self.n_layers)

    def _recording(self, rec_id: str) -> np.ndarray:
        """The recording's segments as the head sees them; kept while the budget allows (never modified after)."""
        return self._kept.get(rec_id, lambda: self._standardised(self.reader.get(rec_id).embeddings[: self.max_segments]))

    def _standardised(self, segments: np.ndarray) -> np.ndarray:
        # float32 either way: the cache's float16, converted once here, not again in every batch that copies it
        # (numpy's half-to-single conversion made copying half of an unstandardised probe's time)
        if self.mean is None or self.std is None:
            return segments.astype(np.float32)
        return (segments.astype(np.float32) - self.mean) / self.std

    def batches(self, examples: list[Example], batch_size: int, device: torch.device) -> Iterator[tuple[tuple, list[Example]]]:
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            recordings = [[self._recording(i) for i in ex.ids] for ex in chunk]
            # a ranking pair: segment i of A beside segment i of B along the frame axis (the paper's design); only
            # segments both recordings have, so no zero-filled half is ever compared
            counts = [min(len(r) for r in recs) for recs in recordings]
            width = len(chunk[0].ids)
            host = host_batch((sum(counts), self.n_layers, self.frames * width, self.dim), device)
            x = host.numpy()
            row = 0
            for recs, n in zip(recordings, counts):  # each recording copied once, straight to its place in the batch
                for side, segments in enumerate(recs):
                    x[row : row + n, :, side * self.frames : (side + 1) * self.frames] = segments[:n]
                row += n
            batch_index = np.repeat(np.arange(len(chunk)), counts)
            position = np.concatenate([np.arange(n) for n in counts])
            yield (
                (
                    on_device(host, device),
                    torch.from_numpy(batch_index).to(device),
                    torch.from_numpy(position).to(device),
                    len(chunk),
                ),
                chunk,
            )


# pooled statistics per (cache file, its mtime, layer view): several tasks on one cache read it once per process
_POOLED: dict[tuple[str, float, int | None], dict[str, np.ndarray]] = {}


def pooled_statistics(reader: RecordingSource, ids: list[str]) -> dict[str, np.ndarray]:
    """Per layer: mean and standard deviation over each recording's real frames, and the mean absolute and
    standard deviation of the frame-to-frame difference (how fast the embedding moves: mean and std alone
    cannot tell a scale from a chord of the same notes). Flattened."""
    memo = _POOLED.setdefault(_source_key(reader), {})
    for rec_id in ids:
        if rec_id not in memo:
            frames = _real_frames(reader.get(rec_id), reader.frame_rate)  # (T, L, D)
            delta = np.diff(frames, axis=0) if len(frames) > 1 else np.zeros_like(frames)
            stats = [frames.mean(0), frames.std(0), np.abs(delta).mean(0), delta.std(0)]
            memo[rec_id] = np.concatenate(stats, axis=-1)  # (layers, 4 * dim)
    return {i: memo[i] for i in ids}


class PooledFeeder:
    def __init__(self, reader: RecordingSource, ids: list[str], train_ids: list[str]) -> None:
        self.features = pooled_statistics(reader, ids)
        train = np.stack([self.features[i] for i in train_ids])
        self.mean = train.mean(0)
        self.std = standardising_scale(self.mean, train.std(0))  # standardised with training statistics only
        self.n_layers, self.dim = train.shape[1:]
        self._standardised: dict[str, np.ndarray] = {}

    def rebind(self, reader: RecordingSource, ids: list[str]) -> PooledFeeder:
        other = copy.copy(self)
        other.features = pooled_statistics(reader, ids)
        other._standardised = {}
        shape = next(iter(other.features.values())).shape
        if shape != (self.n_layers, self.dim):
            raise ValueError(f"{reader.path}: pooled features of shape {shape}, the probe was trained on {(self.n_layers, self.dim)}")
        return other

    def make_model(self, task: Task) -> nn.Module:
        return PooledLinearProbe(self.dim * task.kind.inputs_per_example, task.n_classes, self.n_layers)

    def batches(self, examples: list[Example], batch_size: int, device: torch.device) -> Iterator[tuple[tuple, list[Example]]]:
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            rows = [np.concatenate([self._row(i) for i in ex.ids], axis=-1) for ex in chunk]
            host = host_batch((len(rows), *rows[0].shape), device)
            np.stack(rows, out=host.numpy(), casting="same_kind")
            yield (on_device(host, device),), chunk

    def _row(self, rec_id: str) -> np.ndarray:
        """A recording's standardised statistics, computed once (every epoch of every seed uses them)."""
        row = self._standardised.get(rec_id)
        if row is None:
            row = self._standardised[rec_id] = (self.features[rec_id] - self.mean) / self.std
        return row


def _ids(examples: list[Example]) -> list[str]:
    return sorted({i for ex in examples for i in ex.ids})


def segment_feeder(cfg: TrainConfig, reader: RecordingSource, splits: dict[str, list[Example]]) -> SegmentFeeder:
    """The published head's input: segments as stored (standardised with training statistics if asked)."""
    return SegmentFeeder(reader, cfg.max_segments, _ids(splits["train"]) if cfg.standardize else None)


def pooled_feeder(cfg: TrainConfig, reader: RecordingSource, splits: dict[str, list[Example]]) -> PooledFeeder:
    """The linear head's input: per-recording frame statistics, standardised with the training split's."""
    return PooledFeeder(reader, _ids([ex for exs in splits.values() for ex in exs]), _ids(splits["train"]))


FeederFactory = Callable[["TrainConfig", RecordingSource, dict[str, list[Example]]], Feeder]
# a head names its feeder by one of these keys (heads.HeadSpec.feeder): the heads sit below probing and never import it
FEEDERS: dict[str, FeederFactory] = {"segments": segment_feeder, "pooled": pooled_feeder}
