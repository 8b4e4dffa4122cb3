"""Build the embedded synthetic piano dataset: scores × performers → FLAC + MIDI + manifest.

Each score is performed by three performers, one per expertise level, so ranking pairs
can compare the same piece. Splits are made by score, and every split has its own pool
of performers, so neither a piece nor a performer is on two sides.

Every random draw comes from a generator seeded by ``(seed, stream, indices)``, so a
clip's audio does not depend on the order or the process it was made in. The nuisance
draws (soundfont, room, loudness) have their own stream, independent of every label.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing as mp
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ...hashing import config_hash, file_sha256
from ...paths import datasets_dir
from ...progress import progress_bar
from ...version import __version__
from .performer import EXPERTISE_LEVELS, Performance, Performer, draw_performer, perform
from .render import PianoTimbre, Room, apply_room_and_level, available_timbres, render_performance, write_midi
from .scores import Score, generate_score

log = logging.getLogger(__name__)

# 4: every rendition of a piece is cut to one excerpt length (clip length no longer tells the player's level); a
# test split of 35% of the pieces (intervals narrow enough to separate encoders); small: 300 pieces of 10-40 s
GENERATOR_VERSION = "4"
SPLIT_FRACTIONS = {"train": 0.5, "val": 0.15, "test": 0.35}
MANIFEST_NAME = "manifest.csv"
INFO_NAME = "dataset.json"


@dataclass(frozen=True)
class SynthConfig:
    size: str = "small"
    seed: int = 0
    sample_rate: int = 24000
    n_scores: int = 300
    min_seconds: float = 10.0
    max_seconds: float = 40.0
    performers: str = "all"  # "all": every piece by a beginner, an advanced player and a virtuoso; "suited": by the one
    # whose level suits its difficulty (1-3 beginner, 4-6 advanced, 7-9 virtuoso), as in PISA; a third of the rendering

    @classmethod
    def for_size(cls, size: str, seed: int = 0, sample_rate: int = 24000) -> SynthConfig:
        presets = {
            "tiny": dict(n_scores=36, min_seconds=8.0, max_seconds=22.0),
            "small": dict(n_scores=300, min_seconds=10.0, max_seconds=40.0),
            "full": dict(n_scores=1500, min_seconds=10.0, max_seconds=40.0),
            # many short pieces: one PISA sample (160 frames = 8 s at 20 fps) per performance, cheap to render as video
            "short": dict(n_scores=180, min_seconds=8.5, max_seconds=12.0, performers="suited"),
        }
        if size not in presets:
            raise ValueError(f"unknown size {size!r}; choose one of {sorted(presets)}")
        return cls(size=size, seed=seed, sample_rate=sample_rate, **presets[size])  # type: ignore[arg-type]

    def key(self) -> str:
        fields = asdict(self)
        if fields["performers"] == "all":
            del fields["performers"]  # the datasets built before the option keep their key
        return config_hash({**fields, "generator": GENERATOR_VERSION})

    def default_dir(self) -> Path:
        """Where it is built by default; the generator version is in the name, so a newer pjbench renders its own set
        beside an older one instead of refusing the older one's folder."""
        return datasets_dir() / f"synthetic-{self.size}-seed{self.seed}-{self.sample_rate // 1000}k-g{GENERATOR_VERSION}"


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def score_splits(cfg: SynthConfig) -> list[str]:
    order = _rng(cfg.seed, 0).permutation(cfg.n_scores)
    n_train = int(round(SPLIT_FRACTIONS["train"] * cfg.n_scores))
    n_val = int(round(SPLIT_FRACTIONS["val"] * cfg.n_scores))
    splits = [""] * cfg.n_scores
    for rank, idx in enumerate(order):
        splits[idx] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    return splits


