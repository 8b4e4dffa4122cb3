"""Extraction: audio -> segments -> encoder -> HDF5 cache, batched across recordings and resumable.

Decoding runs in DataLoader workers, overlapping the encoder; segments of several
recordings fill one batch; each recording is written as soon as all its segments are
embedded. Bad recordings (missing, undecodable, too short, silent) are logged and
recorded in the cache as skipped, never zero-filled.
"""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from ..audio import AudioError, load_audio, peak_gain, probe_audio
from ..datasets.base import Dataset, Recording
from ..encoders.base import Encoder, EncoderMeta, layer_slice
from ..paths import cache_dir
from ..precision import autocast_for
from ..progress import progress_bar
from ..version import __version__
from .cache import SPECS_ATTR, CacheReader, CacheWriter, Source, cache_key, dataset_identity, encoder_specs
from .segments import SegmentConfig, SilentError, TooShortError, segment
from .shards import Shard, share

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractConfig:
    segments: SegmentConfig = field(default_factory=SegmentConfig)
    layer: str = "last"  # "last", "all", or a layer index
    pool: str = "none"  # "none", "mean" (one frame per segment), or "rate:HZ" (average-pool to HZ frames/s)
    batch_size: int = 16  # segments per encoder call
    device: str = "auto"
    workers: int = 1  # decoding processes
    precision: str = "fp32"  # "fp32", "bf16" or "fp16": the encoder's arithmetic (autocast); part of the cache key


