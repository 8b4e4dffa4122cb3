"""Programmatic piano scores whose technique and difficulty labels follow from construction.

A score is a list of notes in beats. It is built from phrases; each phrase is one
*figure* (scale, arpeggio, ornament, repeated notes, melody) played in one *texture*
(single notes, double notes in thirds or sixths, octaves) with one *articulation*
(legato, staccato), optionally over a left-hand accompaniment.

The PLD technique labels follow directly:

=============== ==========================================================
label           present when
=============== ==========================================================
Scales          a phrase is a scale run
Arpeggios       a phrase is a broken-chord run
Ornaments       a phrase is a melody decorated with trills/turns/mordents/grace notes
Repeatednotes   a phrase is built from rapidly repeated pitches
Doublenotes     the texture is thirds or sixths in one hand
Octave          the texture is octaves in one hand
Staccato        the articulation is staccato
=============== ==========================================================

Difficulty 1–9 is a documented function of measured score properties
(:func:`difficulty_from_properties`), not of the generator's hidden choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..techniques import TECHNIQUES

FIGURES: tuple[str, ...] = ("scale", "arpeggio", "ornament", "repeated", "melody")
TEXTURES: tuple[str, ...] = ("single", "double", "octave")
ARTICULATIONS: tuple[str, ...] = ("legato", "staccato")

_FIGURE_LABEL = {
    "scale": "Scales",
    "arpeggio": "Arpeggios",
    "ornament": "Ornaments",
    "repeated": "Repeatednotes",
}
_TEXTURE_LABEL = {"double": "Doublenotes", "octave": "Octave"}

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)  # harmonic minor would add leaps; natural minor keeps runs smooth
PROGRESSION = (0, 3, 4, 0, 5, 3, 4, 0)  # I IV V I vi IV V I, as scale degrees of chord roots


@dataclass(frozen=True)
class ScoreNote:
    pitch: int
    onset: float  # beats
    duration: float  # beats
    hand: str  # "R" or "L"
    phrase: int  # index of the phrase it belongs to
    chord_member: bool = False  # an added note of a double-note/octave/chord onset


@dataclass
class Score:
    notes: list[ScoreNote]
    tempo_bpm: float
    tonic: int
    mode: str
    figures: list[str]
    texture: str
    articulation: str
    accompaniment: bool
    phrase_starts: list[float]
    total_beats: float
    properties: dict[str, float] = field(default_factory=dict)
    difficulty: int = 0

    @property
    def techniques(self) -> tuple[str, ...]:
        present = {_FIGURE_LABEL[f] for f in self.figures if f in _FIGURE_LABEL}
        if self.texture in _TEXTURE_LABEL:
            present.add(_TEXTURE_LABEL[self.texture])
        if self.articulation == "staccato":
            present.add("Staccato")
        return tuple(t for t in TECHNIQUES if t in present)

    @property
    def primary_technique(self) -> str:
        """The single label for the single-label task: the first technique figure's, else texture, else articulation."""
        for figure in self.figures:
            if figure in _FIGURE_LABEL:
                return _FIGURE_LABEL[figure]
        if self.texture in _TEXTURE_LABEL:
            return _TEXTURE_LABEL[self.texture]
        return "Staccato"

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm


class _Key:
    def __init__(self, tonic: int, mode: str) -> None:
        self.tonic = tonic
        self.steps = MAJOR if mode == "major" else MINOR

    def pitch(self, degree: int, base: int) -> int:
        """MIDI pitch of a scale degree counted from the tonic in the octave starting at ``base``."""
        octave, step = divmod(degree, 7)
        return base + self.tonic + 12 * octave + self.steps[step]


def _run_rhythm(n_beats: int, per_beat: int) -> list[tuple[float, float]]:
    step = 1.0 / per_beat
    return [(i * step, step) for i in range(n_beats * per_beat)]


