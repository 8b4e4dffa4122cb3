"""Check any encoder before benchmarking it: shapes against its declared metadata, determinism,
batch invariance, silence and very short input, NaNs, memory and throughput."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import numpy as np
import torch

from .base import Encoder


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def _test_audio(sample_rate: int, seconds: float, batch: int, seed: int = 0) -> torch.Tensor:
    """Piano-like test signals: decaying harmonic tones at random pitches, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    out = np.zeros((batch, n), np.float32)
    for b in range(batch):
        for onset in np.arange(0, seconds, 0.25):
            f0 = 440 * 2 ** ((rng.integers(-24, 24)) / 12)
            tail = t[t >= onset] - onset
            note = sum(np.sin(2 * np.pi * f0 * k * tail) / k for k in (1, 2, 3)) * np.exp(-3 * tail)
            out[b, t >= onset] += 0.05 * note.astype(np.float32)
        out[b] += 0.001 * rng.standard_normal(n).astype(np.float32)
    return torch.from_numpy(out)


def validate_encoder(encoder: Encoder, seconds: float = 10.0, device: str = "cpu", tolerance: float = 1e-4) -> list[Check]:
    meta = encoder.meta
    dev = torch.device(device)
    encoder.to(dev)
    checks: list[Check] = []
    sane = meta.sample_rate > 0 and meta.frame_rate > 0 and meta.dim > 0 and meta.n_layers >= 1
    checks.append(Check("metadata", sane, f"{meta.sample_rate} Hz, {meta.frame_rate:g} frames/s, dim {meta.dim}, {meta.n_layers} layers"))

    audio = _test_audio(meta.sample_rate, seconds, 3).to(dev)
    with torch.inference_mode():
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        start = time.perf_counter()
        out = encoder.embed(audio).float().cpu()
        elapsed = time.perf_counter() - start
        peak = (
            torch.cuda.max_memory_allocated(dev) / 2**20
            if dev.type == "cuda"
            else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        )
        expected = (3, meta.stacked_layers, meta.frames(seconds), meta.dim)
        checks.append(Check("output shape", tuple(out.shape) == expected, f"got {tuple(out.shape)}, declared {expected}"))
        checks.append(_other_lengths(encoder, audio[:1], seconds))
        checks.append(
            Check(
                "finite output",
                bool(torch.isfinite(out).all()),
                "no NaN or infinite values" if torch.isfinite(out).all() else "NaN or inf found",
            )
        )
        again = encoder.embed(audio).float().cpu()
        diff = float((again - out).abs().max()) if again.shape == out.shape else float("inf")
        checks.append(Check("deterministic", diff <= tolerance, f"max difference between two runs {diff:.2e}"))
        # the same item with different neighbours (here: silence) must give the same embedding
        mixed = torch.cat([audio[:1], torch.zeros_like(audio[1:])])
        alone = encoder.embed(mixed).float().cpu()[:1]
        single = encoder.embed(audio[:1]).float().cpu()
        scale = float(out[:1].abs().max()) or 1.0
        diff_batch = max(float((alone - out[:1]).abs().max()), float((single - out[:1]).abs().max())) / scale
        checks.append(
            Check("batch invariance", diff_batch <= tolerance * 10, f"max relative difference across batch contents {diff_batch:.2e}")
        )
        silent = encoder.embed(torch.zeros_like(audio[:1])).float().cpu()
        checks.append(
            Check(
                "silence",
                bool(torch.isfinite(silent).all()),
                "finite on an all-zero segment" if torch.isfinite(silent).all() else "NaN/inf on silence",
            )
        )
        short = torch.zeros_like(audio[:1])
        short[:, : meta.sample_rate // 2] = audio[:1, : meta.sample_rate // 2]  # 0.5 s of sound, zero-padded as the extractor does
        short_out = encoder.embed(short).float().cpu()
        checks.append(
            Check(
                "very short input",
                bool(torch.isfinite(short_out).all()) and short_out.shape == single.shape,
                "0.5 s of audio padded to a segment",
            )
        )
    rtf = 3 * seconds / elapsed if elapsed > 0 else float("inf")
    checks.append(Check("throughput", True, f"{rtf:.1f}x real time on {dev} (batch of 3 segments)"))
    checks.append(Check("peak memory", True, f"{peak:.0f} MB {'GPU' if dev.type == 'cuda' else 'RSS growth'} for a batch of 3"))
    contract = getattr(encoder, "hear_checks", None)  # a HEAR-API module: its own contract too
    if callable(contract):
        try:
            checks += [Check(name, bool(passed), detail) for name, passed, detail in contract()]
        except Exception as err:  # a module that breaks its own contract fails the check, it does not crash the report
            checks.append(Check("HEAR contract", False, f"{type(err).__name__}: {err}"))
    return checks


def _other_lengths(encoder: Encoder, audio: torch.Tensor, seconds: float) -> Check:
    """Segments of half and three quarters of the length give the frame count the metadata declares for them."""
    meta = encoder.meta
    found = []
    for fraction in (0.5, 0.75):
        length = seconds * fraction
        n = int(round(length * meta.sample_rate))
        frames = encoder.embed(audio[:, :n]).shape[2]
        declared = meta.frames(length)
        found.append(f"{length:g} s: {frames} (declared {declared})")
        if frames != declared:
            return Check("other segment lengths", False, "; ".join(found))
    return Check("other segment lengths", True, "; ".join(found))
