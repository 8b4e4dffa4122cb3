"""Render performed notes with sampled pianos (FluidSynth), then room and loudness.

Determinism: every clip is rendered by a *fresh* synthesizer (the soundfont, parsed once per
process, is lent to it, so this costs milliseconds)
with float output, its own reverb and chorus off. A reused synthesizer keeps internal
state across ``system_reset`` and does not give bit-identical audio. Reverb is applied
outside the synth from a seeded impulse response.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from .performer import Performance


@dataclass(frozen=True)
class PianoTimbre:
    name: str
    path: str
    bank: int
    program: int


# Debian's fluid-soundfont-gm, timgm6mb-soundfont and musescore-general-soundfont-small.
_CANDIDATES: tuple[PianoTimbre, ...] = (
    PianoTimbre("FluidR3-grand", "/usr/share/sounds/sf2/FluidR3_GM.sf2", 0, 0),
    PianoTimbre("FluidR3-bright", "/usr/share/sounds/sf2/FluidR3_GM.sf2", 0, 1),
    PianoTimbre("TimGM6mb-grand", "/usr/share/sounds/sf2/TimGM6mb.sf2", 0, 0),
    PianoTimbre("MuseScore-grand", "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3", 0, 0),
)
INSTALL_HINT = "apt-get install libfluidsynth3 fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small"


def available_timbres() -> list[PianoTimbre]:
    """Installed piano timbres; ``PJBENCH_SOUNDFONTS`` (os.pathsep-separated sf2/sf3 files) adds more."""
    found = [t for t in _CANDIDATES if Path(t.path).is_file()]
    for extra in filter(None, os.environ.get("PJBENCH_SOUNDFONTS", "").split(os.pathsep)):
        found.append(PianoTimbre(Path(extra).stem, extra, 0, 0))
    if len(found) < 2:
        raise RuntimeError(
            f"pjbench synth needs at least two piano soundfonts, found {[t.path for t in found]}. Install them: {INSTALL_HINT}"
        )
    return found


class _FluidSynth:
    """The few FluidSynth calls we need, through pyfluidsynth's ctypes handle."""

    def __init__(self) -> None:
        try:
            import fluidsynth
        except ImportError as err:  # pragma: no cover - depends on the machine
            raise RuntimeError(f"FluidSynth is not available ({err}). Install it: {INSTALL_HINT} and pip install pyfluidsynth") from err
        self._module = fluidsynth
        lib = fluidsynth._fl
        lib.fluid_synth_write_float.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.fluid_synth_write_float.restype = ctypes.c_int
        lib.fluid_synth_get_sfont_by_id.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.fluid_synth_get_sfont_by_id.restype = ctypes.c_void_p
        lib.fluid_synth_add_sfont.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.fluid_synth_add_sfont.restype = ctypes.c_int
        lib.fluid_synth_remove_sfont.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.fluid_synth_remove_sfont.restype = ctypes.c_int
        lib.fluid_set_log_function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        lib.fluid_set_log_function.restype = ctypes.c_void_p
        self._lib = lib
        self._loaded: dict[str, tuple[object, int]] = {}  # soundfont path -> (the synth that owns it, its handle)

    def new_synth(self, sample_rate: int, timbre: PianoTimbre):
        """A fresh synthesizer playing ``timbre``. The soundfont is parsed once per process, by a synth that keeps
        it, and lent to each new synth (parsing it again cost ~45 ms a clip; the audio is bit-identical)."""
        if timbre.path not in self._loaded:
            owner = self._synth(sample_rate)
            sfid = owner.sfload(timbre.path)
            if sfid < 0:
                raise RuntimeError(f"FluidSynth could not load the soundfont {timbre.path}")
            self._loaded[timbre.path] = (owner, self._lib.fluid_synth_get_sfont_by_id(owner.synth, sfid))
        _, sfont = self._loaded[timbre.path]
        synth = self._synth(sample_rate)
        sfid = self._lib.fluid_synth_add_sfont(synth.synth, sfont)
        if sfid < 0:
            raise RuntimeError(f"FluidSynth could not use the soundfont {timbre.path}")
        synth.program_select(0, sfid, timbre.bank, timbre.program)
        synth.pjbench_sfont = sfont
        return synth

    def release(self, synth) -> None:
        """Take the lent soundfont back (deleting the synth would free it), then delete the synth."""
        warn_level = 2  # FLUID_WARN: a synth left without a soundfont warns once per MIDI channel; nothing is wrong
        previous = self._lib.fluid_set_log_function(warn_level, None, None)
        try:
            self._lib.fluid_synth_remove_sfont(synth.synth, synth.pjbench_sfont)
        finally:
            self._lib.fluid_set_log_function(warn_level, previous, None)
        synth.delete()

    def _synth(self, sample_rate: int):
        # 64 voices (FluidSynth's default is 256): about half the rendering time on the MuseScore piano
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.cpu-cores": 1, "synth.polyphony": 64}
        return self._module.Synth(gain=0.4, samplerate=float(sample_rate), **settings)

    def write(self, synth, left: np.ndarray, right: np.ndarray) -> None:
        self._lib.fluid_synth_write_float(synth.synth, len(left), left.ctypes.data, 0, 1, right.ctypes.data, 0, 1)


