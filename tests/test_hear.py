"""`--encoder hear:MODULE[=WEIGHTS]`: a HEAR-API module of the tests (tests/hear_example.py) framed from its own
timestamps, checked against the HEAR contract by validate-encoder, and run end to end under one name."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.encoders import load_encoder
from pjbench.encoders.hear import HearError
from pjbench.encoders.validate import validate_encoder

runner = CliRunner()


def test_frames_come_from_the_modules_timestamps_and_the_contract_is_checked():
    enc = load_encoder("hear:hear_example")
    assert enc.meta.frame_rate == 20.0 and enc.meta.dim == 4 and enc.meta.sample_rate == 16000
    assert [enc.meta.frames(s) for s in (5, 7.5, 10)] == [101, 151, 201]  # samples // 800 + 1, as measured
    checks = validate_encoder(enc)
    assert not [c for c in checks if not c.passed]
    assert {"HEAR: shapes", "HEAR: timestamps in ms", "HEAR: float32"} <= {c.name for c in checks}
    r = runner.invoke(app, ["validate-encoder", "hear:hear_example"])
    assert r.exit_code == 0 and "HEAR: timestamps monotone" in r.output, r.output


def test_weights_change_the_name_and_bad_modules_are_refused(tmp_path, monkeypatch):
    weights = tmp_path / "gain.npy"
    np.save(weights, np.float32(2.0))
    a, b = load_encoder("hear:hear_example"), load_encoder(f"hear:hear_example={weights}")
    assert a.meta.name == "hear-hear_example" and b.meta.name.startswith("hear-hear_example-") and b.meta.options["weights_sha256"]
    with pytest.raises(HearError, match="no such weights file"):
        load_encoder(f"hear:hear_example={tmp_path / 'none.npy'}")
    with pytest.raises(HearError, match="cannot import it"):
        load_encoder("hear:no_such_hear_module")
    # timestamps in seconds, not milliseconds: the counts follow no rule at the rate they imply
    (tmp_path / "hear_seconds.py").write_text(
        "from hear_example import load_model, get_scene_embeddings, get_timestamp_embeddings as _g\n"
        "def get_timestamp_embeddings(audio, model):\n    e, t = _g(audio, model)\n    return e, t / 1000\n"
    )
    # float64 embeddings: load, but the contract check fails
    (tmp_path / "hear_double.py").write_text(
        "from hear_example import load_model, get_scene_embeddings, get_timestamp_embeddings as _g\n"
        "def get_timestamp_embeddings(audio, model):\n    e, t = _g(audio, model)\n    return e.double(), t\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HearError, match="follow none of the usual rules"):
        load_encoder("hear:hear_seconds")
    failed = [c.name for c in validate_encoder(load_encoder("hear:hear_double")) if not c.passed]
    assert failed == ["HEAR: float32"]
    for name in ("hear_seconds", "hear_double"):
        sys.modules.pop(name, None)


def test_extract_probe_and_board_under_one_name(tiny, tmp_path):
    common = ["--dataset", str(tiny.root), "--cache-dir", str(tmp_path / "cache")]
    r = runner.invoke(app, ["extract", "--encoder", "hear:hear_example", *common])
    assert r.exit_code == 0, r.output
    results = tmp_path / "results"
    probe = ["probe", "--encoder", "hear:hear_example", *common, "-t", "difficulty-3way", "--head", "linear", "--seeds", "1"]
    r = runner.invoke(app, [*probe, "--epochs", "2", "--no-baselines", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    (result,) = (results / tiny.name / "hear-hear_example").glob("difficulty-3way.linear-*.json")
    assert json.loads(result.read_text())["encoder_meta"]["options"]["module"] == "hear_example"
    assert "| hear-hear_example |" in r.output
    # export takes the same string (the board's name works too)
    r = runner.invoke(app, ["export", str(results), str(tmp_path / "bundle"), "--encoder", "hear:hear_example"])
    assert r.exit_code == 0 and "1 result(s)" in r.output, r.output