def _figure_scale(key: _Key, rng: np.random.Generator, start_deg: int, n_beats: int, per_beat: int) -> list[tuple[float, float, int]]:
    direction = 1 if rng.random() < 0.5 else -1
    span = int(rng.integers(8, 16))  # turn around after one to two octaves
    out, deg = [], start_deg
    for i, (t, d) in enumerate(_run_rhythm(n_beats, per_beat)):
        out.append((t, d, deg))
        if i % span == span - 1:
            direction = -direction
        deg += direction
    return out


def _figure_arpeggio(
    key: _Key, rng: np.random.Generator, start_deg: int, n_beats: int, per_beat: int, chord_root: int
) -> list[tuple[float, float, int]]:
    chord = [chord_root, chord_root + 2, chord_root + 4]
    tones = [c + 7 * o for o in range(-1, 3) for c in chord]
    tones = sorted(t for t in tones if start_deg - 3 <= t <= start_deg + 12)
    idx, direction, out = 0, 1, []
    for t, d in _run_rhythm(n_beats, per_beat):
        out.append((t, d, tones[idx]))
        if not 0 <= idx + direction < len(tones):
            direction = -direction
        idx += direction
    return out


def _figure_repeated(key: _Key, rng: np.random.Generator, start_deg: int, n_beats: int, per_beat: int) -> list[tuple[float, float, int]]:
    reps = int(rng.choice([3, 4]))
    out, deg = [], start_deg
    for i, (t, d) in enumerate(_run_rhythm(n_beats, per_beat)):
        if i % reps == 0 and i:
            deg += int(rng.choice([-2, -1, 1, 2]))
        out.append((t, d, deg))
    return out


def _melody_line(rng: np.random.Generator, start_deg: int, n_beats: int, leapiness: float) -> list[tuple[float, float, int]]:
    rhythms = [1.0, 0.5, 0.5, 1.5, 2.0, 0.5]
    out, t, deg = [], 0.0, start_deg
    while t < n_beats - 1e-9:
        d = min(float(rng.choice(rhythms)), n_beats - t)
        out.append((t, d, deg))
        step = int(rng.choice([-1, 1])) * (int(rng.integers(2, 6)) if rng.random() < leapiness else 1)
        deg = int(np.clip(deg + step, start_deg - 7, start_deg + 9))
        t += d
    return out


def _figure_ornament(
    key: _Key, rng: np.random.Generator, start_deg: int, n_beats: int, per_beat: int, leapiness: float
) -> list[tuple[float, float, int]]:
    """A melody whose notes are decorated: trills on long notes, turns, mordents, grace notes."""
    out: list[tuple[float, float, int]] = []
    fast = 1.0 / max(per_beat * 2, 4)
    for t, d, deg in _melody_line(rng, start_deg, n_beats, leapiness):
        kind = rng.choice(["trill", "turn", "mordent", "grace", "plain"], p=[0.3, 0.2, 0.2, 0.15, 0.15])
        if kind == "trill" and d >= 1.0:
            n = int(d / fast)
            out += [(t + i * fast, fast, deg + (i % 2)) for i in range(n)]
        elif kind == "turn" and d >= 0.5:
            out += [(t + i * fast, fast, deg + o) for i, o in enumerate((1, 0, -1))]
            out.append((t + 3 * fast, d - 3 * fast, deg))
        elif kind == "mordent" and d >= 0.5:
            out += [(t, fast, deg), (t + fast, fast, deg - 1), (t + 2 * fast, d - 2 * fast, deg)]
        elif kind == "grace":
            g = min(fast, 0.125)
            out += [(t, g, deg + 1), (t + g, d - g, deg)]
        else:
            out.append((t, d, deg))
    return out