_SYNTH: _FluidSynth | None = None


def _fluidsynth() -> _FluidSynth:
    global _SYNTH
    if _SYNTH is None:
        _SYNTH = _FluidSynth()
    return _SYNTH


def render_performance(performance: Performance, timbre: PianoTimbre, sample_rate: int) -> np.ndarray:
    """Dry mono float32 audio of a performance."""
    fs = _fluidsynth()
    synth = fs.new_synth(sample_rate, timbre)
    n = int(np.ceil(performance.duration * sample_rate))
    left = np.zeros(n, np.float32)
    right = np.zeros(n, np.float32)
    events: list[tuple[int, int, int, int]] = []  # (sample, order, kind/key, value); offs before ons at one time
    for note in performance.notes:
        events.append((int(note.start * sample_rate), 1, note.pitch, note.velocity))
        events.append((int(note.end * sample_rate), 0, note.pitch, 0))
    for down, up in performance.pedal:
        events.append((int(down * sample_rate), 2, -1, 127))
        events.append((int(up * sample_rate), 0, -1, 0))
    events.sort()
    pos = 0
    try:
        for sample, order, key, value in events:
            sample = min(sample, n)
            if sample > pos:
                fs.write(synth, left[pos:sample], right[pos:sample])
                pos = sample
            if key < 0:
                synth.cc(0, 64, value)
            elif order == 1:
                synth.noteon(0, key, value)
            else:
                synth.noteoff(0, key)
        if n > pos:
            fs.write(synth, left[pos:], right[pos:])
    finally:
        fs.release(synth)
    mono = 0.5 * (left + right)
    fade = min(int(0.05 * sample_rate), n)  # notes cut by truncation end without a click
    mono[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return mono


@dataclass(frozen=True)
class Room:
    rt60: float  # seconds
    wet: float  # 0..1


def room_impulse(room: Room, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Exponentially decaying noise: a simple diffuse room response."""
    length = int(room.rt60 * sample_rate)
    t = np.arange(length) / sample_rate
    tail = rng.standard_normal(length) * np.exp(-6.91 * t / room.rt60)  # -60 dB at rt60
    tail /= np.sqrt(np.sum(tail**2)) + 1e-12
    ir = room.wet * tail
    ir[0] += 1.0 - room.wet
    return ir.astype(np.float32)


def apply_room_and_level(dry: np.ndarray, room: Room, loudness_dbfs: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    wet = fftconvolve(dry, room_impulse(room, sample_rate, rng))[: len(dry)].astype(np.float64)
    rms = np.sqrt(np.mean(wet**2)) + 1e-12
    out = wet * (10 ** (loudness_dbfs / 20) / rms)
    peak = np.max(np.abs(out))
    if peak > 0.98:  # never clip: lower the whole clip instead
        out *= 0.98 / peak
    return out.astype(np.float32)


def write_midi(performance: Performance, path: Path) -> None:
    """The performed notes and pedal as a type-0 MIDI file (500 000 us per beat, 480 ticks: 1 ms = 0.96 ticks)."""
    import mido

    ticks_per_second = 960
    events: list[tuple[int, int, mido.Message]] = []
    for note in performance.notes:
        events.append((round(note.start * ticks_per_second), 1, mido.Message("note_on", note=note.pitch, velocity=note.velocity)))
        events.append((round(note.end * ticks_per_second), 0, mido.Message("note_off", note=note.pitch, velocity=0)))
    for down, up in performance.pedal:
        events.append((round(down * ticks_per_second), 2, mido.Message("control_change", control=64, value=127)))
        events.append((round(up * ticks_per_second), 0, mido.Message("control_change", control=64, value=0)))
    events.sort(key=lambda e: (e[0], e[1], e[2].bytes()))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)])
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(str(path))
