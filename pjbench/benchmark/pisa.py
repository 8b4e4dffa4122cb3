"""PISA player level (1-10) from video, audio or both: end-to-end training or frozen-feature probing.

Samples come from the clip cache (10 clips of 16 frames + 10 mel images each). End-to-end: the backbones
and heads train together (Adam, lr 1e-4, batch 4, as the paper), the video clips flipped left-right at
random in training; the multimodal head sees the branches' features without passing gradient back.
Frozen: the backbones (published weights from a local file, or a seeded random initialisation) embed
every clip once into a feature cache and only the heads train. Epochs and checkpoints are chosen on the
validation split; the test split is evaluated once per seed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.metrics import balanced_accuracy_score
from torch import nn
from tqdm import tqdm

from ..datasets.pisa import PisaDataset
from ..encoders.video_backbones import AUDIO_BACKBONES, KINETICS_MEAN, KINETICS_STD, VIDEO_BACKBONES, load_backbone_weights
from ..heads.pisa import PisaModel, level_loss
from .clipcache import ClipReader, build_clip_cache
from .metrics import confusion, mean_ci
from .results import TaskResult, environment
from .train import set_seed

log = logging.getLogger(__name__)

N_LEVELS = 10
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


def level_metrics(y: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Accuracy (the papers' metric), balanced accuracy, within-one-level accuracy, mean absolute level error, and
    Spearman's rank correlation between the expected level (the softmax's mean) and the true one: an ordinal view
    that a constant guess scores 0 on, whatever the level distribution."""
    pred = probs.argmax(1)
    expected = probs @ np.arange(probs.shape[1], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # predicted levels absent from the truth are expected, not news
        balanced = float(balanced_accuracy_score(y, pred))
        rho = float(spearmanr(expected, y).statistic) if np.ptp(expected) > 0 and np.ptp(y) > 0 else 0.0
    return {
        "accuracy": float(np.mean(pred == y)),
        "acc0": balanced,
        "within_one": float(np.mean(np.abs(pred - y) <= 1)),
        "mae": float(np.mean(np.abs(pred - y))),
        "spearman": rho,
    }


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
    key |= {"video_weights": _file_digest(cfg.video_weights), "audio_weights": _file_digest(cfg.audio_weights), "init_seed": 0}
    key |= {"init": "he-fan-out"}  # features of the older default init are not reused
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return clip_cache.with_name(f"{clip_cache.stem}-features-{digest}.h5")


def _file_digest(path: str | None) -> str | None:
    if not path:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


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
            for i in tqdm(todo, desc="frozen features", unit="sample", disable=not progress):
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
    rng = np.random.default_rng(seed)
    best: tuple[float, int, dict[str, Any]] | None = None
    curve = []
    start = time.perf_counter()
    bar = tqdm(range(cfg.epochs), desc=f"pisa {cfg.modality} seed {seed}", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = [splits["train"][i] for i in rng.permutation(len(splits["train"]))]
        total = 0.0
        for video, audio, y in source.batches(order, train=True, rng=rng):
            outputs = model(video, audio)
            loss = sum(level_loss(logits, y, cfg.reg_weight) for logits in outputs.values())  # Eq. 1: every head's loss
            optimizer.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            optimizer.step()
            total += float(loss.detach()) * len(y)  # type: ignore[union-attr]
        y_val, p_val = _predict(model, source, splits["val"])
        val = level_metrics(y_val, p_val[cfg.modality])
        curve.append({"epoch": epoch, "train_loss": total / len(order), **{f"val_{k}": v for k, v in val.items()}})
        bar.set_postfix(loss=f"{total / len(order):.3f}", val=f"{val['accuracy']:.3f}")
        score = val["accuracy"] - 1e-3 * val["mae"]  # ties in accuracy: the smaller level error
        if best is None or score > best[0]:
            best = (score, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= cfg.patience:
            break
    assert best is not None
    model.load_state_dict(best[2])
    y_test, p_test = _predict(model, source, splits["test"])
    y_val, p_val = _predict(model, source, splits["val"])
    return {
        "seed": seed,
        "best_epoch": best[1],
        "val": level_metrics(y_val, p_val[cfg.modality]),
        "test": level_metrics(y_test, p_test[cfg.modality]),
        # a multimodal model trains a video, an audio and a fusion head together (Eq. 1): each one's test scores,
        # at the epoch the fusion head's validation accuracy chose
        "test_heads": {head: level_metrics(y_test, p) for head, p in p_test.items()},
        # per test sample (in the order of the result's test_ids), each head's expected level 1-10: for significance
        # tests and for comparing systems sample by sample
        "test_expected_level": {head: (p @ np.arange(1, N_LEVELS + 1)).round(4).tolist() for head, p in p_test.items()},
        "test_confusion": confusion(y_test, p_test[cfg.modality].argmax(1), N_LEVELS),
        "train_seconds": time.perf_counter() - start,
        "curve": curve,
    }


def run_pisa(ds: PisaDataset, cfg: PisaConfig, cache_root: Path | None, results_dir: Path, progress: bool = True) -> TaskResult:
    start = time.perf_counter()
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
        torch.use_deterministic_algorithms(True, warn_only=True)
        per_seed = [train_pisa_seed(source, splits, cfg, seed, (video_dim, audio_dim), progress) for seed in cfg.seeds]
        test_levels = [reader.samples[i].attrs["level"] for i in splits["test"]]
        skipped = reader.skipped()
    finally:
        reader.close()
    scores = {}
    for m in per_seed[0]["test"]:
        mean, ci = mean_ci([s["test"][m] for s in per_seed])
        scores[m] = {"mean": mean, "ci95": ci}
    heads = {
        head: {m: dict(zip(("mean", "ci95"), mean_ci([s["test_heads"][head][m] for s in per_seed]))) for m in per_seed[0]["test"]}
        for head in per_seed[0]["test_heads"]
    }
    _, counts = np.unique(test_levels, return_counts=True)
    backbones = "+".join(([cfg.video_backbone] if cfg.needs_video else []) + ([cfg.audio_backbone] if cfg.needs_audio else [])) + (
        "" if cfg.width == 64 else f" (width {cfg.width})"
    )
    config: dict[str, Any] = {"pisa": asdict(cfg), "clip_cache": str(clip_path), "dataset": ds.info, "skipped": skipped}
    config["hash"] = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]
    result = TaskResult(
        dataset=ds.name,
        encoder=backbones,
        task=f"pisa-{cfg.modality}-{cfg.sampling}",
        head=cfg.mode,
        primary_metric="accuracy",
        scores=scores,
        per_seed=per_seed,
        config=config,
        encoder_meta={"video_backbone": cfg.video_backbone, "audio_backbone": cfg.audio_backbone, "width": cfg.width},
        counts={
            **{f"n_{s}": len(ids) for s, ids in splits.items()},
            "chance": float(counts.max() / counts.sum()),  # always the test split's most common level
            "n_label_rows": ds.info.get("n_label_rows"),
            "n_missing_video": ds.info.get("n_missing_video"),
            "n_skipped_performances": len(skipped),
        },
        environment=environment(),
        timings={
            "total_seconds": time.perf_counter() - start,
            "train_seconds_per_seed": float(np.mean([s["train_seconds"] for s in per_seed])),
        },
        confusion=np.sum([np.array(s["test_confusion"]) for s in per_seed], axis=0).tolist(),
        classes=[str(i) for i in range(1, N_LEVELS + 1)],
        extra={"heads": heads, "test_ids": splits["test"], "test_levels": [int(v) for v in test_levels]},
    )
    path = result.save(results_dir)
    from .plots import plot_result

    plot_result(result, path.with_suffix(".png"))
    return result
