"""PISA player level (1-10) from video, audio or both: end-to-end training or frozen-feature probing.

Samples come from the clip cache (10 clips of 16 frames + 10 mel images each). End-to-end: the backbones
and heads train together (Adam, lr 1e-4, batch 4, as the paper), the video clips flipped left-right at
random in training; the multimodal head sees the branches' features without passing gradient back.
Frozen: the backbones (published weights from a local file, or a seeded random initialisation) embed
every clip once into a feature cache and only the heads train. Epochs and checkpoints are chosen on the
validation split; the test split is evaluated once per seed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch import nn

from ..allocator import keep_freed_memory
from ..datasets.pisa import PisaDataset, pisa_fingerprint
from ..hashing import config_hash, file_digest
from ..heads.pisa import PisaModel
from ..probing.fit import fit
from ..probing.probe import predictions_path
from ..probing.train import deterministic_torch, set_seed
from ..progress import progress_bar
from ..results import predictions
from ..results.plots import plot_for
from ..results.record import TaskResult, build_result, check_writable, summed_confusion
from ..scoring import bootstrap
from ..scoring.metrics import confusion, level_metrics, mean_ci
from ..tasks import TASKS
from ..tasks.kinds import PlayerLevelKind
from .clipcache import ClipReader, build_clip_cache
from .video_backbones import AUDIO_BACKBONES, KINETICS_MEAN, KINETICS_STD, VIDEO_BACKBONES, load_backbone_weights

log = logging.getLogger(__name__)

N_LEVELS = 10
KIND = PlayerLevelKind()
AUDIO_MEAN, AUDIO_STD = 0.449, 0.226  # ImageNet statistics of a grey image


@dataclass(frozen=True)
class PisaConfig:
    modality: str = "multimodal"
    sampling: str = "uniform"
    mode: str = "end-to-end"  # or "frozen"
    video_backbone: str = "c3d-small"
    audio_backbone: str = "resnet18"
    width: int = 64
    video_weights: str | None = None
    audio_weights: str | None = None
    frame_size: int = 112
    epochs: int = 100
    patience: int = 100
    lr: float = 1e-4
    weight_decay: float = 0.0
    batch_size: int = 4
    reg_weight: float = 0.1
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "cpu"

    @property
    def needs_video(self) -> bool:
        return self.modality in ("video", "multimodal")

    @property
    def needs_audio(self) -> bool:
        return self.modality in ("audio", "multimodal")


def _video_tensor(clips: np.ndarray, flip: np.ndarray | None, device: torch.device) -> torch.Tensor:
    """uint8 (B, clips, T, H, W, 3) -> normalised float (B, clips, 3, T, H, W); ``flip[b]`` mirrors sample b left-right."""
    x = torch.from_numpy(clips).to(device).permute(0, 1, 5, 2, 3, 4).float().div_(255)
    mean = torch.tensor(KINETICS_MEAN, device=device).view(1, 1, 3, 1, 1, 1)
    std = torch.tensor(KINETICS_STD, device=device).view(1, 1, 3, 1, 1, 1)
    x = (x - mean) / std
    if flip is not None and flip.any():
        idx = torch.from_numpy(np.flatnonzero(flip)).to(device)
        x[idx] = torch.flip(x[idx], dims=[-1])  # a real mirror image (the released loader's flip was a no-op)
    return x


def _audio_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (B, clips, H, W) -> normalised float (B, clips, 1, H, W)."""
    return (torch.from_numpy(images).to(device).float().div_(255).unsqueeze(2) - AUDIO_MEAN) / AUDIO_STD


def make_backbones(cfg: PisaConfig, seed: int) -> tuple[nn.Module | None, nn.Module | None]:
    torch.manual_seed(seed)
    video = VIDEO_BACKBONES[cfg.video_backbone](cfg.width) if cfg.needs_video else None
    audio = AUDIO_BACKBONES[cfg.audio_backbone](cfg.width) if cfg.needs_audio else None
    if video is not None and cfg.video_weights:
        load_backbone_weights(video, Path(cfg.video_weights))
    if audio is not None and cfg.audio_weights:
        load_backbone_weights(audio, Path(cfg.audio_weights))
    return video, audio


