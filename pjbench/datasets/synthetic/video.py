"""Keyboard videos for the embedded dataset: a top view of the keys being pressed and the hands moving over them,
rendered from each clip's performed-notes MIDI, with the clip's audio muxed in, so the PISA path (video, audio,
both) runs on a fresh machine.

A frame shows 88 keys; a pressed key lights up with its velocity; each hand (notes below / from middle C) is a
blob that glides towards the keys it plays, with a fingertip on each pressed key. So what a camera would see of
a player's level is there: tempo, evenness, wrong and missed notes, hand motion. Lighting and sensor noise are
drawn from the clip's nuisance stream, independent of every label. A PISA-format annotation table
(``pisa_annotations.tsv``: crop box, frame rate, frame range, player level 1-10, song level, split) makes the
folder readable by the PISA loader.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from ...parallel import ordered_map
from ...progress import progress_bar
from .build import MANIFEST_NAME, suited_level
from .performer import EXPERTISE_LEVELS

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 176, 120
KEYS_TOP, KEYS_BOTTOM = 64, 116
CROP = (0, 24, WIDTH, HEIGHT)  # hands and keys; the loader crops this and resizes it to 112 x 112
ANNOTATIONS = "pisa_annotations.tsv"
_WHITE_STEPS = {0, 2, 4, 5, 7, 9, 11}


@dataclass(frozen=True)
class Note:
    pitch: int
    start: float
    end: float
    velocity: int


def read_notes(midi_path: Path) -> list[Note]:
    import mido

    notes, on, now = [], {}, 0.0
    for msg in mido.MidiFile(str(midi_path)):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            on[msg.note] = (now, msg.velocity)
        elif msg.type in ("note_off", "note_on") and msg.note in on:
            start, vel = on.pop(msg.note)
            notes.append(Note(msg.note, start, now, vel))
    return sorted(notes, key=lambda n: n.start)


def key_geometry() -> dict[int, tuple[int, int, bool]]:
    """MIDI pitch 21-108 -> (x0, x1, is_white) in frame pixels."""
    geometry, white_index = {}, 0
    left = (WIDTH - 52 * 3) // 2
    for pitch in range(21, 109):
        if pitch % 12 in _WHITE_STEPS:
            x0 = left + 3 * white_index
            geometry[pitch] = (x0, x0 + 2, True)
            white_index += 1
        else:
            x0 = left + 3 * white_index - 1
            geometry[pitch] = (x0, x0 + 2, False)
    return geometry


class KeyboardRenderer:
    def __init__(self, notes: list[Note], fps: float, rng: np.random.Generator) -> None:
        self.notes, self.fps, self.rng = notes, fps, rng
        self.geometry = key_geometry()
        self.light = float(rng.uniform(0.8, 1.15))  # nuisance: lighting and sensor noise
        noise = float(rng.uniform(1.0, 4.0))
        self.noise_bank = [rng.normal(0, noise, (HEIGHT, WIDTH, 3)).astype(np.float32) for _ in range(7)]
        self.hand_x = {"L": WIDTH * 0.35, "R": WIDTH * 0.65}
        self.base = self._keyboard()
        self.starts = np.array([n.start for n in notes])
        self.ends = np.array([n.end for n in notes])

    def _keyboard(self) -> np.ndarray:
        img = np.zeros((HEIGHT, WIDTH, 3), np.float32)
        img[:] = (70, 45, 30)  # the piano's wood
        for x0, x1, white in self.geometry.values():
            if white:
                img[KEYS_TOP:KEYS_BOTTOM, x0:x1] = (235, 235, 228)
        for x0, x1, white in self.geometry.values():
            if not white:
                img[KEYS_TOP : KEYS_TOP + 32, x0:x1] = (20, 20, 20)
        return img

    def frame(self, index: int) -> np.ndarray:
        t = index / self.fps
        img = self.base.copy()
        active = [self.notes[i] for i in np.flatnonzero((self.starts <= t) & (t < self.ends))]
        targets: dict[str, list[float]] = {"L": [], "R": []}
        for n in active:
            if n.pitch not in self.geometry:
                continue
            x0, x1, white = self.geometry[n.pitch]
            shade = 0.35 + 0.65 * n.velocity / 127
            bottom = KEYS_BOTTOM if white else KEYS_TOP + 32
            img[KEYS_TOP:bottom, x0:x1] = np.array((90, 160, 255)) * shade + (1 - shade) * img[KEYS_TOP:bottom, x0:x1]
            targets["L" if n.pitch < 60 else "R"].append((x0 + x1) / 2)
        for hand, xs in targets.items():
            if xs:  # a hand glides towards the keys it plays (fast, not instantly)
                self.hand_x[hand] += 0.6 * (float(np.mean(xs)) - self.hand_x[hand])
            cx = int(round(self.hand_x[hand]))
            y0, y1 = KEYS_TOP - 34, KEYS_TOP - 8
            x0, x1 = max(cx - 12, 0), min(cx + 12, WIDTH)
            img[y0:y1, x0:x1] = (205, 160, 130)  # the back of the hand
            for x in xs:  # fingertips on the pressed keys
                xi = int(round(x))
                img[KEYS_TOP - 8 : KEYS_TOP + 6, max(xi - 1, 0) : xi + 1] = (190, 140, 110)
        img *= self.light
        img += self.noise_bank[index % len(self.noise_bank)]
        return np.clip(img, 0, 255, out=img).astype(np.uint8)


def render_video(midi_path: Path, audio_path: Path, out: Path, fps: float, rng: np.random.Generator) -> int:
    """Write ``out`` (H.264 + AAC in MP4); returns the number of video frames."""
    notes = read_notes(midi_path)
    audio, sr = sf.read(str(audio_path), dtype="float32", always_2d=False)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    n_frames = int(np.floor(len(audio) / sr * fps))
    renderer = KeyboardRenderer(notes, fps, rng)
    tmp = out.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as container:
        video = container.add_stream("libx264", rate=int(fps))
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "20", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=sr, layout="mono")
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(renderer.frame(i), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        chunk = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
        chunk.sample_rate = sr
        for packet in sound.encode(chunk):
            container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    os.replace(tmp, out)
    return n_frames


def suited_performances(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One performance per piece: the one whose player suits the piece's difficulty (1-3 beginner, 4-6 advanced,
    7-9 virtuoso). Like PISA, where better players play harder pieces, the level then shows in what is played
    (note density, hand travel, tempo) as well as in how (evenness, errors)."""
    by_score: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        by_score.setdefault(r["score_id"], {})[r["expertise_name"]] = r
    out = []
    for score_id in sorted(by_score):
        performances = by_score[score_id]
        wanted = EXPERTISE_LEVELS[suited_level(int(next(iter(performances.values()))["difficulty"]))]
        if wanted in performances:
            out.append(performances[wanted])
    return out