def generate_score(rng: np.random.Generator, target_beats: float | None = None, seconds: float | None = None) -> Score:
    """Draw one score. ``seconds`` sets the nominal length at the drawn tempo."""
    complexity = float(rng.random())  # a latent that couples tempo, density, texture and hands
    tempo = float(np.clip(56 + 90 * complexity + rng.normal(0, 14), 48, 168))
    mode = "major" if rng.random() < 0.6 else "minor"
    key = _Key(int(rng.integers(0, 12)), mode)
    if target_beats is None:
        assert seconds is not None
        target_beats = seconds * tempo / 60.0

    n_figures = 2 if rng.random() < 0.3 else 1
    figures = list(rng.choice(FIGURES, size=n_figures, replace=False))
    texture = str(rng.choice(TEXTURES, p=_texture_probs(complexity)))
    articulation = "staccato" if rng.random() < 0.3 else "legato"
    if all(f not in _FIGURE_LABEL for f in figures) and texture == "single" and articulation == "legato":
        # every technique clip carries at least one label, as in PLD
        texture = str(rng.choice(["double", "octave"]))
    accompaniment = bool(rng.random() < 0.25 + 0.6 * complexity)
    per_beat = int(rng.choice([2, 4], p=[0.8 - 0.6 * complexity, 0.2 + 0.6 * complexity]))
    if texture != "single" and per_beat == 4 and rng.random() < 0.5:
        per_beat = 2  # fast double notes are rarer
    leapiness = float(np.clip(0.1 + 0.5 * complexity + rng.normal(0, 0.1), 0.0, 0.8))
    rh_base = 12 * int(rng.choice([4, 5, 5, 6]))  # C4..C6 region
    lh_base = rh_base - 24

    notes: list[ScoreNote] = []
    phrase_starts: list[float] = []
    t0, phrase = 0.0, 0
    while t0 < target_beats - 0.5:
        n_beats = int(min(rng.choice([4, 8]), max(2, round(target_beats - t0))))
        fig = figures[phrase % n_figures]
        chord_root = PROGRESSION[phrase % len(PROGRESSION)]
        start_deg = int(rng.integers(0, 7))
        if fig == "scale":
            line = _figure_scale(key, rng, start_deg, n_beats, per_beat)
        elif fig == "arpeggio":
            line = _figure_arpeggio(key, rng, start_deg, n_beats, per_beat, chord_root)
        elif fig == "repeated":
            line = _figure_repeated(key, rng, start_deg, n_beats, per_beat)
        elif fig == "ornament":
            line = _figure_ornament(key, rng, start_deg, n_beats, per_beat, leapiness)
        else:
            line = _melody_line(rng, start_deg, n_beats, leapiness)
        phrase_starts.append(t0)
        for t, d, deg in line:
            dur = d * (0.35 if articulation == "staccato" else 1.0)
            pitch = key.pitch(deg, rh_base)
            notes.append(ScoreNote(pitch, t0 + t, dur, "R", phrase))
            if texture == "double":
                below = key.pitch(deg - (2 if (phrase % 2 == 0) else 5), rh_base)  # thirds, then sixths
                notes.append(ScoreNote(below, t0 + t, dur, "R", phrase, chord_member=True))
            elif texture == "octave":
                notes.append(ScoreNote(pitch - 12, t0 + t, dur, "R", phrase, chord_member=True))
        if accompaniment:
            notes += _accompaniment(key, rng, lh_base, chord_root, t0, n_beats, phrase, complexity)
        t0 += n_beats
        phrase += 1

    notes.sort(key=lambda n: (n.onset, n.pitch))
    score = Score(notes, tempo, key.tonic, mode, figures, texture, articulation, accompaniment, phrase_starts, t0)
    score.properties = score_properties(score)
    score.difficulty = difficulty_from_properties(score.properties)
    return score


def _texture_probs(complexity: float) -> list[float]:
    single = 0.7 - 0.4 * complexity
    return [single, (1 - single) * 0.55, (1 - single) * 0.45]


