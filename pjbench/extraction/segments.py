"""Cut a recording into fixed-length segments.

Like the reference: non-overlapping segments from t=0, at most ``max_segments``.
Unlike it: a trailing partial segment of at least ``min_fraction`` of a segment is kept
(zero-padded, its real length recorded), and a recording shorter than that is refused
rather than silently zero-filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SegmentConfig:
    seconds: float = 10.0
    max_segments: int | None = 30  # None: every segment
    min_fraction: float = 0.5
    silence_rms: float = 1e-5  # below this a recording is reported as silent


@dataclass
class Segments:
    audio: np.ndarray  # (n_segments, samples_per_segment), float32
    last_seconds: float  # real audio in the last segment


class TooShortError(ValueError):
    pass


class SilentError(ValueError):
    pass


def segment(audio: np.ndarray, sample_rate: int, cfg: SegmentConfig) -> Segments:
    seg_len = int(round(cfg.seconds * sample_rate))
    n_full, rest = divmod(len(audio), seg_len)
    keep_partial = rest >= cfg.min_fraction * seg_len
    n = n_full + int(keep_partial)
    if cfg.max_segments is not None:
        n = min(n, cfg.max_segments)
    if n == 0:
        raise TooShortError(f"{len(audio) / sample_rate:.2f} s is shorter than {cfg.min_fraction * cfg.seconds:.1f} s")
    wave = audio.astype(np.float64)
    if float(np.sqrt(np.mean(wave**2))) < cfg.silence_rms:
        raise SilentError("the recording is silent")
    if float(np.std(wave)) < cfg.silence_rms:  # a constant level carries no sound: a DC offset, or a stuck converter
        raise SilentError(f"the recording is a constant level ({float(np.mean(wave)):+.3g}, DC only): no sound")
    out = np.zeros((n, seg_len), np.float32)
    used = audio[: n * seg_len]
    out.reshape(-1)[: len(used)] = used
    last = min(len(audio) - (n - 1) * seg_len, seg_len) / sample_rate
    return Segments(out, float(last))
