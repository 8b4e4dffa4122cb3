"""PercePiano inside pjbench: the packed files against their provenance, the labels as the raters' means, the paper's
two splits, the rendering, the regression kind's metrics on known answers, and a few segments boarded end to end."""

from __future__ import annotations

import collections
import hashlib
import json
import tarfile

import numpy as np
import pytest
import torch

from pjbench.datasets.percepiano.files import ARCHIVE, MEAN_LABELS, RAW_ANSWERS, provenance, unpacked
from pjbench.datasets.percepiano.labels import (
    N_DIMENSIONS,
    PercePianoError,
    SegmentName,
    mean_labels,
    performer_split,
    piece_split,
    raw_answers,
)
from pjbench.scoring import bootstrap, metrics


@pytest.fixture(scope="module")
def files(pjbench_home):
    return unpacked()


@pytest.fixture(scope="module")
def names(files):
    labels = mean_labels(files / MEAN_LABELS)
    return [SegmentName.parse(n) for n in labels]


def test_the_packed_files_are_the_published_ones(files):
    record = provenance()
    assert hashlib.sha256(ARCHIVE.read_bytes()).hexdigest() == record["archive"]["sha256"]
    assert record["commit"] == "e672299" and record["archive"]["members"] == 1205
    with tarfile.open(ARCHIVE) as tar:
        assert sorted(tar.getnames()) == sorted(record["files"])
    for name in (MEAN_LABELS, RAW_ANSWERS, "midi/Beethoven_WoO80_thema_8bars_11_1.mid"):
        data = (files / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["files"][name]["sha256"]
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == record["files"][name]["git_blob"]
    # the upstream repository's git blob of the ratings (JonghoKimSNU/PercePiano@e672299:labels/...)
    assert record["files"][MEAN_LABELS]["git_blob"] == "f86f1f57f54c3327ba817933e8d8736ae1135b9a"


def test_the_labels_are_the_raters_means_and_bad_rows_are_counted(files):
    """Every rated segment's 19 labels are the mean of its raters' answers / 7 (0 or empty: no answer), once the rows
    with an answer above 7 are left out as the authors did: the answers file is read right."""
    labels = mean_labels(files / MEAN_LABELS)
    rows, skipped = raw_answers(files / RAW_ANSWERS)
    assert len(labels) == 1189 and skipped == {"an answer above 7": 208} and len({r.rater for r in rows}) == 63
    answers = collections.defaultdict(list)
    for row in rows:
        answers[row.segment].append([np.nan if a is None else a for a in row.answers])
    for name, label in labels.items():
        assert np.allclose(np.nanmean(answers[name], axis=0) / 7, label, atol=1e-12), name


def test_bad_label_files_are_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps({"X_8bars_1_2": [0.5] * 18}))
    with pytest.raises(PercePianoError, match="labels.json: 'X_8bars_1_2' has .* expected 19 ratings"):
        mean_labels(bad)
    bad.write_text(json.dumps({"X_8bars_1_2": [1.5] + [0.5] * 19}))
    with pytest.raises(PercePianoError, match="outside 1/7..1"):
        mean_labels(bad)
    answers = tmp_path / "answers.csv"
    header = "user,dataID,filename," + ",".join(f"Q{k}" for k in range(20)) + ",message\n"
    answers.write_text(
        header + "1,1,A_8bars_1_2.wav," + ",".join(["3"] * 20) + ",\n" + "2,1,A_8bars_1_2.wav," + ",".join(["9"] * 20) + ",\n"
    )
    rows, skipped = raw_answers(answers)
    assert len(rows) == 1 and rows[0].answers == (3.0,) * N_DIMENSIONS and skipped == {"an answer above 7": 1}
    answers.write_text(header + "1,1,A_8bars_1_2.wav," + ",".join(["-2"] * 20) + ",\n")
    with pytest.raises(PercePianoError, match=r"answers.csv:2: an answer is not one of 1-7"):
        raw_answers(answers)


def test_the_papers_two_splits(names):
    """Performer split: the authors' performers 1 and 2 are the test set, 3 and 4 validate (fold 0), no performer on
    two sides. Piece split: whole compositions (the same bars, every player) held out, at least 15 % in test, the same
    assignment every time; the two splits differ."""
    by_performer = performer_split(names)
    assert collections.Counter(by_performer.values()) == {"train": 821, "test": 193, "val": 175}
    for n in names:
        assert (by_performer[n.name] == "test") == (n.performer_fold in (1, 2))
    sides = collections.defaultdict(set)
    for n in names:
        sides[n.performer_fold].add(by_performer[n.name])
    assert all(len(s) == 1 for s in sides.values())
    by_piece = piece_split(names)
    assert by_piece == piece_split(list(reversed(names)))  # the order the files come in changes nothing
    test_share = sum(v == "test" for v in by_piece.values()) / len(names)
    assert 0.15 <= test_share < 0.2
    compositions = collections.defaultdict(set)
    for n in names:
        compositions[n.composition].add(by_piece[n.name])
    assert all(len(s) == 1 for s in compositions.values())
    assert by_piece != by_performer and piece_split(names, fold=1) != by_piece
    with pytest.raises(ValueError, match="folds 0-3"):
        performer_split(names, fold=4)


