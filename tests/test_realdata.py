"""The published datasets (PLD expertise and technique, CIPI difficulty, ICPC-2015) on their real
label files, with small audio written under the names they expect: loaders, splits, the data check,
and extraction -> probing end to end through the command line."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from published_audio import ICPC_LABELS, PLD_LABELS, populate
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.datasets import load_dataset
from pjbench.datasets.base import check_group_leakage
from pjbench.datasets.techniques import TECHNIQUES

runner = CliRunner()
EXPERTISE_FORMATS = {"0": ["webm", "m4a"], "1": ["wav", "flac"], "2": ["mp3"]}  # virtuoso = commercial mp3, as in PLD


@pytest.fixture(scope="module")
def pld_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pld")
    populate("pld-expertise", root, PLD_LABELS, 4, EXPERTISE_FORMATS)
    shutil.copytree(PLD_LABELS, root / "labels")  # the default label location: AUDIO_ROOT/labels
    return root


def test_pld_expertise_reads_the_published_files(pld_root: Path) -> None:
    ds = load_dataset("pld-expertise", audio_root=pld_root)
    assert ds.info["n_label_rows"] == 571 + 897 + 562
    assert len(ds.recordings) == 36 and ds.info["n_missing_audio"] == 2030 - 36
    levels = Counter((r.split, r.labels["expertise"]) for r in ds.recordings)
    assert all(levels[(s, lvl)] == 4 for s in ("train", "val", "test") for lvl in (0, 1, 2))
    for rec in ds.recordings:
        assert rec.path.is_file()
        if rec.labels["expertise"] == 2:  # ATEPP: found by its relative path, whatever the extension
            assert rec.path.suffix == ".mp3" and rec.groups["performer"].startswith("artist:")
        else:
            assert rec.groups["performer"].startswith("channel:https://www.youtube.com/")
    assert not check_group_leakage(ds.recordings)


def test_expertise_split_is_grouped_stratified_and_seeded(pld_root: Path) -> None:
    hashes = set()
    for seed in (0, 1, 2):
        ds = load_dataset("pld-expertise", audio_root=pld_root, labels_dir=PLD_LABELS, split_seed=seed)
        assignment = ds.info["splits"]
        assert len(assignment) == 2030
        hashes.add(ds.info["split_hash"])
        performers: dict[str, set[str]] = {}
        with open(PLD_LABELS / "advanced_metadata.csv", newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                performers.setdefault(r["channel_url"], set()).add(assignment[r["id"]])
        assert all(len(s) == 1 for s in performers.values())  # no channel on two sides
        shares = Counter(assignment.values())
        assert 0.6 < shares["train"] / 2030 < 0.8 and shares["val"] > 0 and shares["test"] > 0
    assert len(hashes) == 3  # the seed changes the split
    again = load_dataset("pld-expertise", audio_root=pld_root, labels_dir=PLD_LABELS, split_seed=2)
    assert again.info["split_hash"] in hashes


def test_technique_rules_and_grouping(tmp_path: Path) -> None:
    ds = load_dataset("pld-technique", audio_root=tmp_path, labels_dir=PLD_LABELS)
    assert ds.info["n_label_rows"] == 222 and not ds.recordings  # no audio: everything is reported missing
    notes = ds.info["label_notes"]
    assert len(notes) == 4 and any("6IgJQ5aUiRU" in n for n in notes) and any("Arpeggio'" in n for n in notes)
    from pjbench.datasets.pld import technique_rows

    rows = {r.id: r for r in technique_rows(PLD_LABELS)[0]}
    assert rows["6IgJQ5aUiRU"].labels["techniques"] == ("Repeatednotes", "Doublenotes")
    assert rows["6IgJQ5aUiRU"].labels["technique_primary"] == "Doublenotes"  # the text's first technique
    assert rows["nRV1tNXp1E0"].labels["techniques"] == ("Arpeggios", "Ornaments")  # "Arpeggio" normalised
    cuts = [r for i, r in rows.items() if i.startswith("xXi3dl5R92c_cut")]
    assert len(cuts) == 5 and len({r.groups["source"] for r in cuts}) == 1  # clips of one video: one group
    split_of = ds.info["splits"]
    sides: dict[str, set[str]] = {}
    for r in rows.values():
        sides.setdefault(r.groups["source"], set()).add(split_of[r.id])
    assert all(len(s) == 1 for s in sides.values())


def test_cipi_official_split_and_duplicate_rule(tmp_path: Path) -> None:
    ds = load_dataset("cipi-difficulty", audio_root=tmp_path, labels_dir=PLD_LABELS)
    split = ds.info["splits"]
    assert ds.info["n_label_rows"] == 730 and Counter(split.values()) == {"train": 439, "val": 150, "test": 141}
    assert "9vA8qX_p11w" not in split  # one file, two different levels: dropped
    assert split["Ogx9LgSH-z4"] == "test" and split["RvMXSL0zYgM"] == "val"  # kept in the evaluation split
    assert sum("dropped" in n for n in ds.info["label_notes"]) == 1 and len(ds.info["label_notes"]) == 6


def test_icpc_stage_derivation(tmp_path: Path) -> None:
    ds = load_dataset("icpc2015", audio_root=tmp_path, labels_dir=ICPC_LABELS)
    assert ds.info["n_label_rows"] == 139 and ds.max_segments is None
    from pjbench.datasets.icpc import icpc_rows

    rows = icpc_rows(ICPC_LABELS)[0]
    stage = {r.labels["candidate"]: r.labels["stage"] for r in rows}
    assert Counter(stage.values()) == {0: 70, 1: 35, 2: 20, 3: 14}
    assert stage["Seong Jin Cho"] == 3 and stage["Charles Richard Hamelin"] == 3  # the winner, the 2nd prize
    assert stage["Chisaki Doi"] == 0
    assert "Eric Lu" not in stage and any("Eric Lu" in n for n in ds.info["label_notes"])  # exempt from the preliminary round


def test_data_check_finds_the_codec_shortcut_and_missing_audio(pld_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "check"
    r = runner.invoke(app, ["data", "check", "pld-expertise", "--audio-root", str(pld_root), "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = (out / "data-check.txt").read_text()
    assert "leakage: 0 group(s)" in text
    assert "shortcut: codec alone predicts the expertise label" in text
    assert "missing audio: 1994" in text
    assert (out / "data-check.png").stat().st_size > 0
    with open(out / "missing-audio.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 1994


def test_pld_extract_probe_leaderboard(pld_root: Path, pjbench_home: Path, tmp_path: Path) -> None:
    (pld_root / "corrupt").mkdir(exist_ok=True)
    bad = next(p for p in sorted(pld_root.rglob("*.m4a")))
    bad.write_bytes(b"not audio at all")  # an undecodable file: logged and skipped, nothing else lost
    results = tmp_path / "results"
    r = runner.invoke(app, ["extract", "-e", "mel", "-d", "pld-expertise", "--audio-root", str(pld_root)])
    assert r.exit_code == 0, r.output
    assert "35 extracted" in r.output and "1 skipped" in r.output and "1994 of 2030 label rows have no audio" in r.output
    r = runner.invoke(
        app,
        ["probe", "-t", "expertise-2way", "-e", "mel", "-d", "pld-expertise", "--audio-root", str(pld_root), "--head", "linear"]
        + ["--seeds", "2", "--epochs", "30", "--results-dir", str(results), "--allow-missing"],
    )
    assert r.exit_code == 0, r.output
    assert "left out (--allow-missing)" in r.output  # the undecodable file's examples, said
    (path,) = (results / "pld-expertise" / "mel").glob("expertise-2way.linear-*.json")
    data = json.loads(path.read_text())
    assert data["counts"]["n_missing_audio"] == 1994 and data["counts"]["n_label_rows"] == 2030
    digest = data["config"]["dataset"]["split_hash"]
    assert (results / "pld-expertise" / f"splits-{digest}.csv").exists()
    assert data["scores"]["accuracy"]["mean"] > 0.6  # the levels sound different by construction
    board = (results / "pld-expertise" / "leaderboard.md").read_text()
    assert "mel (paper, Table 3)" in board and "75.90" in board
    assert "audiomae (fine-tuned) (paper, Table 3)" in board and "chose its checkpoints and stopping epochs on the test split" in board
    assert "| duration | linear (baseline) |" in board  # probe adds the shortcut rows a board lacks


@pytest.mark.slow
def test_cipi_and_technique_end_to_end(pjbench_home: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    cipi = tmp_path / "cipi"
    populate("cipi-difficulty", cipi, PLD_LABELS, 2, {"*": ["wav", "ogg"]}, level_of=lambda lbl: (int(lbl) - 1) / 4)
    tech = tmp_path / "tech"
    populate("pld-technique", tech, PLD_LABELS, 2, {"*": ["flac", "webm"]}, level_of=lambda lbl: TECHNIQUES.index(lbl) / 3)
    for name, root, task in (("cipi-difficulty", cipi, "difficulty-3way"), ("pld-technique", tech, "technique-multilabel")):
        common = ["-d", name, "--audio-root", str(root), "--labels", str(PLD_LABELS)]
        r = runner.invoke(app, ["extract", "-e", "mel", *common])
        assert r.exit_code == 0, r.output
        r = runner.invoke(
            app,
            ["probe", "-t", task, "-e", "mel", *common, "--head", "linear", "--seeds", "1", "--epochs", "5"]
            + ["--results-dir", str(results)],
        )
        assert r.exit_code == 0, r.output
        assert len(list((results / name / "mel").glob(f"{task}.linear-*.json"))) == 1