@dataclass
class SampleSource:
    """Batches of (video, audio) inputs and targets, from the clip cache or from frozen features."""

    reader: ClipReader
    cfg: PisaConfig
    device: torch.device
    features: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # frozen: sample -> modality -> (clips, F)

    def batches(self, ids: list[str], train: bool, rng: np.random.Generator | None = None):
        bs = self.cfg.batch_size if train else max(self.cfg.batch_size, 16)
        for start in range(0, len(ids), bs):
            chunk = ids[start : start + bs]
            y = torch.tensor([self.reader.samples[i].attrs["level"] - 1 for i in chunk], device=self.device)
            if self.features:
                video = (
                    torch.from_numpy(np.stack([self.features[i]["video"] for i in chunk])).to(self.device) if self.cfg.needs_video else None
                )
                audio = (
                    torch.from_numpy(np.stack([self.features[i]["audio"] for i in chunk])).to(self.device) if self.cfg.needs_audio else None
                )
            else:
                items = [self.reader.get(i, video=self.cfg.needs_video, audio=self.cfg.needs_audio) for i in chunk]
                flip = rng.random(len(chunk)) < 0.5 if (train and rng is not None) else None
                video = _video_tensor(np.stack([s.video for s in items]), flip, self.device) if self.cfg.needs_video else None
                audio = _audio_tensor(np.stack([s.audio for s in items]), self.device) if self.cfg.needs_audio else None  # type: ignore[misc]
            yield video, audio, y


def feature_cache_path(clip_cache: Path, cfg: PisaConfig) -> Path:
    key = {"clips": clip_cache.name, "video": cfg.video_backbone, "audio": cfg.audio_backbone, "width": cfg.width}
    key |= {"video_weights": file_digest(cfg.video_weights), "audio_weights": file_digest(cfg.audio_weights), "init_seed": 0}
    key |= {"init": "he-fan-out"}  # features of the older default init are not reused
    return clip_cache.with_name(f"{clip_cache.stem}-features-{config_hash(key)}.h5")


@torch.no_grad()
def frozen_features(
    reader: ClipReader, ids: list[str], cfg: PisaConfig, device: torch.device, progress: bool
) -> dict[str, dict[str, np.ndarray]]:
    """Clip features of every sample, computed once by the backbones (eval mode; random init from seed 0 when
    no weights are given) and cached beside the clip cache."""
    path = feature_cache_path(reader.path, cfg)
    needed = [m for m in ("video", "audio") if getattr(cfg, f"needs_{m}")]
    with h5py.File(path, "a") as fh:
        todo = [i for i in ids if not all(f"{i}/{m}" in fh for m in needed)]
        if todo:
            video_net, audio_net = make_backbones(cfg, seed=0)
            nets = {"video": video_net, "audio": audio_net}
            for net in nets.values():
                if net is not None:
                    net.to(device).eval()
            for i in progress_bar(todo, desc="frozen features", unit="sample", enabled=progress):
                sample = reader.get(i, video="video" in needed, audio="audio" in needed)
                if "video" in needed and f"{i}/video" not in fh:
                    fh[f"{i}/video"] = nets["video"](_video_tensor(sample.video[None], None, device)[0]).cpu().numpy()  # type: ignore[misc]
                if "audio" in needed and f"{i}/audio" not in fh:
                    fh[f"{i}/audio"] = nets["audio"](_audio_tensor(sample.audio[None], device)[0]).cpu().numpy()  # type: ignore[misc,index]
        return {i: {m: fh[f"{i}/{m}"][()] for m in needed} for i in ids}


def standardize_features(features: dict[str, dict[str, np.ndarray]], train_ids: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Each feature dimension z-scored with the training samples' clip statistics, so that the heads see inputs of
    unit scale whatever the backbone's (a random or foreign backbone's features can be 1e-3 or 1e3), and the fusion
    head weighs the two branches alike. Dimensions constant on the training split become 0."""
    out: dict[str, dict[str, np.ndarray]] = {i: {} for i in features}
    for m in features[train_ids[0]]:
        stacked = np.concatenate([features[i][m] for i in train_ids]).astype(np.float64)
        mean, std = stacked.mean(0), stacked.std(0)
        scale = np.where(std > 1e-8 * max(float(np.abs(mean).max()), 1.0), std, np.inf)
        for i in features:
            out[i][m] = ((features[i][m] - mean) / scale).astype(np.float32)
    return out


def _predict(model: PisaModel, source: SampleSource, ids: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Levels (0-based) and, per head of the model, the predicted probabilities."""
    model.eval()
    probs: dict[str, list[np.ndarray]] = {}
    ys = []
    with torch.no_grad():
        for video, audio, y in source.batches(ids, train=False):
            for head, logits in model(video, audio).items():
                probs.setdefault(head, []).append(torch.softmax(logits, dim=1).cpu().numpy())
            ys.append(y.cpu().numpy())
    return np.concatenate(ys), {head: np.concatenate(p) for head, p in probs.items()}


