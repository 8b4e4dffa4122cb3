"""A performer model: turns a score into performed notes from one continuous skill value.

Skill ``s`` in [0, 1] drives every deviation, so labels derived from it are known by
construction:

- tempo: a less skilled player plays slower (``0.6 + 0.4 s`` of the nominal tempo) and
  drifts more (per-beat log-tempo random walk, sd ``0.01 + 0.08 (1 - s)``);
- rubato: a skilled player slows into phrase ends (up to ``20 s`` %), a beginner does not;
- timing: onset jitter sd ``3 + 45 (1 - s)^1.5`` ms, chord asynchrony sd ``2 + 25 (1 - s)`` ms;
- errors: wrong notes ``p = 0.12 (1 - s)^2`` (often corrected), missed notes ``0.08 (1 - s)^2``;
- hesitations: at phrase and bar starts, ``p = 0.35 (1 - s)^2``, 0.3–1.2 s pauses;
- dynamics: phrase arches, metric accents and melody-over-accompaniment balance grow
  with ``s``; random velocity noise sd ``4 + 18 (1 - s)`` shrinks with it;
- articulation: duration noise sd ``0.3 (1 - s)``; legato overlap for skilled players;
- sustain pedal: skilled players change the pedal with the harmony (off in staccato),
  beginners use none or hold it blurrily.

Expertise levels: beginner ``s < 0.4``, advanced ``0.4 <= s < 0.75``, virtuoso above.
Player level 1–10 is ``1 + floor(10 s)`` (clipped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scores import Score

EXPERTISE_LEVELS: tuple[str, ...] = ("beginner", "advanced", "virtuoso")
SKILL_BANDS: dict[str, tuple[float, float]] = {
    "beginner": (0.05, 0.35),
    "advanced": (0.42, 0.70),
    "virtuoso": (0.78, 1.0),
}


@dataclass(frozen=True)
class Performer:
    id: str
    skill: float
    pedal_habit: str  # "none" | "blurry" | "harmonic"
    velocity_bias: float  # a personal loudness offset, in MIDI velocity units

    @property
    def expertise(self) -> int:
        return expertise_of(self.skill)

    @property
    def player_level(self) -> int:
        return int(np.clip(1 + np.floor(10 * self.skill), 1, 10))


def expertise_of(skill: float) -> int:
    if skill < 0.4:
        return 0
    return 1 if skill < 0.75 else 2


def draw_performer(rng: np.random.Generator, performer_id: str, level: str) -> Performer:
    lo, hi = SKILL_BANDS[level]
    skill = float(rng.uniform(lo, hi))
    habit = "harmonic" if skill > 0.6 else str(rng.choice(["none", "blurry", "harmonic"], p=[0.5, 0.3, 0.2]))
    return Performer(performer_id, skill, habit, float(rng.normal(0, 6)))


@dataclass(frozen=True)
class PerformedNote:
    pitch: int
    start: float  # seconds
    end: float  # seconds
    velocity: int


@dataclass
class Performance:
    notes: list[PerformedNote]
    pedal: list[tuple[float, float]]  # sustain pedal down/up times, seconds
    duration: float  # seconds, including the release tail

    @property
    def last_onset(self) -> float:
        """When the last note starts (seconds): after it come only its sound and the release tail."""
        return max((n.start for n in self.notes), default=0.0)

    def truncated(self, seconds: float) -> Performance:
        """The performance cut at ``seconds`` (notes and pedal released there), as a recording would be."""
        if self.duration <= seconds:
            return self
        notes = [PerformedNote(n.pitch, n.start, min(n.end, seconds), n.velocity) for n in self.notes if n.start < seconds - 0.05]
        pedal = [(a, min(b, seconds)) for a, b in self.pedal if a < seconds]
        return Performance(notes, pedal, seconds)


def perform(score: Score, performer: Performer, rng: np.random.Generator) -> Performance:
    s = performer.skill
    beat_times = _beat_clock(score, s, rng)

    def to_seconds(beat: float) -> float:
        i = int(np.clip(np.floor(beat), 0, len(beat_times) - 2))
        frac = beat - i
        return float(beat_times[i] + frac * (beat_times[i + 1] - beat_times[i]))

    jitter_sd = (3 + 45 * (1 - s) ** 1.5) / 1000
    async_sd = (2 + 25 * (1 - s)) / 1000
    p_wrong = 0.12 * (1 - s) ** 2
    p_missed = 0.08 * (1 - s) ** 2
    vel_noise = 4 + 18 * (1 - s)
    art_noise = 0.3 * (1 - s)

    onset_shift: dict[float, float] = {}
    notes: list[PerformedNote] = []
    for n in score.notes:
        if rng.random() < p_missed:
            continue
        key = round(n.onset, 6)
        if key not in onset_shift:
            onset_shift[key] = rng.normal(0, jitter_sd)
        start = to_seconds(n.onset) + onset_shift[key] + (rng.normal(0, async_sd) if n.chord_member else 0.0)
        nominal_end = to_seconds(n.onset + n.duration)
        length = max(nominal_end - to_seconds(n.onset), 0.03) * float(np.clip(1 + rng.normal(0, art_noise), 0.3, 1.8))
        if s > 0.5 and n.duration >= 0.5:
            length *= 1.05  # legato overlap
        velocity = _velocity(score, n.onset, n.phrase, n.hand, s, performer.velocity_bias) + rng.normal(0, vel_noise)
        pitch = n.pitch
        if rng.random() < p_wrong:
            pitch = n.pitch + int(rng.choice([-2, -1, 1, 2]))
            if rng.random() < 0.6:  # the player hears it and corrects
                fix = start + 0.12 + rng.uniform(0, 0.2)
                notes.append(PerformedNote(pitch, max(start, 0.0), fix, _clip_velocity(velocity)))
                start, pitch = fix, n.pitch
        notes.append(PerformedNote(pitch, max(start, 0.0), max(start, 0.0) + length, _clip_velocity(velocity)))

    notes.sort(key=lambda x: (x.start, x.pitch))
    pedal = _pedal(score, performer, to_seconds, rng)
    end = max([n.end for n in notes] + [p[1] for p in pedal] + [to_seconds(score.total_beats)])
    return Performance(notes, pedal, end + 1.0)


def _beat_clock(score: Score, s: float, rng: np.random.Generator) -> np.ndarray:
    """Time in seconds of every beat boundary, with tempo choice, drift, rubato and hesitations."""
    n_beats = int(np.ceil(score.total_beats)) + 2
    base = score.seconds_per_beat / ((0.6 + 0.4 * s) * rng.uniform(0.95, 1.05))
    drift = np.cumsum(rng.normal(0, 0.01 + 0.08 * (1 - s), n_beats))
    drift -= np.linspace(0, drift[-1], n_beats) * (s > 0.5)  # skilled players return to their tempo
    durations = base * np.exp(drift)
    phrase_ends = {int(round(p)) - 1 for p in score.phrase_starts[1:]} | {int(np.ceil(score.total_beats)) - 1}
    hesitation_p = 0.35 * (1 - s) ** 2
    for b in range(n_beats):
        if b in phrase_ends:
            durations[b] *= 1 + 0.2 * s * rng.uniform(0.5, 1.0)  # rubato into the phrase end
        if ((b + 1) in phrase_ends or b % 4 == 3) and rng.random() < hesitation_p:
            durations[b] += rng.uniform(0.3, 1.2)
    return np.concatenate([[0.0], np.cumsum(durations)]) + 0.2


def _velocity(score: Score, onset: float, phrase: int, hand: str, s: float, bias: float) -> float:
    starts = score.phrase_starts + [score.total_beats]
    p0, p1 = starts[phrase], starts[phrase + 1]
    pos = (onset - p0) / max(p1 - p0, 1e-6)
    arch = 18 * s * np.sin(np.pi * pos)  # crescendo to the middle of the phrase, then diminuendo
    accent = 8 * s * (1.0 if abs(onset - round(onset)) < 1e-6 and int(round(onset)) % 2 == 0 else 0.0)
    balance = -12 * s if hand == "L" else 0.0
    return 58 + bias + arch + accent + balance


def _clip_velocity(v: float) -> int:
    return int(np.clip(round(v), 12, 124))


def _pedal(score: Score, performer: Performer, to_seconds, rng: np.random.Generator) -> list[tuple[float, float]]:
    if performer.pedal_habit == "none" or score.articulation == "staccato" and performer.pedal_habit == "harmonic":
        return []
    if performer.pedal_habit == "blurry":
        out, t = [], 0.0
        while t < score.total_beats:
            span = float(rng.uniform(4, 12))
            out.append((to_seconds(t), to_seconds(min(t + span, score.total_beats))))
            t += span + float(rng.uniform(0, 4))
        return out
    # harmonic: change with each half-bar harmony, catching the pedal just after the beat
    out = []
    for b in np.arange(0.0, score.total_beats, 2.0):
        down = to_seconds(b) + 0.05 + abs(rng.normal(0, 0.02))
        up = to_seconds(min(b + 2.0, score.total_beats)) + 0.01
        out.append((down, up))
    return out
