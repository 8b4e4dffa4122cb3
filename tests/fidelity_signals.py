"""The fixed test signals of the fidelity fixtures: made the same way by the reference generators
(research/fidelity/) and by the tests, and checked by their sha256 recorded in each fixture."""

from __future__ import annotations

import hashlib

import numpy as np


def chord(sample_rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A decaying A-major chord with a little noise, peak about 0.4."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    tones = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) * np.exp(-0.3 * t)
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.01
    return (0.13 * tones + noise).astype(np.float32)


def silence_then_noise(sample_rate: int, seconds: float, silent_seconds: float, seed: int = 1) -> np.ndarray:
    """Digital silence, then white noise (std 0.1): shows which part of a segment a front end covers."""
    n, quiet = int(round(seconds * sample_rate)), int(round(silent_seconds * sample_rate))
    out = np.zeros(n, np.float32)
    out[quiet:] = np.random.default_rng(seed).standard_normal(n - quiet).astype(np.float32) * 0.1
    return out


def quiet_then_loud(sample_rate: int, seconds: float, seed: int = 2) -> np.ndarray:
    """Noise whose second half is 8x louder: a per-recording peak differs from a per-segment one."""
    out = np.random.default_rng(seed).standard_normal(int(round(seconds * sample_rate))).astype(np.float32) * 0.05
    out[len(out) // 2 :] *= 8
    return out


def sha256(signal: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(signal, dtype=np.float32).tobytes()).hexdigest()
