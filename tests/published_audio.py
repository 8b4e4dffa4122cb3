"""Small audio files written under the names the real published label files expect.

The loaders are tested on the real label files (``tests/data/published``) with an audio root
holding a few recordings per split and label, in mixed containers, sample rates and channel
counts, while every other row is missing. The sound depends on the label (note rate and
register rise with the level), so probes trained on it have something to learn.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf

from pjbench.datasets import load_dataset

PUBLISHED = Path(__file__).parent / "data" / "published"
PLD_LABELS = PUBLISHED / "pianojudges"
ICPC_LABELS = PUBLISHED / "icpc2015"

# container -> (PyAV codec or None for soundfile, sample rate, channels)
FORMATS: dict[str, tuple[str | None, int, int]] = {
    "wav": (None, 44100, 2),
    "flac": (None, 22050, 1),
    "ogg": (None, 32000, 1),
    "mp3": ("libmp3lame", 44100, 2),
    "m4a": ("aac", 44100, 1),
    "webm": ("libopus", 48000, 2),
}


def write_audio(path: Path, audio: np.ndarray, sample_rate: int, channels: int, codec: str | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.stack([audio] * channels, axis=1) if channels > 1 else audio
    if codec is None:
        sf.write(str(path), data, sample_rate)
        return path
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=sample_rate, layout="stereo" if channels > 1 else "mono")
        interleaved = np.ascontiguousarray(np.atleast_2d(data.reshape(1, -1)), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(interleaved, format="flt", layout="stereo" if channels > 1 else "mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def label_sound(level: float, seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Notes whose rate and register rise with ``level``; a little noise so nothing is silent or identical."""
    n = int(seconds * sample_rate)
    out = 0.01 * rng.standard_normal(n)
    rate = 1.5 + 2.5 * level
    decay = np.arange(sample_rate) / sample_rate  # each note rings for one second
    for onset in np.arange(0, seconds, 1 / rate):
        f0 = 220 * 2 ** ((12 * level + rng.integers(0, 7)) / 12)
        start = int(onset * sample_rate)
        span = min(len(decay), n - start)
        out[start : start + span] += 0.2 * np.sin(2 * np.pi * f0 * decay[:span]) * np.exp(-4 * decay[:span])
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def populate(
    name: str,
    audio_root: Path,
    labels_dir: Path,
    per_cell: int,
    formats: dict[str, list[str]],
    seconds: tuple[float, float] = (6.0, 14.0),
    seed: int = 0,
    level_of=float,
) -> dict[str, Path]:
    """Write ``per_cell`` recordings per (split, label) of ``name``; ``formats[label]`` cycles containers."""
    audio_root.mkdir(parents=True, exist_ok=True)
    empty = load_dataset(name, audio_root=audio_root, labels_dir=labels_dir)
    rng = np.random.default_rng(seed)
    cells: dict[tuple[str, str], list[dict]] = {}
    for row in sorted(empty.info["missing"], key=lambda m: m["id"]):
        cells.setdefault((row["split"], row["label"]), []).append(row)
    written = {}
    for (_split, label), rows in sorted(cells.items()):
        choices = formats.get(label, formats.get("*", ["wav"]))
        for k, row in enumerate(rows[:per_cell]):
            ext = choices[k % len(choices)]
            codec, rate, channels = FORMATS[ext]
            expected = row["expected"]
            relative = Path(expected).with_suffix(f".{ext}") if "<" not in expected else Path(f"level-{label}") / f"{row['id']}.{ext}"
            audio = label_sound(level_of(label), float(rng.uniform(*seconds)), rate, rng)
            written[row["id"]] = write_audio(audio_root / relative, audio, rate, channels, codec)
    return written
