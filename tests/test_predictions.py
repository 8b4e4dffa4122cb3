"""Per-item predictions on record: every probe result keeps them beside its JSON, and `pjbench rescore` recomputes
every metric and interval from them exactly, for every probe task kind."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.probing.config import TrainConfig
from pjbench.probing.probe import predictions_path, run_probe
from pjbench.reporting.rescore import differences, rescore
from pjbench.tasks import TASKS

runner = CliRunner()


@pytest.mark.parametrize("task", ["expertise-2way", "expertise-3way", "technique-multilabel", "technique-single"])
def test_rescore_reproduces_every_kind_exactly(task, tiny, tiny_mel_cache, tmp_path):
    cfg = TrainConfig("linear", (0, 1), lr=1e-3, max_epochs=4, patience=4)
    result = run_probe(tiny, TASKS[task], tiny_mel_cache, cfg, tmp_path, progress=False)
    path = result.path(tmp_path)
    rows = [json.loads(line) for line in gzip.decompress(predictions_path(path).read_bytes()).decode().splitlines()]
    test_rows = [r for r in rows if r["seed"] == 0 and r["split"] == "test"]
    assert len(test_rows) == result.counts["n_test"] and all(r["groups"] and r["ids"] for r in test_rows)
    assert len({len(r["ids"]) for r in test_rows}) == 1 and len(test_rows[0]["ids"]) == TASKS[task].kind.inputs_per_example
    recorded, per_seed, scores = rescore(path)
    assert differences(recorded, per_seed, scores) == []
    assert scores == recorded.scores and [s["test"] for s in per_seed] == [s["test"] for s in recorded.per_seed]


def test_rescore_notices_a_changed_result_or_predictions_file(tiny, tiny_mel_cache, tmp_path):
    cfg = TrainConfig("linear", (0,), lr=1e-3, max_epochs=3, patience=3)
    path = run_probe(tiny, TASKS["expertise-3way"], tiny_mel_cache, cfg, tmp_path, progress=False).path(tmp_path)
    r = runner.invoke(app, ["rescore", str(path)])
    assert r.exit_code == 0 and "recomputed exactly" in r.output
    data = json.loads(path.read_text())
    data["per_seed"][0]["test"]["acc0"] += 0.01
    path.write_text(json.dumps(data))
    r = runner.invoke(app, ["rescore", str(path)])
    assert r.exit_code == 1 and "seed 0 test acc0" in r.output
    predictions_path(path).write_bytes(gzip.compress(b"{}\n"))
    r = runner.invoke(app, ["rescore", str(path)])
    assert r.exit_code == 1 and "sha256 differs" in r.output
