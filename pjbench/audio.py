"""Decode any audio file to mono float32 at a requested sample rate.

soundfile (libsndfile) reads wav/flac/ogg directly; PyAV (FFmpeg) reads everything
else (mp3, m4a, webm, ...). Resampling is soxr's high-quality mode through librosa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf


class AudioError(RuntimeError):
    """A recording that cannot be used, with the file and the reason in the message."""


def load_audio(path: str | Path, sample_rate: int, max_samples: int | None = None) -> np.ndarray:
    """The file's audio, mono float32 at ``sample_rate``; with ``max_samples``, only its first ``max_samples`` samples
    (the same samples a whole decode gives, without decoding, or holding, the rest of a long file)."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        audio, sr = _read_soundfile(path, max_samples, sample_rate)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError):  # a format libsndfile does not read: FFmpeg's turn
        audio, sr = _read_pyav(path, max_samples, sample_rate)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)  # downmix: (samples, channels) -> samples
    if audio.size == 0:
        raise AudioError(f"{path}: no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    if sr != sample_rate:
        audio = librosa.resample(audio, orig_sr=sr, target_sr=sample_rate, res_type="soxr_hq")
    if max_samples is not None:
        audio = audio[:max_samples]
    return np.ascontiguousarray(audio, dtype=np.float32)


def peak_gain(audio: np.ndarray, peak: float) -> float:
    """The factor that brings the recording's largest absolute sample to ``peak`` (0: no normalisation, 1.0 returned;
    an all-zero recording is left as it is, for the silence check to name it)."""
    top = float(np.max(np.abs(audio))) if audio.size else 0.0
    return peak / top if peak and top > 0.0 else 1.0


# decoded past a cut, so that the resampler's filter sees what it sees in the whole file: far more than soxr's reach
RESAMPLER_MARGIN_SECONDS = 1.0


def _native_frames(max_samples: int | None, target_rate: int, native_rate: int) -> int | None:
    """Frames to decode at the file's own rate for ``max_samples`` at ``target_rate`` (None: all)."""
    if max_samples is None:
        return None
    return int(np.ceil((max_samples / target_rate + RESAMPLER_MARGIN_SECONDS) * native_rate))


def _read_soundfile(path: Path, max_samples: int | None = None, target_rate: int = 0) -> tuple[np.ndarray, int]:
    with sf.SoundFile(str(path)) as fh:
        sr = int(fh.samplerate)
        frames = _native_frames(max_samples, target_rate, sr)
        audio = fh.read(frames=-1 if frames is None else min(frames, fh.frames), dtype="float32", always_2d=False)
        declared = _declared_but_missing(fh)
    if declared and (frames is None or len(audio) >= fh.frames):
        raise AudioError(f"{path}: truncated: {declared}")
    return audio, sr


_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def _declared_but_missing(fh: sf.SoundFile) -> str | None:
    """For a WAV or AIFF whose header declares more sample bytes than the file holds (a copy or download cut
    short), what is missing; libsndfile reads such a file without complaint, up to where it ends."""
    found = _SHORT_DATA.search(fh.extra_info or "")
    if not found:
        return None
    declared, present = int(found.group(1)), int(found.group(2))
    if present >= declared:
        return None
    held = fh.frames / fh.samplerate
    return f"its header declares {declared} bytes of samples, the file holds {present} ({held:.1f} s)"


def _read_pyav(path: Path, max_samples: int | None = None, target_rate: int = 0) -> tuple[np.ndarray, int]:
    import av

    chunks: list[np.ndarray] = []
    decoded, sr, declared = 0, 0, 0.0
    try:
        container = av.open(str(path))
    except Exception as err:  # FFmpeg's errors are many; all mean the same to the user
        raise AudioError(f"{path}: not a readable audio file: its header cannot be parsed ({type(err).__name__}: {err})") from err
    try:
        with container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            declared = container.duration / 1_000_000 if container.duration else 0.0  # microseconds
            resampler = av.AudioResampler(format="fltp", layout="mono")
            sr = stream.codec_context.sample_rate
            wanted = _native_frames(max_samples, target_rate, sr)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray()[0])
                    decoded += chunks[-1].size
                if wanted is not None and decoded >= wanted:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray()[0])
    except AudioError:
        raise
    except Exception as err:
        if decoded and sr:
            where = f"after {decoded / sr:.1f} s" + (f" of the {declared:.1f} s its header declares" if declared else "")
            raise AudioError(f"{path}: truncated or damaged: decoding stopped {where} ({type(err).__name__}: {err})") from err
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