def test_segment_names_are_read_as_the_authors_code_reads_them():
    seg = SegmentName.parse(" Schubert_D935_no.3_4bars_2_1")
    assert (seg.name, seg.excerpt, seg.player, seg.segment, seg.composition) == (
        "Schubert_D935_no.3_4bars_2_1",
        "Schubert_D935_no.3_4bars",
        "2",
        "1",
        "Schubert_D935_no.3_4bars_1",
    )
    assert SegmentName.parse("Beethoven_WoO80_var27_8bars_26_15").performer_fold == 11  # Beethoven ids by position
    assert SegmentName.parse("Beethoven_WoO80_var27_8bars_Score2_15").performer_fold == -1
    with pytest.raises(PercePianoError, match="not a PercePiano segment name"):
        SegmentName.parse("piano_take_3")


def test_rendering_is_deterministic_and_plays_the_pedal(files, tmp_path):
    import mido

    from pjbench.datasets.percepiano.render import MidiError, midi_events, render_midi
    from pjbench.datasets.synthetic.render import available_timbres

    timbre = available_timbres()[0]
    path = files / "midi" / "Beethoven_WoO80_thema_8bars_11_1.mid"
    first, again = render_midi(path, timbre, 16000), render_midi(path, timbre, 16000)
    assert np.array_equal(first, again) and np.abs(first).max() > 0.01
    events = midi_events(path)
    assert len(first) == int(np.ceil((events[-1].seconds + 1.0) * 16000))
    assert any(e.kind == "cc" and e.number == 64 for e in events)
    # the same notes without their pedal events sound different (the sustain is played, not dropped)
    midi = mido.MidiFile(str(path))
    for track in midi.tracks:
        for i, msg in enumerate(track):
            if msg.type == "control_change" and msg.control == 64:
                track[i] = msg.copy(value=0)
    dry = tmp_path / "dry.mid"
    midi.save(str(dry))
    assert not np.array_equal(render_midi(dry, timbre, 16000)[: len(first)], first[: len(first)])
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd not really")
    with pytest.raises(MidiError, match="broken.mid: not a readable MIDI file"):
        render_midi(broken, timbre, 16000)


def test_regression_metrics_on_known_answers():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.2, 0.9, size=(40, 3))
    names = ("a", "b", "c")
    perfect = metrics.regression_metrics(y, y, names)
    assert perfect["r2"] == 1.0 and abs(perfect["pearson"] - 1.0) < 1e-12 and perfect["mse"] == 0.0
    mean = metrics.regression_metrics(y, np.broadcast_to(y.mean(0), y.shape), names)
    assert abs(mean["r2"]) < 1e-12 and np.isnan(mean["pearson"]) and np.isnan(mean["r/a"])
    noisy = y + rng.normal(0, 0.1, size=y.shape)
    from sklearn.metrics import r2_score

    got = metrics.regression_metrics(y, noisy, names)
    assert abs(got["r2"] - r2_score(y, noisy)) < 1e-12 and abs(got["r/b"] - np.corrcoef(y[:, 1], noisy[:, 1])[0, 1]) < 1e-12
    # weighted at unit weights equals the plain metrics; an item drawn twice counts twice
    unit = bootstrap.weighted_regression(np.ones((1, 40)), y, noisy)
    for key in ("r2", "pearson", "mse"):
        assert abs(unit[key][0] - got[key]) < 1e-10, key
    w = rng.integers(0, 3, size=(1, 40))
    repeated = np.repeat(np.arange(40), w[0])
    twice = metrics.regression_metrics(y[repeated], noisy[repeated], names)
    assert abs(bootstrap.weighted_regression(w, y, noisy)["r2"][0] - twice["r2"]) < 1e-10