def _render_one(job: tuple[Path, dict[str, str], float, int, int]) -> tuple[int, int]:
    root, row, fps, seed, k = job
    out = root / "video" / f"{row['id']}.mp4"
    if out.exists():
        with av.open(str(out)) as container:
            return k, int(container.streams.video[0].frames)
    return k, render_video(root / row["midi"], root / row["path"], out, fps, np.random.default_rng([seed, 7, k]))


def build_videos(
    root: Path, fps: float = 20.0, seed: int = 0, per_split: int | None = None, progress: bool = True, workers: int | None = None
) -> Path:
    """Render video/<id>.mp4 for one suited performance per piece of a synthetic dataset folder (resumable:
    finished videos are kept) and write its PISA table. ``per_split`` keeps the first N performances of each
    split (quicker tests and demos); ``workers`` processes render in parallel (default: the CPU count, at most 8)."""
    with open(root / MANIFEST_NAME, newline="") as fh:
        rows = suited_performances(list(csv.DictReader(fh)))
    if per_split is not None:
        chosen: list[dict[str, str]] = []
        for split in sorted({r["split"] for r in rows}):
            chosen += [r for r in rows if r["split"] == split][:per_split]
        rows = sorted(chosen, key=lambda r: r["id"])
    (root / "video").mkdir(exist_ok=True)
    jobs = [(root, row, fps, seed, k) for k, row in enumerate(rows, start=1)]
    n_frames: dict[int, int] = {}
    for k, n in progress_bar(
        ordered_map(_render_one, jobs, workers), total=len(jobs), desc="keyboard video", unit="clip", enabled=progress
    ):
        n_frames[k] = n
    table = [
        {
            "pkl_video_id": k,
            "youtube link": f"synthetic:{row['id']}",
            "crop": ", ".join(str(v) for v in CROP),
            "filename": row["id"],
            "framerate": fps,
            "frame_start": 0,
            "frame_end": n_frames[k],
            "level_player": row["player_level"],
            "level_song": row["difficulty"],
            "song": row["score_id"],
            "split": row["split"],
            "performer": row["performer_id"],
        }
        for k, row in enumerate(rows, start=1)
    ]
    tmp = root / f"{ANNOTATIONS}.tmp"
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(table)
    os.replace(tmp, root / ANNOTATIONS)
    return root
