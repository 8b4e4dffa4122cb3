"""MusiCNN's four trained taggers, rebuilt in torch from the wheel's TensorFlow checkpoints without TensorFlow, against
the outputs of musicnn's own TensorFlow graph on fixed signals (tests/fixtures/fidelity/musicnn, made by
research/fidelity/reference_musicnn.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import fidelity_signals as signals
import numpy as np
import pytest
import torch

from pjbench.encoders.musicnn_net import MODELS, SAMPLE_RATE, load_model, log_mel, package_checkpoint, patches
from pjbench.encoders.tf_checkpoint import read_checkpoint

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity" / "musicnn"
pytestmark = pytest.mark.skipif(importlib.util.find_spec("musicnn") is None, reason="the musicnn wheel is not installed (scripts/setup.sh)")

# the reference generator's signals (its cases()), checked against the fixture's recorded sha256
CASES = {
    "chord": lambda: 0.25 * signals.chord(SAMPLE_RATE, 6.5),
    "silence_then_noise": lambda: signals.silence_then_noise(SAMPLE_RATE, 3.5, 1.0) * 0.5,
    "quiet_then_loud": lambda: signals.quiet_then_loud(SAMPLE_RATE, 7.0) * 0.25,
    "loud": lambda: signals.chord(SAMPLE_RATE, 3.2) * 2.0,
}


@pytest.fixture(scope="module")
def reference() -> tuple[dict[str, np.ndarray], dict]:
    provenance = json.loads((FIXTURE / "provenance.json").read_text())
    with np.load(FIXTURE / "outputs.npz") as data:
        return {k: data[k] for k in data.files}, provenance


def test_the_front_end_gives_the_originals_patches_bit_for_bit(reference):
    outputs, provenance = reference
    for case, make in CASES.items():
        signal = make()
        assert signals.sha256(signal) == provenance["cases"][case]["signal_sha256"], case
        assert np.array_equal(patches(log_mel(signal)), outputs[f"{case}/input"]), case


@pytest.mark.parametrize("model", MODELS)
def test_each_network_equals_musicnns_own_graph(model, reference):
    """Every layer the extractor returns, on the original's own input patches. Tolerance: 1e-5 of each layer's
    largest magnitude (TensorFlow's and torch's convolutions sum in other orders; the largest differences seen were
    1.1e-4 on values of about 10)."""
    outputs, _ = reference
    net = load_model(model)
    for case in CASES:
        with torch.no_grad():
            got = {k: v.numpy() for k, v in net(torch.from_numpy(outputs[f"{case}/input"])).items()}
        got["tags"] = 1 / (1 + np.exp(-got["logits"]))
        if model.endswith("vgg"):
            per_frame = {f"pool{k}": got[f"pool{k}"].mean(axis=2) for k in range(1, 5)}
            got["pool5"] = got["pool5"].reshape(len(got["pool5"]), -1)
        else:
            per_frame = {k: got[k] for k in ("timbral", "temporal", "cnn1", "cnn2", "cnn3")}
        for name, frames in per_frame.items():
            got[f"{name}.mean"], got[f"{name}.max"], got[f"{name}.every16"] = frames.mean(1), frames.max(1), frames[:, ::16]
        prefix = f"{case}/{model}/"
        keys = [k[len(prefix) :] for k in outputs if k.startswith(prefix)]
        assert len(keys) >= 6
        for key in keys:
            want = outputs[prefix + key]
            scale = max(1.0, float(np.abs(want).max()))
            assert got[key].shape == want.shape, (case, key)
            assert np.abs(got[key] - want).max() <= 1e-5 * scale, (case, key, float(np.abs(got[key] - want).max()))


def test_a_rendered_piano_sounds_like_piano_to_the_tagger(tiny):
    """The weights are the trained ones: on a recording of the synthetic set MTT's musicnn ranks "piano" first of
    its 50 tags (a random network would not)."""
    from pjbench.audio import load_audio

    audio = load_audio(tiny.recordings[0].path, SAMPLE_RATE)
    net = load_model("MTT_musicnn")
    with torch.no_grad():
        logits = net(torch.from_numpy(patches(log_mel(audio))))["logits"].mean(0)
    assert int(torch.argmax(logits)) == 9  # MTT's tags: guitar, classical, slow, techno, strings, drums, ..., piano (10th)


def test_a_cut_or_altered_checkpoint_is_refused_with_one_line(tmp_path):
    source = package_checkpoint("MTT_vgg")
    copy = tmp_path / "MTT_vgg"
    shutil.copytree(source, copy)
    assert set(read_checkpoint(copy)) == set(read_checkpoint(source))  # an intact copy reads the same
    data = copy / ".data-00000-of-00001"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"lies past the end of the data \(cut short\?\)"):
        load_model("MTT_vgg", copy)
    shutil.copy(source / ".data-00000-of-00001", data)
    index = copy / ".index"
    index.write_bytes(index.read_bytes()[:-10])
    with pytest.raises(ValueError, match="not a TensorFlow checkpoint index"):
        load_model("MTT_vgg", copy)
    with pytest.raises(ValueError, match="not this network's checkpoint; missing 1CNN"):
        from pjbench.encoders.musicnn_net import Vgg, load_variables

        load_variables(Vgg(), read_checkpoint(package_checkpoint("MTT_musicnn")), "MTT_musicnn")


@pytest.mark.parametrize("name", ["vgg-msd", "vgg-mtt"])
def test_the_vgg_encoders_frames_are_the_originals_blocks_and_pass_validation(name, reference):
    """Frame 0 of a segment is the original's first patch, each block pooled over its time and frequency; the encoder
    passes `validate-encoder` (framing at 5, 7.5 and 10 s, batch invariance, silence...)."""
    from pjbench.encoders import load_encoder
    from pjbench.encoders.validate import validate_encoder

    outputs, _ = reference
    encoder = load_encoder(name)
    model = encoder.meta.options["model"]
    frames = encoder.embed(torch.from_numpy(CASES["chord"]()[None]))[0]  # (5, frames, 128)
    assert frames.shape == (5, encoder.meta.frames(6.5), 128)
    want = [outputs[f"chord/{model}/pool{k}.mean"][0] for k in range(1, 5)]
    want.append(outputs[f"chord/{model}/pool5"][0].reshape(2, 128).mean(0))  # pool5: 2 time steps x 1 band
    for k, layer in enumerate(want):
        assert np.abs(frames[k, 0].numpy() - layer).max() <= 1e-5 * max(1.0, float(np.abs(layer).max())), k
    failed = [c for c in validate_encoder(encoder) if not c.passed]
    assert not failed, failed
    assert [encoder.meta.frames(s) for s in (5, 7.5, 10)] == [4, 9, 14]


@pytest.mark.parametrize("name", ["musicnn-msd", "musicnn-mtt"])
def test_the_musicnn_encoders_frames_are_the_originals_layers_side_by_side_and_pass_validation(name, reference):
    """Frame 0 is the original's first patch: front end, mid-end blocks averaged over the patch's time, the back end's
    input (max and mean pools, interleaved as the dense layer reads them) and the penultimate layer, side by side in
    the declared sizes; the encoder passes `validate-encoder`."""
    from pjbench.encoders import load_encoder
    from pjbench.encoders.base import layer_slice
    from pjbench.encoders.validate import validate_encoder

    outputs, _ = reference
    encoder = load_encoder(name)
    model, dims = encoder.meta.options["model"], encoder.meta.layer_dims
    frames = encoder.embed(torch.from_numpy(CASES["chord"]()[None]))[0]  # (1, frames, 2459)
    assert frames.shape == (1, encoder.meta.frames(6.5), sum(dims)) and dims == (561, 64, 64, 64, 1506, 200)
    ref = {k: outputs[f"chord/{model}/{k}"][0] for k in ("timbral.mean", "temporal.mean", "max_pool", "mean_pool", "penultimate")}
    want = [np.concatenate([ref["timbral.mean"], ref["temporal.mean"]])]
    want += [outputs[f"chord/{model}/cnn{k}.mean"][0] for k in (1, 2, 3)]
    want += [np.stack([ref["max_pool"], ref["mean_pool"]], axis=-1).reshape(-1), ref["penultimate"]]
    for k, layer in enumerate(want):
        got = frames[0, 0, layer_slice(dims, k)].numpy()
        assert np.abs(got - layer).max() <= 1e-5 * max(1.0, float(np.abs(layer).max())), k
    if name == "musicnn-msd":  # the same network and code with other weights: one validation serves both (30 s each)
        failed = [c for c in validate_encoder(encoder) if not c.passed]
        assert not failed, failed
