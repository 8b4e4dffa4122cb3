"""A new encoder against the board (issue 27): data fingerprints, boards from several folders and bundles with a
source per row, rows verified from their predictions, results never overwritten by other data's, strict JSON."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.datasets.fingerprint import fingerprint
from pjbench.datasets.manifest import load_manifest
from pjbench.datasets.registry import load_dataset
from pjbench.reporting.leaderboard import make_boards
from pjbench.results.record import TaskResult

runner = CliRunner()
REFERENCE = Path(__file__).resolve().parents[1] / "results"
PLUGIN = (
    "import torch\n"
    "from pjbench.encoders.base import EncoderMeta, Framing\n\n"
    "class Loudness:\n"
    "    def __init__(self):\n"
    "        self.meta = EncoderMeta('lab-loudness', '1', 8000, 10.0, 2, 1, framing=Framing('floor'))\n"
    "    def to(self, device):\n"
    "        return self\n"
    "    def embed(self, audio):\n"
    "        frames = audio[:, : audio.shape[1] // 800 * 800].reshape(len(audio), -1, 800)\n"
    "        return torch.stack([frames.abs().mean(-1), frames.std(-1)], dim=-1).unsqueeze(1)\n\n"
    "def factory():\n"
    "    return Loudness()\n"
)
PROBE = ["--head", "linear", "--seeds", "2", "--epochs", "2", "--no-baselines", "-t", "difficulty-3way"]


def _relabel_last(manifest: Path, out: Path) -> str:
    """The manifest with its last row's label changed, written to ``out``; the row's id."""
    rows = manifest.read_text().splitlines()
    fields = rows[-1].split(",")
    fields[-1] = "beginner" if fields[-1] != "beginner" else "virtuoso"
    out.write_text("\n".join(rows[:-1] + [",".join(fields)]) + "\n")
    return fields[0]


def test_fingerprint_follows_the_data_not_its_place_or_name(tiny, tmp_path):
    from tests.test_reliability import _project

    first = load_manifest(_project(tiny, tmp_path / "a"))
    moved = tmp_path / "elsewhere" / "renamed"
    shutil.copytree(tmp_path / "a", moved)
    (moved / "manifest.csv").rename(moved / "other-name.csv")
    same = load_manifest(moved / "other-name.csv")
    assert fingerprint(first)["digest"] == fingerprint(same)["digest"]
    last_id = _relabel_last(moved / "other-name.csv", moved / "relabelled.csv")
    changed = fingerprint(load_manifest(moved / "relabelled.csv"))
    assert changed["digest"] != fingerprint(first)["digest"]
    split = [r.split for r in first.recordings if r.id == last_id][0]
    assert changed["splits"][split] != fingerprint(first)["splits"][split]  # that split's digest moved, the others not
    assert [changed["splits"][s] for s in ("train", "val", "test") if s != split] == [
        fingerprint(first)["splits"][s] for s in ("train", "val", "test") if s != split
    ]


@pytest.fixture
def lab_plugin(tmp_path, monkeypatch):
    (tmp_path / "lab_encoders.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_plugin_row_from_a_bundle_sits_verified_beside_another_folder(tiny, tiny_mel_cache, lab_plugin, tmp_path):
    """Lab A probes mel; lab B extracts and probes its plugin under one --encoder string and exports a bundle; A's
    board takes the bundle: one board, a source per row, every row verified, compare across both."""
    common = ["--dataset", str(tiny.root)]
    lab_a, lab_b = tmp_path / "lab-a", tmp_path / "lab-b"
    r = runner.invoke(app, ["probe", *common, "--encoder", "mel", *PROBE, "--results-dir", str(lab_a)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["extract", "--encoder", "lab_encoders:factory", *common, "--cache-dir", str(tmp_path / "cache")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "probe",
            *common,
            "--encoder",
            "lab_encoders:factory",
            *PROBE,
            "--results-dir",
            str(lab_b),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
    )
    assert r.exit_code == 0, r.output
    bundle = tmp_path / "shipped" / "lab-b.tar.gz"
    r = runner.invoke(app, ["export", str(lab_b), str(bundle), "--encoder", "lab-loudness"])
    assert r.exit_code == 0 and "1 result(s)" in r.output, r.output
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
    manifest = [n for n in names if n == "bundle.json"]
    assert manifest and any(n.endswith(".predictions.jsonl.gz") for n in names) and any(n.endswith(".png") for n in names)
    shutil.rmtree(lab_b)  # the other machine has the bundle only

    r = runner.invoke(app, ["leaderboard", "--results-dir", str(lab_a), "--results-dir", str(bundle)])
    assert r.exit_code == 0, r.output
    table = [line for line in r.output.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| encoder | source | head | schedule | seeds | checked |")
    mel = next(line for line in table if line.startswith("| mel |"))
    lab = next(line for line in table if line.startswith("| lab-loudness |"))
    assert f"| {lab_a} |" in mel and f"| {bundle} |" in lab and "| ✓ |" in mel and "| ✓ |" in lab
    assert "★" in r.output
    written = (lab_a / tiny.name / "leaderboard.csv").read_text()
    assert "lab-loudness" in written and ",verified" in written and str(bundle) in written
    r = runner.invoke(app, ["compare", "--all", str(lab_a), "--all", str(bundle)])
    assert r.exit_code == 0 and "1 comparison(s)" in r.output and "lab-loudness" in r.output, r.output


def _copy_result(src: Path, dst_folder: Path) -> Path:
    dst_folder.mkdir(parents=True, exist_ok=True)
    result = TaskResult.load(src)
    for name in [src.name, result.predictions["file"], *([result.plot["file"]] if result.plot else [])]:
        shutil.copy2(src.with_name(name), dst_folder / name)
    return dst_folder / src.name


def test_boards_never_mix_fingerprints_and_refuse_numbers_that_do_not_follow(tiny, tiny_mel_cache, tmp_path):
    from pjbench import api

    ds = tiny
    [result] = api.probe(
        ds, tiny_mel_cache, ["difficulty-3way"], heads="linear", seeds=2, epochs=2, baselines=False, results_dir=tmp_path / "own"
    )
    own = result.file_in()
    # another lab's result of the same encoder on other data of the same name: its fingerprint differs
    other = _copy_result(own, tmp_path / "other" / ds.name / "mel")
    data = json.loads(other.read_text())
    data["fingerprint"]["digest"] = "0123456789abcdef"
    other.write_text(json.dumps(data))
    made = make_boards([tmp_path / "own", tmp_path / "other"], verify=False)
    assert sorted(made.boards) == sorted([f"{ds.name}@{result.data_digest[:8]}", f"{ds.name}@01234567"])
    assert "not comparable" in made.boards[f"{ds.name}@01234567"].notes[0]
    r = runner.invoke(app, ["compare", str(own), str(other)])
    assert r.exit_code == 1 and "different data" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    # a result whose score was edited by hand: refused, in one line, the rest of the board stands
    edited = _copy_result(own, tmp_path / "edited" / ds.name / "mel-edited")
    data = json.loads(edited.read_text())
    data["encoder"] = "mel-edited"
    data["scores"]["accuracy"]["mean"] += 0.1
    edited.write_text(json.dumps(data))
    made = make_boards([tmp_path / "own", tmp_path / "edited"])
    board = made.boards[ds.name]
    assert not any(row[0] == "mel-edited" for row in board.body)
    [note] = [n for n in board.notes if n.startswith("refused")]
    assert "do not follow from its predictions" in note and "accuracy" in note
    assert any(row[0] == "mel" and "✓" in row for row in board.body)


@pytest.mark.slow
def test_a_new_encoder_on_the_committed_board(pjbench_home, lab_plugin, tmp_path):
    """The quickstart: the plugin on pjbench's own synthetic set (rendered here: the same data fingerprint as the
    committed results), then one board of the committed results/ and the user's folder, the plugin's row verified."""
    from pjbench.datasets.synthetic.build import SynthConfig, build

    cfg = SynthConfig.for_size("small")
    build(cfg, cfg.default_dir(), workers=2, progress=False)
    assert (
        fingerprint(load_dataset("synthetic"))["digest"]
        == json.loads(next((REFERENCE / "synthetic" / "mel").glob("*.json")).read_text())["fingerprint"]["digest"]
    )
    mine = tmp_path / "pjbench-results"
    r = runner.invoke(app, ["extract", "--encoder", "lab_encoders:factory", "--dataset", "synthetic"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["probe", "--encoder", "lab_encoders:factory", "--dataset", "synthetic", *PROBE, "--results-dir", str(mine)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["leaderboard", "--results-dir", str(REFERENCE), "--results-dir", str(mine), "-t", "difficulty-3way"])
    assert r.exit_code == 0, r.output
    table = [line for line in r.output.splitlines() if line.startswith("| ")]
    assert len([line for line in table if "synthetic@" in line]) == 0  # one board: the data are the same
    lab = next(line for line in table if line.startswith("| lab-loudness |"))
    assert f"| {mine} |" in lab and "| ✓ |" in lab
    assert {"| mel |", "| basicpitch |", "| transkun |", "| duration |", "| loudness |"} <= {
        line[: line.index(" |", 2) + 2] for line in table
    }
    assert "shortcut on difficulty-3way" in r.output and "lab-loudness linear" in r.output
    assert (mine / "synthetic" / "leaderboard.md").is_file()  # written into the user's folder, the committed one untouched