def test_the_regression_kinds_chance_is_the_mean():
    from pjbench.tasks import TASKS, Example

    rng = np.random.default_rng(1)
    test = [Example((f"r{k}",), tuple(rng.uniform(0.2, 0.9, 19))) for k in range(30)]
    task = TASKS["perceptual-piece"]
    levels = task.chance_levels(test)
    assert set(task.leaderboard_columns) <= set(levels) and levels["r2"] == task.chance(test) == 0.0
    assert np.isnan(levels["pearson"])  # a constant answer has no correlation: no chance line is drawn
    y = np.array([ex.target for ex in test])
    assert levels["mse"] == pytest.approx(task.metrics(test, np.broadcast_to(y.mean(0), y.shape))["mse"])


def test_the_regression_kind_predicts_on_the_tasks_scale():
    from pjbench.tasks import TASKS

    task = TASKS["perceptual-performer"]
    assert task.n_classes == 19 and task.primary_metric == "r2"
    zero = torch.zeros(2, 19)
    assert torch.allclose(task.probabilities(zero), torch.full((2, 19), 4 / 7))  # an untrained head: the scale's middle
    loss = task.loss([], 1.0, torch.device("cpu"))
    target = torch.full((2, 19), 4 / 7 + 1 / 7)
    assert float(loss(torch.ones(2, 19), target)) < 1e-12
    assert TASKS["perceptual-piece"].split_label == "split/piece" and task.split_label is None


def test_a_few_segments_boarded_end_to_end(files, names, tmp_path):
    """A user's own audio (here: pjbench's rendering of 48 segments) through --audio-root: extract, probe both tasks
    (each on its own split), a board with R² and r, predictions on record, a missing segment counted."""
    import soundfile as sf
    from typer.testing import CliRunner

    from pjbench.cli import app
    from pjbench.datasets import load_dataset
    from pjbench.datasets.percepiano.dataset import segments
    from pjbench.datasets.percepiano.render import render_midi
    from pjbench.datasets.synthetic.render import available_timbres
    from pjbench.results.record import TaskResult

    by_performer, by_piece = performer_split(names), piece_split(names)
    chosen = []
    for split in ("train", "val", "test"):
        both = [n for n in names if by_performer[n.name] == split and by_piece[n.name] == split]
        chosen += both[:16] if split == "train" else both[:8]
    for split in ("train", "val", "test"):
        chosen += [n for n in names if by_piece[n.name] == split and by_performer[n.name] != split][:8]
    audio = tmp_path / "audio"
    audio.mkdir()
    timbre = available_timbres()[0]
    _, midis, _ = segments(files)  # one file's name starts with a space
    for n in chosen:
        sf.write(audio / f"{n.name}.wav", render_midi(midis[n.name], timbre, 16000), 16000)
    ds = load_dataset("percepiano", audio_root=audio)
    assert len(ds.recordings) == len(chosen) and ds.info["left_out"]["no_audio"] == 1189 - len(chosen)
    results = tmp_path / "results"
    # data check: no leak reported for the pieces that cross the performer split by design; a rating band as its label
    r = CliRunner().invoke(app, ["data", "check", "percepiano", "--audio-root", str(audio), "--results-dir", str(results)])
    assert r.exit_code == 0 and "(label: rating_band)" in r.output and "leakage: 0 group(s)" in r.output, r.output
    common = ["--dataset", "percepiano", "--audio-root", str(audio)]
    r = CliRunner().invoke(app, ["extract", "--encoder", "mel", *common])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app,
        [
            "probe",
            "--encoder",
            "mel",
            *common,
            "--task",
            "all",
            "--head",
            "linear",
            "--seeds",
            "2",
            "--epochs",
            "3",
            "--results-dir",
            str(results),
        ],
    )
    assert r.exit_code == 0, r.output
    for task in ("perceptual-performer", "perceptual-piece"):
        (path,) = (results / "percepiano" / "mel").glob(f"{task}.linear-*.json")
        result = TaskResult.load(path)
        assert {"r2", "pearson", "r2/timing", "r/interpretation"} <= set(result.scores)
        low, high = result.scores["r2"]["ci_low"], result.scores["r2"]["ci_high"]
        assert low <= result.scores["r2"]["mean"] <= high
    board = (results / "percepiano" / "leaderboard.md").read_text()
    assert "perceptual-performer r2" in board and "perceptual-piece pearson" in board and "| duration |" in board
    assert "| piece | linear (baseline) |" in board  # the piece-identity baseline
    # the human ceiling on the same test segments, from the raters' own answers
    (human,) = [line for line in board.splitlines() if line.startswith("| human (one rater vs the rest) |")]
    cells = [c.strip() for c in human.strip("|").split("|")][-4:]
    assert all(" ± " in c for c in cells), human
    from pjbench.reporting.ceilings import test_items
    from pjbench.reporting.human_agreement import human_ceiling

    result = TaskResult.load(next((results / "percepiano" / "mel").glob("perceptual-piece.linear-*.json")))
    items = test_items(result, None)
    assert sorted(i for i, _ in items) == sorted(n.name for n in chosen if by_piece[n.name] == "test")
    answers, _ = raw_answers(files / RAW_ANSWERS)
    from types import SimpleNamespace

    # the piece split's test units are compositions (the same bars, every player), crossed with performers
    assert result.config["dataset"]["resample_group"] == ["composition", "performer"]
    direct = human_ceiling(answers, [SimpleNamespace(id=i, groups=g) for i, g in items], ("composition", "performer"))
    assert cells[2] == f"{100 * direct['scores']['r2']['mean']:.1f}" + cells[2][cells[2].index(" ±") :]