@dataclass
class ExtractReport:
    cache_path: Path
    extracted: int = 0
    already_done: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def realtime_factor(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(device)


def cache_config(dataset: Dataset, encoder: Encoder, cfg: ExtractConfig) -> dict[str, Any]:
    """Everything that changes the cached numbers, and nothing else (not batch size or device)."""
    return {
        "dataset": dataset.name,
        **dataset_identity(dataset),
        "encoder": encoder.meta.to_dict(),
        "segments": asdict(cfg.segments),
        "layer": cfg.layer,
        "pool": cfg.pool,
        "precision": cfg.precision,
    }


def why_not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as an audio file, in the user's terms."""
    if path.is_dir():
        return "a folder, not an audio file"
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python 3.11's word for a loop; later versions raise ELOOP
            return "a symbolic link that loops"
        except OSError as err:
            if err.errno == errno.ELOOP:
                return "a symbolic link that loops"
            return f"a symbolic link to {path.readlink()}, which does not exist"
    if not path.parent.is_dir():
        return f"file not found (no folder {path.parent})"
    return "file not found"


def cache_path_for(dataset: Dataset, encoder: Encoder, cfg: ExtractConfig, root: Path | None = None) -> Path:
    h = cache_key(cache_config(dataset, encoder, cfg))
    return (root or cache_dir()) / dataset.name / f"{encoder.meta.name}-{h}.h5"


class _Decoded(TorchDataset):
    def __init__(self, recordings: list[Recording], sample_rate: int, seg_cfg: SegmentConfig, file_peak: float = 0.0) -> None:
        self.recordings, self.sample_rate, self.seg_cfg, self.file_peak = recordings, sample_rate, seg_cfg, file_peak

    def __len__(self) -> int:
        return len(self.recordings)

    def __getitem__(self, i: int) -> dict[str, Any]:
        rec = self.recordings[i]
        kept = kept_samples(self.seg_cfg, self.sample_rate)
        try:
            audio = load_audio(rec.path, self.sample_rate, kept)  # a long file's uncut rest is never decoded
            segs = segment(audio, self.sample_rate, self.seg_cfg)  # the silence check sees the audio as recorded
            # an encoder that wants each recording at one peak (Jukebox, Audio-MAE's reference) says so in its options;
            # the peak is the whole kept audio's, a trailing part too short for a segment included
            segs.audio *= np.float32(peak_gain(audio, self.file_peak))
            # the recording's whole length, from the header where only its head was decoded
            duration = probe_audio(rec.path).duration if len(audio) == kept else len(audio) / self.sample_rate
        except (AudioError, TooShortError, SilentError) as err:
            return {"index": i, "error": f"{rec.path}: {err}" if not str(err).startswith(str(rec.path)) else str(err)}
        seconds = len(audio) / self.sample_rate
        return {"index": i, "segments": torch.from_numpy(segs.audio), "last": segs.last_seconds, "duration": duration, "seconds": seconds}


def parameter_count(encoder: Encoder) -> int | None:
    """The encoder's parameters, counted over the torch modules it holds (None: none, e.g. an ONNX model)."""
    modules = [v for v in vars(encoder).values() if isinstance(v, torch.nn.Module)]
    if not modules:
        return None
    seen = {id(p): p.numel() for m in modules for p in m.parameters()}
    return sum(seen.values())


def kept_samples(cfg: SegmentConfig, sample_rate: int) -> int | None:
    """The samples the segments can use at most (None: all)."""
    return None if cfg.max_segments is None else cfg.max_segments * int(round(cfg.seconds * sample_rate))


def layer_index(layer: str, n_layers: int) -> int | None:
    """The stored layer's index (None: all layers); a number counts from 0, or from the last when negative. An index
    outside the encoder's layers is an error, never wrapped round to another layer."""
    if layer == "all":
        return None
    if layer == "last":
        return n_layers - 1
    try:
        idx = int(layer)
    except ValueError:
        raise ValueError(f"--layer {layer!r}: give last, all or a layer number") from None
    if not -n_layers <= idx < n_layers:
        raise ValueError(f"--layer {layer}: the encoder has {n_layers} layer(s), 0..{n_layers - 1} (or -1 for the last)")
    return idx % n_layers


def _select_layers(emb: torch.Tensor, layer: str, meta: EncoderMeta) -> torch.Tensor:
    idx = layer_index(layer, meta.n_layers)
    if idx is None:
        return emb
    if meta.layer_dims:  # the layers sit side by side on the feature axis
        return emb[..., layer_slice(meta.layer_dims, idx)]
    return emb[:, idx : idx + 1]


def pooled_frames(pool: str, frames: int, seconds: float) -> int:
    """Frames per segment after temporal pooling."""
    if pool == "none":
        return frames
    if pool == "mean":
        return 1
    if pool.startswith("rate:"):
        try:
            rate = float(pool.split(":", 1)[1])
        except ValueError:
            rate = float("nan")
        if not rate > 0:
            raise ValueError(f"--pool {pool}: the rate must be a number of frames per second above 0, e.g. rate:5")
        if round(rate * seconds) > frames + 1:  # one frame of slack: a conv stack's 749 frames are "75 frames/s"
            raise ValueError(f"--pool {pool}: above the encoder's own {frames / seconds:g} frames/s; --pool none keeps the full rate")
        return max(1, min(frames, round(rate * seconds)))
    raise ValueError(f"--pool must be none, mean or rate:HZ, not {pool!r}")


def _pool(emb: torch.Tensor, frames: int) -> torch.Tensor:
    """Average (B, L, T, D) over time into ``frames`` frames."""
    if frames == emb.shape[2]:
        return emb
    b, n_layers, t, d = emb.shape
    pooled = torch.nn.functional.adaptive_avg_pool1d(emb.permute(0, 1, 3, 2).reshape(b * n_layers, d, t), frames)
    return pooled.reshape(b, n_layers, d, frames).permute(0, 1, 3, 2)


def extract(
    dataset: Dataset,
    encoder: Encoder,
    cfg: ExtractConfig | None = None,
    cache_root: Path | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    shard: Shard | None = None,
    encoder_spec: str | None = None,
) -> ExtractReport:
    """Embed every recording of ``dataset`` into its cache; ``shard``: only that share of the recordings, into the
    cache's shard file (merged by :func:`pjbench.extraction.shards.merge`); ``stop_after`` (tests) simulates an
    interruption."""
    cfg = cfg or ExtractConfig()
    device = resolve_device(cfg.device)
    encoder.to(device)
    meta = encoder.meta
    layer_index(cfg.layer, meta.n_layers)  # a wrong --layer or --precision fails before any audio is read
    autocast_for(cfg.precision, device)
    conf = cache_config(dataset, encoder, cfg)
    path = cache_path_for(dataset, encoder, cfg, cache_root)
    recordings = dataset.recordings
    if shard is not None:
        path, recordings = shard.path(path), share(dataset.recordings, shard)
    frames_out = pooled_frames(cfg.pool, meta.frames(cfg.segments.seconds), cfg.segments.seconds)
    attrs = {
        "encoder": meta.name,
        "revision": meta.revision,
        "config_hash": cache_key(conf),
        "config": json.dumps(conf, sort_keys=True),
        "sample_rate": meta.sample_rate,
        "frame_rate": frames_out / cfg.segments.seconds if cfg.pool != "none" else meta.frame_rate,  # of the stored frames
        "encoder_frame_rate": meta.frame_rate,
        "pool": cfg.pool,
        "segment_seconds": cfg.segments.seconds,
        "max_segments": cfg.segments.max_segments or 0,  # 0: every segment (HDF5 attributes cannot be None)
        "pjbench_version": __version__,
        **({"shard": str(shard)} if shard is not None else {}),
        # layers of different sizes, stored side by side: the readers cut each layer out of the feature axis
        **({"layer_dims": json.dumps(list(meta.layer_dims))} if meta.layer_dims and cfg.layer == "all" else {}),
        # the name the user gave (a plugin's "pkg.mod:factory"): `probe --encoder` finds the cache by it too
        **({SPECS_ATTR: json.dumps([encoder_spec])} if encoder_spec else {}),
    }
    report = ExtractReport(cache_path=path)
    write_missing_report(dataset, path.parent)
    if all_cached(path, recordings, cache_key(conf), report):
        if encoder_spec and encoder_spec not in encoder_specs(path) and os.access(path, os.W_OK):
            CacheWriter(path, attrs).close()  # only the new name is added
        return report  # nothing to write: the cache is only read (it may be read-only)
    writer = CacheWriter(path, attrs)
    start = time.perf_counter()
    try:
        todo = []
        for rec in recordings:
            if not rec.path.is_file():
                reason = f"{rec.path}: {why_not_a_file(rec.path)}"
                report.skipped[rec.id] = reason
                writer.skip(rec.id, reason)
                continue
            if writer.complete(rec.id, Source.of(rec.path)):
                report.already_done += 1
            else:
                todo.append(rec)
        if report.already_done:
            log.info("%d recordings already in %s; extracting %d", report.already_done, path, len(todo))
        loader = DataLoader(
            _Decoded(todo, meta.sample_rate, cfg.segments, float(meta.options.get("file_peak", 0.0))),
            batch_size=None,
            num_workers=cfg.workers,
            pin_memory=device.type == "cuda",
            prefetch_factor=4 if cfg.workers else None,
        )
        autocast = autocast_for(cfg.precision, device)
        pending: list[tuple[Recording, dict[str, Any]]] = []

        def flush() -> None:
            if not pending:
                return
            batch = torch.cat([item["segments"] for _, item in pending])
            outs = []
            with torch.inference_mode(), autocast:
                for i in range(0, len(batch), cfg.batch_size):
                    chunk = batch[i : i + cfg.batch_size].to(device, non_blocking=True)
                    raw = encoder.embed(chunk)
                    _check_shape(raw, meta, cfg)
                    outs.append(_pool(_select_layers(raw, cfg.layer, meta).float(), frames_out).cpu())
            emb = torch.cat(outs).numpy()
            offset = 0
            for rec, item in pending:
                n = len(item["segments"])
                part = emb[offset : offset + n]
                offset += n
                if not np.all(np.isfinite(part)):
                    reason = f"{rec.path}: the encoder produced NaN or infinite values"
                    report.skipped[rec.id] = reason
                    writer.skip(rec.id, reason)
                    continue
                writer.write(rec.id, part, item["last"], Source.of(rec.path), duration=item["duration"])
                report.extracted += 1
                report.audio_seconds += item["seconds"]  # the audio embedded, for the speed
            pending.clear()

        if cfg.workers:
            # decoding processes start (fork) with neither the cache nor its lock open, so none of them can hold
            # either after this process ends
            writer.close()
            items = iter(loader)
            writer = CacheWriter(path, attrs)
        else:
            items = iter(loader)
        bar = progress_bar(total=len(todo), desc=f"extract {meta.name}", unit="rec", enabled=progress)
        queued = 0
        for item in items:
            rec = todo[item["index"]]
            if "error" in item:
                log.warning("skipping %s", item["error"])
                report.skipped[rec.id] = item["error"]
                writer.skip(rec.id, item["error"])
            else:
                pending.append((rec, item))
                queued += len(item["segments"])
                if queued >= cfg.batch_size:
                    flush()
                    queued = 0
            bar.update()
            if stop_after is not None and report.extracted >= stop_after:
                raise KeyboardInterrupt(f"stopped after {stop_after} recordings (test hook)")
        flush()
        bar.close()
    finally:
        report.wall_seconds = time.perf_counter() - start
        writer.record_speed(report.audio_seconds, report.wall_seconds, parameter_count(encoder))
        writer.close()
    if report.skipped:
        log.warning("%d recordings skipped; reasons are stored in %s under /skipped", len(report.skipped), path)
    return report


def all_cached(path: Path, recordings: list[Recording], config_hash: str, report: ExtractReport) -> bool:
    """Whether the cache at ``path`` holds every one of ``recordings`` from its current audio and every missing
    file's skip already (filling ``report``); found by reading alone, so that a read-only cache serves."""
    if not path.exists():
        return False
    try:
        reader = CacheReader(path)
    except (OSError, ValueError):
        return False  # unreadable: the writer moves it aside
    try:
        if reader.attrs.get("config_hash") != config_hash:
            return False
        skipped = reader.skipped()
        done, missing = 0, {}
        for rec in recordings:
            if not rec.path.is_file():
                missing[rec.id] = f"{rec.path}: {why_not_a_file(rec.path)}"
                if skipped.get(rec.id) != missing[rec.id]:
                    return False
            elif rec.id in reader and not reader.stale([rec]):
                done += 1
            else:
                return False
    finally:
        reader.close()
    report.already_done, report.skipped = done, missing
    return True


def write_missing_report(dataset: Dataset, folder: Path) -> Path | None:
    """List the label rows whose audio the user's copy lacks (``missing-audio.csv`` beside the cache)."""
    missing = dataset.info.get("missing") or []
    if not missing:
        return None
    out = folder / "missing-audio.csv"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["id", "expected", "split", "label"])
            writer.writeheader()
            writer.writerows(missing)
    except OSError as err:  # a read-only cache folder: the list is a convenience, the extraction goes on
        log.warning(
            "%s: %d label rows have no audio (the list could not be written to %s: %s)",
            dataset.name,
            len(missing),
            out,
            err.strerror or err,
        )
        return None
    log.warning("%s: %d label rows have no audio; listed in %s", dataset.name, len(missing), out)
    return out


def _check_shape(emb: torch.Tensor, meta: Any, cfg: ExtractConfig) -> None:
    expected_frames = meta.frames(cfg.segments.seconds)
    if emb.shape[1] != meta.stacked_layers or emb.shape[2] != expected_frames or emb.shape[3] != meta.dim:
        raise RuntimeError(
            f"encoder {meta.name} returned layers x frames x dim {emb.shape[1]} x {emb.shape[2]} x {emb.shape[3]}, "
            f"but declares {meta.stacked_layers} x {expected_frames} x {meta.dim} ({meta.frame_rate} Hz, {cfg.segments.seconds} s)"
        )