def performer_pools(cfg: SynthConfig, splits: list[str]) -> dict[tuple[str, str], list[Performer]]:
    """Per split and level, a pool of performers; each plays about two pieces."""
    pools: dict[tuple[str, str], list[Performer]] = {}
    for s_idx, split in enumerate(SPLIT_FRACTIONS):
        n = max(2, splits.count(split) // 2)
        for l_idx, level in enumerate(EXPERTISE_LEVELS):
            rng = _rng(cfg.seed, 1, s_idx, l_idx)
            pools[(split, level)] = [draw_performer(rng, f"{split}-{level}-p{i:03d}", level) for i in range(n)]
    return pools


@dataclass(frozen=True)
class ClipJob:
    score_index: int
    level_index: int
    split: str
    performer: Performer
    excerpt_seconds: float  # every rendition of the piece is cut to this length


def _performance(cfg: SynthConfig, score: Score, score_index: int, level_index: int, performer: Performer) -> Performance:
    return perform(score, performer, _rng(cfg.seed, 3, score_index, level_index))


def plan(cfg: SynthConfig) -> list[ClipJob]:
    splits = score_splits(cfg)
    pools = performer_pools(cfg, splits)
    jobs = []
    if cfg.performers not in ("all", "suited"):
        raise ValueError(f"performers={cfg.performers!r}: choose all or suited")
    for i, split in enumerate(splits):
        score = _score(cfg, i)[1]
        chosen = []
        for l_idx, level in enumerate(EXPERTISE_LEVELS):
            if cfg.performers == "suited" and l_idx != suited_level(score.difficulty):
                continue
            pool = pools[(split, level)]
            chosen.append((l_idx, pool[int(_rng(cfg.seed, 4, i, l_idx).integers(len(pool)))]))
        # one excerpt length for all renditions of the piece, so the clip's length says nothing of who plays it: up
        # to the earliest last onset among them (the fastest player's), so every rendition is cut while playing and
        # none ends in its natural release and silence (that ending would mark the fastest player); a slower player
        # is heard getting through less of the score in the same time
        excerpt = min(min(_performance(cfg, score, i, l_idx, p).last_onset for l_idx, p in chosen), cfg.max_seconds)
        jobs += [ClipJob(i, l_idx, split, p, round(excerpt, 3)) for l_idx, p in chosen]
    return jobs


def clip_id(job: ClipJob) -> str:
    return f"s{job.score_index:04d}-{EXPERTISE_LEVELS[job.level_index]}"


def _score(cfg: SynthConfig, score_index: int) -> tuple[float, Score]:
    score_rng = _rng(cfg.seed, 2, score_index)
    seconds = float(score_rng.uniform(cfg.min_seconds, cfg.max_seconds))
    return seconds, generate_score(score_rng, seconds=seconds * 0.85)  # performers stretch it; keep clips in range


def suited_level(difficulty: int) -> int:
    """The expertise level (index into EXPERTISE_LEVELS) that suits a piece: 1-3 beginner, 4-6 advanced, 7-9 virtuoso."""
    return min((int(difficulty) - 1) // 3, len(EXPERTISE_LEVELS) - 1)


def _make_clip(args: tuple[SynthConfig, ClipJob, Path, list[PianoTimbre]]) -> dict[str, object]:
    cfg, job, out_dir, timbres = args
    seconds, score = _score(cfg, job.score_index)
    # slow players take longer over the same score; every rendition is cut to the piece's one excerpt length
    performance = _performance(cfg, score, job.score_index, job.level_index, job.performer).truncated(job.excerpt_seconds)
    nuisance = _rng(cfg.seed, 5, job.score_index, job.level_index)
    timbre = timbres[int(nuisance.integers(len(timbres)))]
    room = Room(rt60=float(nuisance.uniform(0.2, 1.6)), wet=float(nuisance.uniform(0.0, 0.35)))
    loudness = float(nuisance.uniform(-32.0, -16.0))

    cid = clip_id(job)
    audio_path = out_dir / "audio" / f"{cid}.flac"
    midi_path = out_dir / "midi" / f"{cid}.mid"
    if not audio_path.exists():  # resumable: finished clips are kept
        audio = apply_room_and_level(render_performance(performance, timbre, cfg.sample_rate), room, loudness, cfg.sample_rate, nuisance)
        tmp = audio_path.with_suffix(".tmp.flac")
        sf.write(tmp, audio, cfg.sample_rate, subtype="PCM_24", format="FLAC")
        os.replace(tmp, audio_path)
    if not midi_path.exists():
        tmp = midi_path.with_suffix(".tmp.mid")
        write_midi(performance, tmp)
        os.replace(tmp, midi_path)

    p = job.performer
    return {
        "id": cid,
        "path": f"audio/{cid}.flac",
        "midi": f"midi/{cid}.mid",
        "duration": round(performance.duration, 3),
        "split": job.split,
        "score_id": f"s{job.score_index:04d}",
        "performer_id": p.id,
        "skill": round(p.skill, 4),
        "expertise": p.expertise,
        "expertise_name": EXPERTISE_LEVELS[p.expertise],
        "player_level": p.player_level,
        "difficulty": score.difficulty,
        "techniques": "|".join(score.techniques),
        "technique_primary": score.primary_technique,
        "figures": "|".join(score.figures),
        "texture": score.texture,
        "articulation": score.articulation,
        "accompaniment": int(score.accompaniment),
        "tempo_bpm": round(score.tempo_bpm, 2),
        "key": score.tonic,
        "mode": score.mode,
        "n_notes": len(performance.notes),
        **{f"prop_{k}": round(v, 4) for k, v in score.properties.items()},
        "timbre": timbre.name,
        "rt60": round(room.rt60, 3),
        "wet": round(room.wet, 3),
        "loudness_dbfs": round(loudness, 2),
    }


def build(cfg: SynthConfig, out_dir: Path | None = None, workers: int | None = None, progress: bool = True) -> Path:
    """Build (or reuse) the dataset; returns its folder. The same config twice does the work once."""
    out_dir = Path(out_dir) if out_dir else cfg.default_dir()
    info_path = out_dir / INFO_NAME
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("config_key") == cfg.key() and (out_dir / MANIFEST_NAME).exists():
            log.info("synthetic dataset already built at %s", out_dir)
            return out_dir
        raise FileExistsError(f"{out_dir} holds a different synthetic dataset ({info_path}); choose another --out or delete it")
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    (out_dir / "midi").mkdir(parents=True, exist_ok=True)
    timbres = available_timbres()
    jobs = plan(cfg)
    args = [(cfg, job, out_dir, timbres) for job in jobs]
    workers = workers or min(os.cpu_count() or 1, 8)
    rows: list[dict[str, object]] = []
    started = time.perf_counter()
    log.info("rendering the synthetic dataset (%s: %d clips, %d processes) into %s", cfg.size, len(jobs), workers, out_dir)
    bar = progress_bar(total=len(jobs), desc=f"synth {cfg.size}", unit="clip", enabled=progress)
    if workers > 1:
        # spawn, not fork: a forked child can inherit a FluidSynth lock held by a thread of the parent
        with mp.get_context("spawn").Pool(workers) as pool:
            for row in pool.imap_unordered(_make_clip, args, chunksize=4):
                rows.append(row)
                bar.update()
    else:
        for a in args:
            rows.append(_make_clip(a))
            bar.update()
    bar.close()
    rows.sort(key=lambda r: str(r["id"]))
    with open(out_dir / MANIFEST_NAME, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    info = {
        "name": "synthetic",
        "config": asdict(cfg),
        "config_key": cfg.key(),
        "generator_version": GENERATOR_VERSION,
        "pjbench_version": __version__,
        # the audio depends on which soundfonts this machine has: their files' hashes make that visible
        "timbres": [{**asdict(t), "sha256": file_sha256(t.path)} for t in timbres],
        "manifest_sha256": file_sha256(out_dir / MANIFEST_NAME),
        "n_clips": len(rows),
        "hours": round(sum(float(str(r["duration"])) for r in rows) / 3600, 3),
    }
    tmp = info_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, info_path)  # written last: its presence marks a complete dataset
    log.info("rendered %d clips (%.2f hours of audio) in %.0f s", len(rows), info["hours"], time.perf_counter() - started)
    return out_dir
