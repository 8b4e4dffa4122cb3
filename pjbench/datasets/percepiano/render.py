"""Performance MIDI to audio, offline: every note, sustain (64), sostenuto (66) and soft (67) pedal event of the file
played by FluidSynth on one of the sampled pianos the synthetic set uses, at the file's own velocities. Deterministic:
a fresh synthesizer per file, no reverb or chorus inside it, no normalisation per file (loudness is something the
raters judged), a fixed gain for the whole set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..synthetic.render import PianoTimbre, _fluidsynth

PEDALS = (64, 66, 67)  # sustain, sostenuto, soft: what a piano performance's MIDI carries beyond the notes
TAIL_SECONDS = 1.0  # after the last event, so the last notes ring out as in a recording


class MidiError(ValueError):
    """A MIDI file that cannot be rendered; the message names it."""


@dataclass(frozen=True)
class MidiEvent:
    seconds: float
    order: int  # at one time: note-offs and pedal releases first, then pedal presses, then note-ons
    kind: str  # "on" | "off" | "cc"
    number: int  # the key, or the controller
    value: int  # the velocity, or the controller's value


def midi_events(path: Path) -> list[MidiEvent]:
    """The file's note and pedal events in seconds (tempo changes applied by mido), on every channel and track."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise MidiError(f"{path}: not a readable MIDI file ({err})") from None
    events, now = [], 0.0
    for msg in midi:  # merged tracks, delta times in seconds
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            events.append(MidiEvent(now, 2, "on", msg.note, msg.velocity))
        elif msg.type in ("note_off", "note_on"):
            events.append(MidiEvent(now, 0, "off", msg.note, 0))
        elif msg.type == "control_change" and msg.control in PEDALS:
            events.append(MidiEvent(now, 1 if msg.value >= 64 else 0, "cc", msg.control, msg.value))
    if not any(e.kind == "on" for e in events):
        raise MidiError(f"{path}: no notes")
    return sorted(events, key=lambda e: (e.seconds, e.order, e.number, e.value))


def render_midi(path: Path, timbre: PianoTimbre, sample_rate: int) -> np.ndarray:
    """Mono float32 audio of the whole file and a second of release."""
    events = midi_events(path)
    fs = _fluidsynth()
    synth = fs.new_synth(sample_rate, timbre)
    n = int(np.ceil((events[-1].seconds + TAIL_SECONDS) * sample_rate))
    left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
    pos = 0
    try:
        for event in events:
            sample = min(int(event.seconds * sample_rate), n)
            if sample > pos:
                fs.write(synth, left[pos:sample], right[pos:sample])
                pos = sample
            if event.kind == "on":
                synth.noteon(0, event.number, event.value)
            elif event.kind == "off":
                synth.noteoff(0, event.number)
            else:
                synth.cc(0, event.number, event.value)
        if n > pos:
            fs.write(synth, left[pos:], right[pos:])
    finally:
        fs.release(synth)
    return 0.5 * (left + right)