def _accompaniment(
    key: _Key, rng: np.random.Generator, base: int, root: int, t0: float, n_beats: int, phrase: int, complexity: float
) -> list[ScoreNote]:
    chord = [key.pitch(root + o, base) for o in (0, 2, 4)]
    out = []
    if rng.random() < 0.3 + 0.5 * complexity:  # Alberti bass in eighths
        pattern = [chord[0], chord[2], chord[1], chord[2]]
        out = [ScoreNote(pattern[i % 4], t0 + i * 0.5, 0.5, "L", phrase) for i in range(n_beats * 2)]
    else:  # block chords on every other beat
        for b in range(0, n_beats, 2):
            out += [ScoreNote(p, t0 + b, 2.0, "L", phrase, chord_member=i > 0) for i, p in enumerate(chord)]
    return out


def score_properties(score: Score) -> dict[str, float]:
    """Measured properties of a score at its nominal tempo, the inputs of the difficulty rule."""
    seconds = max(score.total_beats * score.seconds_per_beat, 1e-6)
    onsets: dict[float, list[ScoreNote]] = {}
    for n in score.notes:
        onsets.setdefault(round(n.onset, 6), []).append(n)
    rh = [max(p.pitch for p in grp if p.hand == "R") for grp in onsets.values() if any(p.hand == "R" for p in grp)]
    leaps = np.abs(np.diff(rh)) if len(rh) > 1 else np.zeros(1)
    rh_onsets = {t for t, grp in onsets.items() if any(p.hand == "R" for p in grp)}
    lh_onsets = {t for t, grp in onsets.items() if any(p.hand == "L" for p in grp)}
    independence = len(lh_onsets - rh_onsets) / max(len(rh_onsets | lh_onsets), 1)
    pitches = [n.pitch for n in score.notes]
    rh_group_sizes = [sum(1 for p in grp if p.hand == "R") for grp in onsets.values()]
    return {
        "note_rate": len(score.notes) / seconds,
        "polyphony": float(np.mean([s for s in rh_group_sizes if s > 0])),
        "mean_leap": float(np.mean(leaps)),
        "pitch_range": float(max(pitches) - min(pitches)),
        "hand_independence": float(independence) if lh_onsets else 0.0,
        "tempo_bpm": score.tempo_bpm,
    }


# Documented difficulty rule: each property is mapped linearly onto [0, 1] between the
# bounds below (clipped), combined with these weights, and cut into nine levels at the
# cut points, which are the deciles of the combined value over 5000 generated scores
# (research/calibrate_difficulty.py recomputes them), so the nine levels are about equally common.
DIFFICULTY_BOUNDS: dict[str, tuple[float, float]] = {
    "note_rate": (1.0, 16.0),
    "polyphony": (1.0, 2.0),
    "mean_leap": (1.0, 6.0),
    "pitch_range": (12.0, 48.0),
    "hand_independence": (0.0, 0.6),
    "tempo_bpm": (50.0, 160.0),
}
DIFFICULTY_WEIGHTS: dict[str, float] = {
    "note_rate": 0.35,
    "polyphony": 0.2,
    "mean_leap": 0.1,
    "pitch_range": 0.05,
    "hand_independence": 0.15,
    "tempo_bpm": 0.15,
}
DIFFICULTY_CUTS: tuple[float, ...] = (0.1568, 0.2367, 0.3187, 0.3918, 0.4616, 0.5381, 0.6213, 0.7116)


def difficulty_value(properties: dict[str, float]) -> float:
    total = 0.0
    for name, weight in DIFFICULTY_WEIGHTS.items():
        lo, hi = DIFFICULTY_BOUNDS[name]
        total += weight * float(np.clip((properties[name] - lo) / (hi - lo), 0.0, 1.0))
    return total


def difficulty_from_properties(properties: dict[str, float]) -> int:
    """Difficulty level 1–9."""
    return 1 + int(np.searchsorted(DIFFICULTY_CUTS, difficulty_value(properties), side="right"))
