"""MERT through HubertModel: a tiny random MERT checkpoint in the published Hugging Face layout."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pjbench.encoders import load_encoder
from pjbench.encoders.checkpoints import CheckpointError
from pjbench.encoders.validate import validate_encoder

transformers = pytest.importorskip("transformers")

# the keys a MERT-v1 config.json carries, scaled down: the 95M-shaped config of the fidelity fixtures (made by
# research/fidelity/reference_mert.py), so that the shape is written down once
TINY_MERT = json.loads((Path(__file__).parent / "fixtures" / "fidelity" / "mert-v1-95m-tiny" / "config.json").read_text())


@pytest.fixture(scope="module")
def tiny_mert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("MERT-v1-tiny")
    config = transformers.HubertConfig(**{k: v for k, v in TINY_MERT.items() if k not in ("architectures", "auto_map", "model_type")})
    torch.manual_seed(0)
    model = transformers.HubertModel(config).eval()
    (folder / "config.json").write_text(json.dumps(TINY_MERT))
    (folder / "preprocessor_config.json").write_text(json.dumps({"do_normalize": True, "feature_size": 1, "sampling_rate": 24000}))
    # saved under the published files' names (weight norm as weight_g / weight_v)
    legacy = {
        k.replace("parametrizations.weight.original0", "weight_g").replace("parametrizations.weight.original1", "weight_v"): v
        for k, v in model.state_dict().items()
    }
    assert "encoder.pos_conv_embed.conv.weight_g" in legacy
    torch.save(legacy, folder / "pytorch_model.bin")
    return folder, model


def test_loads_strictly_and_matches_the_architecture(tiny_mert):
    folder, reference = tiny_mert
    enc = load_encoder("mert", checkpoint=str(folder))
    assert enc.meta.n_layers == 3 and enc.meta.dim == 32 and enc.meta.frame_rate == 75.0
    x = torch.randn(2, 24000 * 10) * 0.1
    out = enc.embed(x)
    assert out.shape == (2, 3, 749, 32)  # 749 frames per 10 s, as the paper's MERT shape
    normed = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-7)
    with torch.no_grad():
        expected = torch.stack(reference(normed, output_hidden_states=True).hidden_states, dim=1)
    assert torch.allclose(out, expected, atol=1e-5)


def test_validator_passes(tiny_mert):
    folder, _ = tiny_mert
    failed = [c for c in validate_encoder(load_encoder("mert-95m", checkpoint=str(folder))) if not c.passed]
    assert failed == []


def test_clear_errors(tiny_mert, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf"))
    with pytest.raises(CheckpointError, match="no local copy of m-a-p/MERT-v1-330M"):
        load_encoder("mert")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_encoder("mert", checkpoint=str(tmp_path / "nowhere"))
    folder, _ = tiny_mert
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((folder / "config.json").read_text())
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    state.pop("encoder.layer_norm.weight")
    torch.save(state, bad / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="missing"):
        load_encoder("mert", checkpoint=str(bad))
    cqt = tmp_path / "cqt"
    cqt.mkdir()
    (cqt / "config.json").write_text(json.dumps({**TINY_MERT, "feature_extractor_cqt": True}))
    with pytest.raises(CheckpointError, match="CQT"):
        load_encoder("mert", checkpoint=str(cqt))


def test_all_layers_pooled_cache_and_learned_layer_weights(tiny_mert, tiny, tmp_path):
    from pjbench.datasets.base import Dataset
    from pjbench.extraction.cache import CacheReader
    from pjbench.extraction.extract import ExtractConfig, extract
    from pjbench.probing.config import TrainConfig
    from pjbench.probing.probe import run_probe
    from pjbench.tasks import TASKS

    folder, _ = tiny_mert
    subset = [r for split in ("train", "val", "test") for r in tiny.split(split)[:12]]
    ds = Dataset("mert-layers", subset, tiny.tasks, pair_group="piece")
    report = extract(
        ds, load_encoder("mert", checkpoint=str(folder)), ExtractConfig(layer="all", pool="rate:5"), cache_root=tmp_path, progress=False
    )
    reader = CacheReader(report.cache_path)
    rec = reader.get(reader.ids()[0])
    assert rec.embeddings.shape[1:] == (3, 50, 32)  # all 3 hidden states, pooled to 5 frames/s
    assert reader.frame_rate == 5.0 and reader.attrs["pool"] == "rate:5"
    reader.close()
    cfg = TrainConfig("linear", seeds=(0,), lr=1e-3, max_epochs=3, patience=3)
    result = run_probe(ds, TASKS["difficulty-3way"], report.cache_path, cfg, tmp_path / "results", progress=False)
    weights = result.per_seed[0]["layer_weights"]
    assert len(weights) == 3 and abs(sum(weights) - 1) < 1e-6
    mean_pooled = extract(ds, load_encoder("mert", checkpoint=str(folder)), ExtractConfig(pool="mean"), cache_root=tmp_path, progress=False)
    assert mean_pooled.cache_path != report.cache_path  # the pooling is part of the cache key


def test_layers_each_writes_a_result_per_layer_and_a_curve_per_task(tiny_mert, tiny, tiny_mel_cache, tmp_path):
    import csv

    from typer.testing import CliRunner

    from pjbench.cli import app
    from pjbench.extraction.extract import ExtractConfig, extract
    from pjbench.results.record import TaskResult

    folder, _ = tiny_mert
    report = extract(
        tiny, load_encoder("mert", checkpoint=str(folder)), ExtractConfig(layer="all", pool="rate:5"), cache_root=tmp_path, progress=False
    )
    results = tmp_path / "results"
    args = ["probe", "--dataset", str(tiny.root), "--head", "linear", "--seeds", "2", "--epochs", "2", "--no-baselines"]
    args += ["--task", "difficulty-3way", "--results-dir", str(results)]
    r = CliRunner().invoke(app, [*args, "--cache", str(report.cache_path), "--layers", "each"])
    assert r.exit_code == 0, r.output
    layers = results / tiny.name / "mert" / "layers"
    per_layer = sorted(layers.glob("difficulty-3way.linear-*.layer*.json"))
    assert [TaskResult.load(p).layer for p in per_layer] == [0, 1, 2]
    assert all(TaskResult.load(p).config["layer"] == k for k, p in enumerate(per_layer))
    (curve,) = layers.glob("difficulty-3way.linear-*.layer-curve.csv")
    rows = list(csv.DictReader(curve.open()))
    assert [row["layer"] for row in rows] == ["0", "1", "2", "mix"]
    for row in rows[:3]:
        assert float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"]) and 0 < float(row["mix_weight"]) < 1
        result = TaskResult.load(per_layer[int(row["layer"])])
        recorded = result.scores[result.primary_metric]["mean"]
        assert float(row["mean"]) == recorded
    assert abs(sum(float(row["mix_weight"]) for row in rows[:3]) - 1) < 1e-6
    # the chosen layer is the one with the best validation score, whatever the test scores say
    val = [float(row["val_mean"]) for row in rows[:3]]
    assert [row["chosen"] for row in rows] == [str(k == int(np.argmax(val))) for k in range(3)] + ["False"]
    first = TaskResult.load(per_layer[0])
    assert val[0] == np.mean([s["val"][first.primary_metric] for s in first.per_seed])
    assert curve.with_suffix(".png").stat().st_size > 10_000
    # each layer alone is a probe of its own: layer 1 alone differs from layer 0 alone
    assert TaskResult.load(per_layer[0]).per_seed != TaskResult.load(per_layer[1]).per_seed
    # the board shows the mix's row only
    board = CliRunner().invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert board.exit_code == 0 and board.output.count("| mert |") == 1, board.output
    # a one-layer cache has no curve to draw
    r = CliRunner().invoke(app, [*args, "--cache", str(tiny_mel_cache), "--layers", "each"])
    assert r.exit_code == 1 and "stores one layer" in r.output and "--layer all" in r.output, r.output


def test_stable_layer_norm_last_layer_is_after_the_final_layernorm(tmp_path):
    """MERT-v1-330M (do_stable_layer_norm): the last hidden state is the encoder's final LayerNorm output, as
    transformers 4.x gave MERT's own code; transformers 5's hidden_states[-1] is the block output before it."""
    folder = tmp_path / "MERT-v1-330M-tiny"
    folder.mkdir()
    raw = {**TINY_MERT, "do_stable_layer_norm": True, "feat_extract_norm": "layer", "conv_bias": True}
    config = transformers.HubertConfig(**{k: v for k, v in raw.items() if k not in ("architectures", "auto_map", "model_type")})
    torch.manual_seed(1)
    model = transformers.HubertModel(config).eval()
    with torch.no_grad():  # a non-trivial final LayerNorm, as a trained one is
        model.encoder.layer_norm.weight.normal_(1.0, 0.5)
        model.encoder.layer_norm.bias.normal_(0.0, 0.5)
    (folder / "config.json").write_text(json.dumps(raw))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    enc = load_encoder("mert", checkpoint=str(folder))
    x = torch.randn(1, 24000 * 2) * 0.1
    out = enc.embed(x)
    normed = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-7)
    with torch.no_grad():
        states = model(normed, output_hidden_states=True).hidden_states
        after_norm = model.encoder.layer_norm(states[-1])
    assert out.shape[1] == 3
    assert torch.allclose(out[:, -1], after_norm, atol=1e-5)
    assert torch.allclose(out[:, 1], states[1], atol=1e-5)  # the blocks' outputs before it are as they were
