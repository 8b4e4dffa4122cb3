"""The PISA clip cache: per sample, 10 clips of 16 cropped 112 x 112 frames and 10 mel images, in HDF5.

Decoding a video per epoch would dominate training, so clips are decoded once. One file per (dataset,
sampling scheme, frame size); per sample the video clips (uint8, lzf-compressed), the audio images and
the label; a sample is visible only once fully written (resumable, like the embedding cache). A
performance whose video cannot be decoded is logged and recorded as skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..audio import AudioError, load_audio
from ..datasets.pisa import CLIP_FRAMES, PisaDataset, PisaPerformance, PisaSample, samples_of
from ..extraction.cache import cache_key
from ..parallel import ordered_map
from ..paths import cache_dir
from ..progress import progress_bar
from ..version import __version__
from ..video import VideoError, mel_image, read_frames

log = logging.getLogger(__name__)

AUDIO_RATE = 44100  # as the fusion paper resamples


@dataclass(frozen=True)
class ClipSample:
    id: str
    video: np.ndarray  # (10, 16, S, S, 3) uint8
    audio: np.ndarray | None  # (10, 224, 224) uint8, None when the video has no usable audio
    level: int  # 1-10
    split: str


def clip_cache_path(ds: PisaDataset, scheme: str, frame_size: int, root: Path | None = None) -> Path:
    conf = {"dataset": ds.name, "scheme": scheme, "frame_size": frame_size, "audio_rate": AUDIO_RATE, "labels": ds.info.get("labels_dir")}
    return (root or cache_dir()) / ds.name / f"clips-{scheme}-{frame_size}-{cache_key(conf)}.h5"


def build_clip_cache(
    ds: PisaDataset, scheme: str, frame_size: int = 112, root: Path | None = None, progress: bool = True, workers: int | None = None
) -> Path:
    """Decode every sample's clips and mel images into the cache (resumable). ``workers`` processes decode
    performances in parallel (default: the CPU count, at most 8); this process alone writes the file."""
    path = clip_cache_path(ds, scheme, frame_size, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "a") as fh:
        fh.attrs.update(dataset=ds.name, scheme=scheme, frame_size=frame_size, audio_rate=AUDIO_RATE, pjbench_version=__version__)
        samples = fh.require_group("samples")
        skipped = fh.require_group("skipped")
        jobs = []
        for perf in ds.performances:
            wanted = samples_of(perf, scheme) if perf.row in ds.videos else []
            if wanted and not all(s.id in samples and samples[s.id].attrs.get("complete", False) for s in wanted):
                jobs.append((perf, wanted, ds.videos[perf.row], frame_size))
        bar = progress_bar(total=len(jobs), desc=f"clips {ds.name} ({scheme})", unit="perf", enabled=progress)
        for (perf, wanted, _, _), outcome in zip(jobs, ordered_map(_decode_performance, jobs, workers)):
            if isinstance(outcome, str):
                log.warning("skipping performance %d: %s", perf.row, outcome)
                skipped.require_group(str(perf.row)).attrs["reason"] = outcome
            else:
                clips, images, no_audio = outcome
                if no_audio:
                    log.warning("performance %d: no usable audio (%s); video only", perf.row, no_audio)
                _write_samples(samples, perf, wanted, clips, images)
            fh.flush()  # finished performances survive a killed run
            bar.update()
        bar.close()
    return path


def _decode_performance(
    job: tuple[PisaPerformance, list[PisaSample], Path, int],
) -> tuple[list[np.ndarray], list[np.ndarray | None], str | None] | str:
    """Per wanted sample, its clips and mel images, and why there is no audio if there is none; or the reason the
    performance cannot be used. Runs in a worker process: it reports, the parent logs."""
    perf, wanted, video, size = job
    first = perf.first_frame
    indices = sorted({first + start + k for s in wanted for start in s.clip_starts for k in range(CLIP_FRAMES)})
    try:
        frames = read_frames(video, indices, perf.crop, size)
        no_audio = None
        try:
            audio = load_audio(video, AUDIO_RATE)
        except AudioError as err:
            audio, no_audio = None, str(err)
        clips, images = [], []
        for s in wanted:
            clips.append(np.stack([np.stack([frames[first + start + k] for k in range(CLIP_FRAMES)]) for start in s.clip_starts]))
            images.append(
                None
                if audio is None
                else np.stack([mel_image(_clip_audio(audio, first + start, perf.fps), AUDIO_RATE) for start in s.clip_starts])
            )
    except (VideoError, AudioError) as err:
        return str(err)
    return clips, images, no_audio


def _write_samples(
    group: h5py.Group, perf: PisaPerformance, wanted: list[PisaSample], clips: list[np.ndarray], images: list[np.ndarray | None]
) -> None:
    for s, video, audio in zip(wanted, clips, images):
        if s.id in group:
            del group[s.id]
        g = group.create_group(s.id)
        g.create_dataset("video", data=video, chunks=(1, *video.shape[1:]), compression="lzf")
        if audio is not None:
            g.create_dataset("audio", data=audio, chunks=(1, *audio.shape[1:]), compression="lzf")
        g.attrs.update(row=perf.row, index=s.index, level=perf.player_level, split=perf.split, video=perf.video)
        g.attrs["complete"] = True  # set last: a sample is visible only once fully written


def _clip_audio(audio: np.ndarray, frame: int, fps: float) -> np.ndarray:
    start = int(round(frame / fps * AUDIO_RATE))
    stop = int(round((frame + CLIP_FRAMES) / fps * AUDIO_RATE))
    if start >= len(audio):
        raise AudioError(f"the audio ends before frame {frame} ({len(audio) / AUDIO_RATE:.1f} s)")
    return audio[start:stop]


class ClipReader:
    """Read-only, the file opened once."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no clip cache at {path}")
        self.path = path
        self.file = h5py.File(path, "r")
        self.samples = self.file["samples"]

    def ids(self, split: str | None = None) -> list[str]:
        out = [k for k, g in self.samples.items() if g.attrs.get("complete", False) and (split is None or g.attrs["split"] == split)]
        return sorted(out, key=lambda k: tuple(int(x) if x.isdigit() else x for x in k.split("-")))

    def get(self, sample_id: str, video: bool = True, audio: bool = True) -> ClipSample:
        g = self.samples[sample_id]
        a = g["audio"][()] if audio and "audio" in g else None
        v = g["video"][()] if video else np.zeros((0,), np.uint8)
        return ClipSample(sample_id, v, a, int(g.attrs["level"]), str(g.attrs["split"]))

    def has_audio(self, sample_id: str) -> bool:
        return "audio" in self.samples[sample_id]

    def skipped(self) -> dict[str, str]:
        return {k: str(g.attrs["reason"]) for k, g in self.file["skipped"].items()}

    def close(self) -> None:
        self.file.close()