def train_pisa_seed(
    source: SampleSource, splits: dict[str, list[str]], cfg: PisaConfig, seed: int, dims: tuple[int, int], progress: bool
) -> dict[str, Any]:
    set_seed(seed)
    if cfg.mode == "frozen":
        model = PisaModel(cfg.modality, N_LEVELS, None, None, *dims)
    else:
        video, audio = make_backbones(cfg, seed)
        model = PisaModel(cfg.modality, N_LEVELS, video, audio, *dims)
    model.to(source.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def batches(order: list[str], rng: np.random.Generator):
        for video, audio, y in source.batches(order, train=True, rng=rng):
            yield (video, audio, y), len(y)

    def batch_loss(batch) -> torch.Tensor:
        video, audio, y = batch
        # Eq. 1: every head's loss
        return sum(KIND.loss_of(logits, y, cfg.reg_weight) for logits in model(video, audio).values())  # type: ignore[return-value]

    def validate() -> tuple[float, dict[str, float]]:
        y_val, p_val = _predict(model, source, splits["val"])
        val = level_metrics(y_val, p_val[cfg.modality])
        return val["accuracy"] - 1e-3 * val["mae"], val  # ties in accuracy: the smaller level error

    outcome = fit(
        model,
        splits["train"],
        batches,
        batch_loss,
        optimizer,
        cfg.epochs,
        seed,
        validate,
        cfg.patience,
        f"pisa {cfg.modality} seed {seed}",
        progress,
    )
    y_test, p_test = _predict(model, source, splits["test"])
    y_val, p_val = _predict(model, source, splits["val"])
    return {
        "seed": seed,
        "best_epoch": outcome.best_epoch,
        "val": level_metrics(y_val, p_val[cfg.modality]),
        "test": level_metrics(y_test, p_test[cfg.modality]),
        # a multimodal model trains a video, an audio and a fusion head together (Eq. 1): each one's test scores,
        # at the epoch the fusion head's validation accuracy chose
        "test_heads": {head: level_metrics(y_test, p) for head, p in p_test.items()},
        # per test sample (in the order of the result's test_ids), each head's expected level 1-10: for significance
        # tests and for comparing systems sample by sample
        "test_expected_level": {head: (p @ np.arange(1, N_LEVELS + 1)).round(4).tolist() for head, p in p_test.items()},
        "test_confusion": confusion(y_test, p_test[cfg.modality].argmax(1), N_LEVELS),
        "train_seconds": outcome.train_seconds,
        "curve": outcome.curve,
        # taken out before the result is written: the predictions file keeps them (and the intervals use them)
        PROBABILITIES: {"test": (y_test, p_test[cfg.modality]), "val": (y_val, p_val[cfg.modality])},
    }


PROBABILITIES = "_probabilities"


def level_scores(
    per_seed: list[dict[str, Any]], probabilities: list[dict[str, Any]], test_ids: list[str], videos: dict[str, str]
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Scores with intervals over test videos (a video's samples are one draw) and seeds; Spearman: seeds only."""
    clusters = bootstrap.clusters_of([([i], [{"video": videos[i]}]) for i in test_ids], "video")

    def metric_fn(examples: Any, probs: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        return bootstrap.weighted_level_metrics(w, examples, probs)

    boot = bootstrap.replicates(metric_fn, [p["test"] for p in probabilities], clusters)
    return bootstrap.interval_scores([s["test"] for s in per_seed], boot), bootstrap.resampling_record(
        clusters, len(test_ids), len(per_seed)
    )


def prediction_rows(
    seeds: list[int], probabilities: list[dict[str, Any]], splits: dict[str, list[str]], videos: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        {
            "seed": seed,
            "split": split,
            "ids": [sample],
            "groups": [{"video": videos[sample]}],
            "target": int(y),
            "accept": [],
            "scores": [float(v) for v in row],
        }
        for seed, probs in zip(seeds, probabilities)
        for split in ("val", "test")
        for sample, y, row in zip(splits[split], *probs[split])
    ]


def run_pisa(
    ds: PisaDataset,
    cfg: PisaConfig,
    cache_root: Path | None,
    results_dir: Path,
    progress: bool = True,
    request: dict[str, Any] | None = None,
) -> TaskResult:
    """Train and test ``cfg`` over its seeds; ``request`` (how the dataset was named: dataset, video_root, labels,
    split_seed) is recorded so that `pjbench rerun` can load the same data."""
    started = time.perf_counter()
    device = torch.device(cfg.device)
    clip_path = build_clip_cache(ds, cfg.sampling, cfg.frame_size, cache_root, progress)
    reader = ClipReader(clip_path)
    try:
        splits = {s: reader.ids(s) for s in ("train", "val", "test")}
        if cfg.needs_audio:
            lacking = {s: [i for i in ids if not reader.has_audio(i)] for s, ids in splits.items()}
            if any(lacking.values()):
                log.warning("%d samples have no audio and are left out of the %s task", sum(map(len, lacking.values())), cfg.modality)
                splits = {s: [i for i in ids if i not in set(lacking[s])] for s, ids in splits.items()}
        empty = [s for s, ids in splits.items() if not ids]
        if empty:
            raise ValueError(f"{ds.name}: no {', '.join(empty)} samples in {clip_path} (missing videos? see the log)")
        # from the width alone: building an R3D-18 (33 M parameters) just to read its output size would be waste
        video_dim = VIDEO_BACKBONES[cfg.video_backbone].feature_dim(cfg.width) if cfg.needs_video else 0
        audio_dim = AUDIO_BACKBONES[cfg.audio_backbone].feature_dim(cfg.width) if cfg.needs_audio else 0
        source = SampleSource(reader, cfg, device)
        if cfg.mode == "frozen":
            raw = frozen_features(reader, sorted({i for ids in splits.values() for i in ids}), cfg, device, progress)
            source.features = standardize_features(raw, splits["train"])
        elif cfg.mode != "end-to-end":
            raise ValueError(f"--mode {cfg.mode!r}: choose end-to-end or frozen")
        deterministic_torch()
        keep_freed_memory()
        per_seed = [train_pisa_seed(source, splits, cfg, seed, (video_dim, audio_dim), progress) for seed in cfg.seeds]
        probabilities = [s.pop(PROBABILITIES) for s in per_seed]
        videos = {i: str(reader.samples[i].attrs["video"]) for ids in splits.values() for i in ids}
        test_levels = [reader.samples[i].attrs["level"] for i in splits["test"]]
        skipped = reader.skipped()
    finally:
        reader.close()
    heads = {
        head: {m: dict(zip(("mean", "ci95"), mean_ci([s["test_heads"][head][m] for s in per_seed]))) for m in per_seed[0]["test"]}
        for head in per_seed[0]["test_heads"]
    }
    _, counts = np.unique(test_levels, return_counts=True)
    backbones = "+".join(([cfg.video_backbone] if cfg.needs_video else []) + ([cfg.audio_backbone] if cfg.needs_audio else [])) + (
        "" if cfg.width == 64 else f" (width {cfg.width})"
    )
    config: dict[str, Any] = {"pisa": asdict(cfg), "clip_cache": str(clip_path), "dataset": ds.info, "skipped": skipped}
    if request is not None:
        config["request"] = request
    task = TASKS[f"pisa-{cfg.modality}-{cfg.sampling}"]
    scores, intervals = level_scores(per_seed, probabilities, splits["test"], videos)
    result = build_result(
        dataset=ds.name,
        encoder=backbones,
        task=task.name,
        head=cfg.mode,
        primary_metric=task.primary_metric,
        per_seed=per_seed,
        config=config,
        encoder_meta={"video_backbone": cfg.video_backbone, "audio_backbone": cfg.audio_backbone, "width": cfg.width},
        counts={
            **{f"n_{s}": len(ids) for s, ids in splits.items()},
            "chance": KIND.chance_of(test_levels),
            "n_label_rows": ds.info.get("n_label_rows"),
            "n_missing_video": ds.info.get("n_missing_video"),
            "n_skipped_performances": len(skipped),
        },
        started=started,
        confusion=summed_confusion([s["test_confusion"] for s in per_seed]),
        classes=list(task.classes),
        extra={"heads": heads, "test_ids": splits["test"], "test_levels": [int(v) for v in test_levels]},
        scores=scores,
        intervals=intervals,
        fingerprint=pisa_fingerprint(ds),
    )
    target = result.path(results_dir)
    check_writable(results_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    result.predictions = predictions.write(predictions_path(target), prediction_rows(list(cfg.seeds), probabilities, splits, videos))
    result.save(results_dir, plot=plot_for)
    return result
