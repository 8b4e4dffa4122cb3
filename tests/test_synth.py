import hashlib
from collections import Counter, defaultdict

import numpy as np
import soundfile as sf

from pjbench.datasets.base import check_group_leakage
from pjbench.datasets.synthetic import render
from pjbench.datasets.synthetic.build import GENERATOR_VERSION, SynthConfig, _make_clip, plan
from pjbench.datasets.synthetic.performer import Performer, perform
from pjbench.datasets.synthetic.render import available_timbres
from pjbench.datasets.synthetic.scores import generate_score
from pjbench.datasets.techniques import TECHNIQUES


def pretty_notes(path):
    """The note-ons of a MIDI file."""
    import mido

    return [m for m in mido.MidiFile(str(path)) if m.type == "note_on" and m.velocity > 0]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_gives_bit_identical_files(tmp_path):
    cfg = SynthConfig.for_size("tiny", seed=7)
    jobs = plan(cfg)[:4]
    timbres = available_timbres()
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        (out / "audio").mkdir(parents=True)
        (out / "midi").mkdir()
        # render in a different order the second time: a clip must not depend on what came before
        rows = [_make_clip((cfg, job, out, timbres)) for job in (jobs if run == "a" else jobs[::-1])]
        digests.append({r["id"]: (_digest(out / r["path"]), _digest(out / r["midi"])) for r in rows})
    assert digests[0] == digests[1]
    other = SynthConfig.for_size("tiny", seed=8)
    out = tmp_path / "c"
    (out / "audio").mkdir(parents=True)
    (out / "midi").mkdir()
    row = _make_clip((other, plan(other)[0], out, timbres))
    assert _digest(out / row["path"]) != digests[0][row["id"]][0]


def test_a_lent_soundfont_renders_what_a_synth_loading_its_own_renders(monkeypatch):
    cfg = SynthConfig.for_size("tiny", seed=3)
    score = generate_score(np.random.default_rng(0), seconds=3.0)
    performance = perform(score, Performer("p", 0.8, "harmonic", 0.0), np.random.default_rng(1)).truncated(2.0)
    fs = render._fluidsynth()
    lent = {t.name: render.render_performance(performance, t, cfg.sample_rate) for t in available_timbres()}

    def own_load(sample_rate, timbre):  # the way before: every synth parses the soundfont itself
        synth = fs._synth(sample_rate)
        synth.program_select(0, synth.sfload(timbre.path), timbre.bank, timbre.program)
        return synth

    monkeypatch.setattr(fs, "new_synth", own_load)
    monkeypatch.setattr(fs, "release", lambda synth: synth.delete())
    for timbre in available_timbres():
        own = render.render_performance(performance, timbre, cfg.sample_rate)
        assert np.abs(own).max() > 0.01
        assert np.array_equal(own, lent[timbre.name]), timbre.name


def test_tiny_dataset_labels_and_splits(tiny, tiny_root):
    recs = tiny.recordings
    assert 90 <= len(recs) <= 120
    assert check_group_leakage(recs) == []
    by_piece = defaultdict(set)
    for r in recs:
        by_piece[r.groups["piece"]].add(r.labels["expertise"])
        assert set(r.labels["techniques"]) <= set(TECHNIQUES) and r.labels["techniques"]
        assert r.labels["technique_primary"] in r.labels["techniques"]
        assert 1 <= r.labels["difficulty"] <= 9
        assert 1 <= r.labels["player_level"] <= 10
        info = sf.info(r.path)
        assert info.samplerate == 24000 and info.channels == 1
        assert abs(info.duration - r.duration) < 0.01
        assert (tiny_root / "midi" / f"{r.id}.mid").exists()
    assert all(levels == {0, 1, 2} for levels in by_piece.values())  # every piece at every level
    assert set(Counter(r.split for r in recs)) == {"train", "val", "test"}
    durations = [r.duration for r in recs]
    assert min(durations) < 10 < max(durations)  # both one- and two-segment clips
    assert max(durations) <= 22.0 + 1e-6  # every clip within the size's limit
    per_piece = defaultdict(set)
    for r in recs:
        per_piece[r.groups["piece"]].add(r.duration)
    assert all(len(lengths) == 1 for lengths in per_piece.values())  # one excerpt length per piece: length tells no level
    notes = {r.id: len(pretty_notes(tiny_root / "midi" / f"{r.id}.mid")) for r in recs}
    slower_plays_less = [notes[f"{p}-beginner"] <= notes[f"{p}-virtuoso"] for p in per_piece]
    assert np.mean(slower_plays_less) > 0.8  # in the same time a beginner gets through less of the score


def test_labels_follow_construction():
    rng = np.random.default_rng(1)
    for _ in range(50):
        s = generate_score(rng, seconds=20)
        labels = set(s.techniques)
        assert ("Staccato" in labels) == (s.articulation == "staccato")
        assert ("Doublenotes" in labels) == (s.texture == "double")
        assert ("Octave" in labels) == (s.texture == "octave")
        assert ("Scales" in labels) == ("scale" in s.figures)
        onsets = Counter(round(n.onset, 6) for n in s.notes if n.hand == "R")
        if s.texture != "single":
            assert max(onsets.values()) >= 2


def test_skill_controls_timing_errors():
    rng = np.random.default_rng(0)
    score = generate_score(rng, seconds=30)

    written = Counter(n.pitch for n in score.notes)

    def spread(skill):
        perf = perform(score, Performer("p", skill, "none", 0.0), np.random.default_rng(3))
        played = Counter(n.pitch for n in perf.notes)
        wrong = sum(((played - written) + (written - played)).values())  # missed, misplayed and corrected notes
        return wrong, perf.duration

    wrong_low, dur_low = spread(0.1)
    wrong_high, dur_high = spread(0.95)
    assert dur_low > dur_high  # beginners play slower and hesitate
    assert wrong_low > wrong_high and wrong_high <= len(score.notes) // 50  # and miss and misplay notes; a virtuoso hardly


def test_same_call_twice_does_the_work_once(tiny_root):
    import pytest

    from pjbench.datasets.synthetic.build import build

    before = {p: p.stat().st_mtime_ns for p in tiny_root.rglob("*") if p.is_file()}
    assert build(SynthConfig.for_size("tiny"), tiny_root, progress=False) == tiny_root
    assert before == {p: p.stat().st_mtime_ns for p in tiny_root.rglob("*") if p.is_file()}
    with pytest.raises(FileExistsError, match="different synthetic dataset"):
        build(SynthConfig.for_size("tiny", seed=5), tiny_root, progress=False)


def test_a_result_of_a_set_rendered_elsewhere_finds_the_same_set_here(tiny, tiny_root):
    """A result records where its synthetic set lay; on another machine (or after a move) `rerun` uses the same
    configuration's set at its default place instead."""
    from dataclasses import asdict

    from pjbench.api import dataset_from_record

    assert tiny_root.name.endswith("-g" + GENERATOR_VERSION)  # a newer generator renders beside an older set
    record = {"name": tiny.name, "root": "/nowhere/synthetic-tiny", "synthetic_config": asdict(SynthConfig.for_size("tiny"))}
    found = dataset_from_record(record)
    assert found.root == tiny_root and [r.id for r in found.recordings] == [r.id for r in tiny.recordings]
