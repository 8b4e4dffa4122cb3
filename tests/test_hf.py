"""`--encoder hf:ID_OR_FOLDER`: tiny random models of three transformers families (HuBERT, the Audio Spectrogram
Transformer, Whisper's encoder) written with save_pretrained, loaded offline, framed, validated and run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.encoders import load_encoder
from pjbench.encoders.checkpoints import CheckpointError
from pjbench.encoders.validate import validate_encoder

transformers = pytest.importorskip("transformers")
runner = CliRunner()


def _save(folder, model, extractor):
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    torch.manual_seed(0)
    small = {"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "hidden_size": 32}
    hubert = transformers.HubertModel(
        transformers.HubertConfig(**small, conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    )
    ast = transformers.ASTModel(transformers.ASTConfig(**small, num_mel_bins=32, max_length=1024))
    whisper = transformers.WhisperModel(
        transformers.WhisperConfig(
            d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, vocab_size=100, max_target_positions=32,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
        )
    )  # fmt: skip
    return {
        "hubert": _save(root / "hubert", hubert.eval(), transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True)),
        "ast": _save(root / "ast", ast.eval(), transformers.ASTFeatureExtractor(num_mel_bins=32, max_length=1024)),
        "whisper": _save(root / "whisper", whisper.eval(), transformers.WhisperFeatureExtractor(feature_size=80)),
    }


@pytest.mark.parametrize(
    ("family", "rate", "frames"), [("hubert", 50.0, (249, 374, 499)), ("ast", 10.0, (49, 74, 99)), ("whisper", 50.0, (250, 375, 500))]
)
def test_each_family_is_framed_exactly_and_validates(tiny_models, family, rate, frames):
    enc = load_encoder(f"hf:{tiny_models[family]}")
    assert enc.meta.frame_rate == rate and enc.meta.n_layers == 3 and enc.meta.dim == 32 and enc.meta.sample_rate == 16000
    assert tuple(enc.meta.frames(s) for s in (5, 7.5, 10)) == frames
    assert (
        enc.meta.options["weights_sha256"] in enc.meta.revision.replace("#", "")
        or enc.meta.revision.split("#")[1] in enc.meta.options["weights_sha256"]
    )
    failed = [c for c in validate_encoder(enc) if not c.passed]
    assert not failed, failed


def test_the_layers_are_the_models_own_hidden_states(tiny_models):
    """HuBERT through hf: gives the model's hidden states on its feature extractor's input (every layer, every frame);
    AST's frames are its patch grid averaged over frequency; Whisper's the encoder's first frames."""
    x = torch.randn(2, 16000 * 4) * 0.1
    for family in ("hubert", "ast", "whisper"):
        enc = load_encoder(f"hf:{tiny_models[family]}")
        out = enc.embed(x)
        model = transformers.AutoModel.from_pretrained(tiny_models[family]).eval()
        fe = transformers.AutoFeatureExtractor.from_pretrained(tiny_models[family])
        inputs = fe(list(x.numpy()), sampling_rate=16000, return_tensors="pt")
        with torch.no_grad():
            if family == "whisper":
                states = model.encoder(inputs["input_features"], output_hidden_states=True).hidden_states
            else:
                states = model(**{k: v for k, v in inputs.items() if k != "attention_mask"}, output_hidden_states=True).hidden_states
        want = torch.stack(states, dim=1)
        if family == "ast":
            f_dim, t_dim = model.embeddings.get_shape(model.config)
            want = want[:, :, 2:].reshape(2, 3, f_dim, t_dim, 32).mean(dim=2)
        assert torch.allclose(out, want[:, :, : out.shape[2]], atol=1e-5), family
        assert out.shape[2] == enc.meta.frames(4.0)


def test_two_checkpoints_never_share_a_name_and_a_missing_model_is_one_line(tiny_models, tmp_path, tiny):
    other = tmp_path / "hubert-retrained"
    model = transformers.AutoModel.from_pretrained(tiny_models["hubert"])
    with torch.no_grad():
        model.encoder.layers[0].feed_forward.output_dense.bias.add_(0.1)
    _save(other, model, transformers.AutoFeatureExtractor.from_pretrained(tiny_models["hubert"]))
    a, b = load_encoder(f"hf:{tiny_models['hubert']}"), load_encoder(f"hf:{other}")
    assert a.meta.name != b.meta.name and a.meta.revision != b.meta.revision
    cache = tmp_path / "cache"
    r = runner.invoke(app, ["extract", "--encoder", "hf:nobody/no-such-model", "--dataset", str(tiny.root), "--cache-dir", str(cache)])
    assert (
        r.exit_code == 1 and "hf:nobody/no-such-model: no local copy of this model" in r.output and "huggingface-cli download" in r.output
    )
    assert not list(cache.rglob("*.h5"))
    with pytest.raises(CheckpointError, match="no such folder"):
        load_encoder("hf:./not/here")
    with pytest.raises(ValueError, match="say which model after 'hf:'"):
        load_encoder("hf:")
    with pytest.raises(ValueError, match="has no option layers"):
        load_encoder(f"hf:{tiny_models['hubert']}", layers="all")


@pytest.mark.parametrize("family", ["hubert", "ast", "whisper"])
def test_extract_probe_and_board_under_one_name(tiny_models, family, tiny, tmp_path):
    name = f"hf:{tiny_models[family]}"
    common = ["--dataset", str(tiny.root), "--cache-dir", str(tmp_path / "cache")]
    r = runner.invoke(app, ["extract", "--encoder", name, *common, "--max-segments", "1", "--layer", "all"])
    assert r.exit_code == 0, r.output
    results = tmp_path / "results"
    probe = ["probe", "--encoder", name, *common, "-t", "difficulty-3way", "--head", "linear", "--seeds", "1", "--epochs", "2"]
    r = runner.invoke(app, [*probe, "--no-baselines", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    meta_name = load_encoder(name).meta.name
    (result,) = (results / tiny.name / meta_name).glob("difficulty-3way.linear-*.json")
    record = json.loads(result.read_text())
    assert record["encoder_meta"]["options"]["weights_sha256"] and record["encoder_meta"]["options"]["model"] == str(tiny_models[family])
    assert len(record["per_seed"][0]["layer_weights"]) == 3  # every hidden state, mixed
    assert f"| {meta_name} |" in r.output
    assert np.isfinite(record["scores"]["acc0"]["mean"])


def test_list_encoders_names_the_routes_without_an_adapter():
    rows = {row["name"]: row for row in json.loads(runner.invoke(app, ["list", "encoders", "--format", "json"]).output)}
    assert {"hf:ID_OR_FOLDER", "hear:MODULE[=WEIGHTS]", "package.module:factory"} <= set(rows)