def test_the_human_ceiling_on_known_answers():
    """Raters who all answer alike agree perfectly (R² 1, r 1); a rater who answers one step higher than the others
    agrees less (R² below r, both below 1); raters who answer at random give r near 0."""
    from types import SimpleNamespace

    from pjbench.datasets.percepiano.labels import RaterAnswers
    from pjbench.reporting.human_agreement import human_ceiling, rater_pairs

    rng = np.random.default_rng(0)
    segments = [f"E{k % 4}_8bars_{k % 3}_{k}" for k in range(24)]
    test = [SimpleNamespace(id=s, groups={"piece": s.split("_")[0], "performer": s.split("_")[2]}) for s in segments]
    truth = {s: rng.integers(1, 8, size=N_DIMENSIONS).astype(float) for s in segments}
    alike = [RaterAnswers(f"r{k}", s, tuple(truth[s])) for s in segments for k in range(3)]
    scores = human_ceiling(alike, test, ("piece", "performer"))["scores"]
    assert abs(scores["r2"]["mean"] - 1) < 1e-12 and abs(scores["pearson"]["mean"] - 1) < 1e-12
    shifted = [RaterAnswers(f"r{k}", s, tuple(truth[s] + (k == 0))) for s in segments for k in range(3)]
    scores = human_ceiling(shifted, test, ("piece", "performer"))["scores"]
    assert 0.9 < scores["pearson"]["mean"] < 1 - 1e-3 and scores["r2"]["mean"] < scores["pearson"]["mean"]
    random = [RaterAnswers(f"r{k}", s, tuple(rng.integers(1, 8, size=N_DIMENSIONS).astype(float))) for s in segments for k in range(6)]
    result = human_ceiling(random, test, ("piece", "performer"))
    assert abs(result["scores"]["pearson"]["mean"]) < 0.15 and result["n_pairs"] == 24 * 6
    low, high = result["scores"]["pearson"]["ci_low"], result["scores"]["pearson"]["ci_high"]
    assert low < result["scores"]["pearson"]["mean"] < high
    # a missing answer leaves that pair out of that dimension only; a lone rater has no others to agree with
    lone = rater_pairs([RaterAnswers("a", segments[0], (None,) + (3.0,) * (N_DIMENSIONS - 1))], [segments[0]])
    assert np.isnan(lone.others).all() and np.isnan(lone.rater[0, 0]) and lone.rater[0, 1] == 3 / 7


def test_the_set_renders_once_with_the_default_piano_and_resumes(files, tmp_path):
    """`rendered_audio` writes each segment once, named by the segment, under a folder named by the archive, piano,
    rate and gain; a second call renders nothing; an unreadable MIDI file is skipped with its name in the log."""
    import soundfile as sf

    from pjbench.datasets.percepiano.dataset import DEFAULT_TIMBRE, SET_GAIN, rendered_audio, segments

    _, midis, _ = segments(files)
    few = dict(list(midis.items())[:2])
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd")
    folder = rendered_audio({**few, "Broken_8bars_1_1": broken}, sample_rate=16000, root=tmp_path)
    written = sorted(p.name for p in folder.glob("*.flac"))
    assert written == sorted(f"{n}.flac" for n in few)
    info = json.loads((folder / "render.json").read_text())
    assert info["timbre"] == DEFAULT_TIMBRE and info["gain"] == SET_GAIN and info["sample_rate"] == 16000
    audio, rate = sf.read(folder / written[0])
    assert rate == 16000 and 0.01 < np.abs(audio).max() < 0.999
    stamp = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.flac")}
    assert rendered_audio(few, sample_rate=16000, root=tmp_path) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.flac")} == stamp


def test_the_demo_names_its_datasets():
    from typer.testing import CliRunner

    from pjbench.cli import app

    r = CliRunner().invoke(app, ["demo", "--dataset", "pld-expertise"])
    assert r.exit_code != 0 and "choose one of synthetic, percepiano" in r.output
    assert "percepiano" in CliRunner().invoke(app, ["demo", "--help"]).output
