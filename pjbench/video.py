"""Decode video frames (PyAV), crop and resize them; mel-spectrogram images of short audio clips (librosa).

Used by the PISA path: clips of 16 frames cropped to the hands and resized to 112 x 112, and per clip
the audio as a one-channel 224 x 224 mel image, as the released PISA loader made it (n_fft 2048, hop
512, 128 mels from 20 to 8300 Hz, dB with an 80 dB floor, z-normalised, scaled to 0-255).
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
from PIL import Image

from .audio import AudioError


class VideoError(RuntimeError):
    """A video that cannot be used, with the file and the reason in the message."""


def read_frames(path: Path, indices: list[int], crop: tuple[int, int, int, int], size: int = 112) -> dict[int, np.ndarray]:
    """Frames ``indices`` (0-based, in decoding order) of the first video stream, cropped to ``crop``
    (x1, y1, x2, y2, clipped to the frame) and resized to ``size`` x ``size`` RGB uint8."""
    import av

    wanted = sorted(set(indices))
    if not wanted:
        return {}
    if not Path(path).is_file():
        raise VideoError(f"{path}: file not found")
    out: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            targets = set(wanted)
            for index, frame in enumerate(container.decode(stream)):
                if index in targets:
                    out[index] = _crop_resize(frame.to_ndarray(format="rgb24"), crop, size)
                if index >= wanted[-1]:
                    break
    except VideoError:
        raise
    except Exception as err:  # FFmpeg's errors are many; all mean the same to the user
        raise VideoError(f"{path}: cannot decode video ({type(err).__name__}: {err})") from err
    missing = [i for i in wanted if i not in out]
    if missing:
        raise VideoError(f"{path}: the video ends before frame {missing[0]} (it has {len(out) and max(out) + 1} decoded)")
    return out


def _crop_resize(rgb: np.ndarray, crop: tuple[int, int, int, int], size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = max(crop[0], 0), max(crop[1], 0), min(crop[2], w), min(crop[3], h)
    if x2 <= x1 or y2 <= y1:
        raise VideoError(f"crop box {crop} lies outside the {w} x {h} frame")
    image = Image.fromarray(rgb[y1:y2, x1:x2]).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def mel_image(audio: np.ndarray, sample_rate: int, size: int = 224) -> np.ndarray:
    """One clip's audio as a (size, size) uint8 mel image (frequency rows, low at the bottom)."""
    if len(audio) == 0:
        raise AudioError("no audio samples in the clip")
    power = librosa.feature.melspectrogram(y=audio, sr=sample_rate, n_fft=2048, hop_length=512, n_mels=128, fmin=20, fmax=8300)
    db = librosa.power_to_db(power, ref=np.max, top_db=80)
    z = (db - db.mean()) / (db.std() + 1e-6)
    span = z.max() - z.min()
    scaled = np.zeros_like(z) if span < 1e-6 else 255 * (z - z.min()) / span
    image = Image.fromarray(scaled[::-1].astype(np.float32)).resize((size, size), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(image), 0, 255).astype(np.uint8)
