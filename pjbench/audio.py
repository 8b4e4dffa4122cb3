"""Decode any audio file to mono float32 at a requested sample rate.

soundfile (libsndfile) reads wav/flac/ogg directly; PyAV (FFmpeg) reads everything
else (mp3, m4a, webm, ...). Resampling is soxr's high-quality mode through librosa.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf


class AudioError(RuntimeError):
    """A recording that cannot be used, with the file and the reason in the message."""


def load_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        audio, sr = _read_soundfile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        audio, sr = _read_pyav(path)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)  # downmix: (samples, channels) -> samples
    if audio.size == 0:
        raise AudioError(f"{path}: no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    if sr != sample_rate:
        audio = librosa.resample(audio, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(audio, dtype=np.float32)


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(str(path), dtype="float32", always_2d=False)
    return audio, int(sr)


def _read_pyav(path: Path) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="mono")
            chunks = []
            sr = stream.codec_context.sample_rate
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray()[0])
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray()[0])
    except AudioError:
        raise
    except Exception as err:  # FFmpeg's errors are many; all mean the same to the user
        raise AudioError(f"{path}: cannot decode audio ({type(err).__name__}: {err})") from err
    if not chunks:
        raise AudioError(f"{path}: no audio samples")
    return np.concatenate(chunks).astype(np.float32), int(sr)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, without decoding it (for shortcut and format reports)."""

    codec: str
    sample_rate: int
    channels: int
    duration: float


def probe_audio(path: str | Path) -> AudioInfo:
    path = Path(path)
    try:
        info = sf.info(str(path))
        return AudioInfo(
            str(info.format).lower() + (f"/{info.subtype.lower()}" if info.subtype else ""),
            int(info.samplerate),
            int(info.channels),
            float(info.duration),
        )
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            duration = 0.0
            if container.duration:
                duration = container.duration / 1_000_000  # microseconds
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            return AudioInfo(
                str(stream.codec_context.name), int(stream.codec_context.sample_rate), int(stream.codec_context.channels), duration
            )
    except AudioError:
        raise
    except Exception as err:
        raise AudioError(f"{path}: cannot read the audio header ({type(err).__name__}: {err})") from err
