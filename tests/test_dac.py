"""DAC through transformers' DacModel: tiny random models saved in both published layouts."""

import pytest
import torch

from pjbench.encoders import load_encoder
from pjbench.encoders.dac import RES_PARTS, _config_from_descript
from pjbench.encoders.validate import validate_encoder

transformers = pytest.importorskip("transformers")

TINY = dict(
    encoder_dim=4,
    encoder_rates=[2, 2, 2, 2],
    decoder_dim=32,
    decoder_rates=[2, 2, 2, 2],
    n_codebooks=2,
    codebook_size=16,
    codebook_dim=4,
    quantizer_dropout=0.0,
    sample_rate=16000,
)


def _hf_model():
    torch.manual_seed(0)
    return transformers.DacModel(_config_from_descript(TINY, 16000)).eval()


def _descript_layout(hf_state):
    """The same weights under descript-audio-codec's names, weight-normalised (g, v) as descript stores them."""

    def hf_to_descript(path):
        p = path.split(".")
        if p[0] == "encoder":
            if p[1] in ("conv1", "snake1", "conv2"):
                return f"encoder.block.{ {'conv1': 0, 'snake1': 5, 'conv2': 6}[p[1]] }"
            i = int(p[2]) + 1
            if p[3].startswith("res_unit"):
                return f"encoder.block.{i}.block.{int(p[3][-1]) - 1}.block.{RES_PARTS.index(p[4])}"
            return f"encoder.block.{i}.block.{ {'snake1': 3, 'conv1': 4}[p[3]] }"
        if p[0] == "decoder":
            if p[1] in ("conv1", "snake1", "conv2"):
                return f"decoder.model.{ {'conv1': 0, 'snake1': 5, 'conv2': 6}[p[1]] }"
            i = int(p[2]) + 1
            if p[3].startswith("res_unit"):
                return f"decoder.model.{i}.block.{int(p[3][-1]) + 1}.block.{RES_PARTS.index(p[4])}"
            return f"decoder.model.{i}.block.{ {'snake1': 0, 'conv_t1': 1}[p[3]] }"
        return path

    out = {}
    for key, value in hf_state.items():
        module, _, param = key.rpartition(".")
        name = hf_to_descript(module)
        if param == "weight" and value.dim() == 3 and "codebook" not in module:
            v = value * 3.0  # any scale: the norm divides it out
            out[f"{name}.weight_v"] = v
            out[f"{name}.weight_g"] = value.flatten(1).norm(dim=1).view(-1, 1, 1)
        else:
            out[f"{name}.{param}"] = value
    return out


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("dac")
    model = _hf_model()
    model.save_pretrained(root / "hf")
    torch.save({"state_dict": _descript_layout(model.state_dict()), "metadata": {"kwargs": TINY}}, root / "weights_tiny.pth")
    return root, model


def test_both_layouts_give_the_model_outputs(checkpoints):
    root, model = checkpoints
    x = torch.randn(2, 16000 * 10) * 0.1
    with torch.no_grad():
        expected = model.encode(x.unsqueeze(1)).quantized_representation.transpose(1, 2)
    for source in (root / "hf", root / "weights_tiny.pth"):
        enc = load_encoder("dac", checkpoint=str(source))
        out = enc.embed(x)
        assert out.shape == (2, 1, 10000, 4 * 16)  # hop 16: 160000 / 16 frames, 64-d latent
        assert torch.allclose(out[:, 0], expected, atol=1e-4), source
    assert enc.meta.frame_rate == 1000.0


def test_whole_segment_padding_and_validator(checkpoints):
    root, _ = checkpoints
    enc = load_encoder("dac", checkpoint=str(root / "weights_tiny.pth"))
    x = torch.randn(1, 16000 * 10 + 5) * 0.1  # not a multiple of the hop: padded, one more frame
    assert enc.embed(x).shape[2] == 10001
    assert [c.name for c in validate_encoder(enc) if not c.passed] == []
    latent = load_encoder("dac", checkpoint=str(root / "hf"), representation="latent")
    assert latent.meta.options["representation"] == "latent" and latent.embed(x[:, : 16000 * 10]).shape == (1, 1, 10000, 64)


def test_reference_one_second_chunks(checkpoints):
    root, model = checkpoints
    enc = load_encoder("dac", checkpoint=str(root / "hf"), reference=True)
    x = torch.randn(1, 16000 * 10) * 0.1
    out = enc.embed(x)
    assert out.shape == (1, 1, 10 * 1000, 64) and enc.meta.frames(10) == 10000
    with torch.no_grad():
        second = model.encode(x[:, 16000:32000].unsqueeze(1)).quantized_representation.transpose(1, 2)
    assert torch.allclose(out[0, 0, 1000:2000], second[0], atol=1e-4)  # each second encoded on its own


def test_a_folder_with_a_missing_or_stray_weight_is_refused(checkpoints, tmp_path):
    """transformers' from_pretrained only reports these and runs on random weights: pjbench refuses, naming the key."""
    from safetensors.torch import load_file, save_file

    from pjbench.encoders.checkpoints import CheckpointError

    root, _ = checkpoints
    state = load_file(str(root / "hf" / "model.safetensors"))
    for name, change in (
        ("missing", lambda s: s.pop(sorted(k for k in s if k.startswith("encoder.block.0"))[0])),
        ("stray", lambda s: s.__setitem__("encoder.extra_head.weight", torch.zeros(3))),
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text((root / "hf" / "config.json").read_text())
        broken = dict(state)
        change(broken)
        save_file(broken, str(folder / "model.safetensors"))
        with pytest.raises(CheckpointError, match="missing keys|unexpected keys") as err:
            load_encoder("dac", checkpoint=str(folder))
        assert str(folder) in str(err.value)
        assert ("encoder.extra_head.weight" in str(err.value)) == (name == "stray")
