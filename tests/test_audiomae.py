"""Audio-MAE through ViTModel: a tiny random checkpoint in the official layout (timm keys under "model"),
checked against a plain re-implementation of timm's ViT forward pass written here."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pjbench.benchmark.validate import validate_encoder
from pjbench.encoders import load_encoder
from pjbench.encoders.checkpoints import CheckpointError

pytest.importorskip("transformers")
D, DEPTH, MLP, HEADS = 64, 2, 96, 1  # hidden 64 -> one head, as the loader infers (hidden // 64)


def _timm_state(seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) * 0.05  # noqa: E731
    state = {
        "cls_token": r(1, 1, D),
        "pos_embed": r(1, 513, D),
        "patch_embed.proj.weight": r(D, 1, 16, 16),
        "patch_embed.proj.bias": r(D),
        "norm.weight": 1 + r(D),
        "norm.bias": r(D),
        "mask_token": r(1, 1, D),
        "decoder_embed.weight": r(8, D),
        "decoder_pred.bias": r(256),
    }
    for i in range(DEPTH):
        p = f"blocks.{i}."
        state.update(
            {
                p + "norm1.weight": 1 + r(D),
                p + "norm1.bias": r(D),
                p + "attn.qkv.weight": r(3 * D, D),
                p + "attn.qkv.bias": r(3 * D),
                p + "attn.proj.weight": r(D, D),
                p + "attn.proj.bias": r(D),
                p + "norm2.weight": 1 + r(D),
                p + "norm2.bias": r(D),
                p + "mlp.fc1.weight": r(MLP, D),
                p + "mlp.fc1.bias": r(MLP),
                p + "mlp.fc2.weight": r(D, MLP),
                p + "mlp.fc2.bias": r(D),
            }
        )
    return state


def _timm_forward(s, image):
    """timm's VisionTransformer.forward_features, written out for one head."""
    x = F.conv2d(image, s["patch_embed.proj.weight"], s["patch_embed.proj.bias"], stride=16).flatten(2).transpose(1, 2)
    x = torch.cat([s["cls_token"].expand(len(x), -1, -1), x], dim=1) + s["pos_embed"]
    for i in range(DEPTH):
        p = f"blocks.{i}."
        h = F.layer_norm(x, (D,), s[p + "norm1.weight"], s[p + "norm1.bias"], eps=1e-6)
        q, k, v = F.linear(h, s[p + "attn.qkv.weight"], s[p + "attn.qkv.bias"]).chunk(3, dim=-1)
        att = torch.softmax(q @ k.transpose(1, 2) / np.sqrt(D), dim=-1) @ v
        x = x + F.linear(att, s[p + "attn.proj.weight"], s[p + "attn.proj.bias"])
        h = F.layer_norm(x, (D,), s[p + "norm2.weight"], s[p + "norm2.bias"], eps=1e-6)
        x = x + F.linear(
            F.gelu(F.linear(h, s[p + "mlp.fc1.weight"], s[p + "mlp.fc1.bias"])), s[p + "mlp.fc2.weight"], s[p + "mlp.fc2.bias"]
        )
    return F.layer_norm(x, (D,), s["norm.weight"], s["norm.bias"], eps=1e-6)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("audiomae") / "pretrained.pth"
    state = _timm_state()
    torch.save({"model": state, "epoch": 32}, path)
    return path, state


def test_matches_timm_forward_on_the_normalised_fbank(checkpoint):
    path, state = checkpoint
    enc = load_encoder("audiomae", checkpoint=str(path))
    x = torch.randn(2, 16000 * 10) * 0.1
    out = enc.embed(x)
    assert out.shape == (2, DEPTH + 1, 512, D)
    image = enc.fbank(x)
    assert image.shape == (2, 1, 1024, 128)
    with torch.no_grad():
        expected = _timm_forward(state, image)[:, 1:]
    assert torch.allclose(out[:, -1], expected, atol=1e-4)
    # the recipe's normalisation: (fbank + 4.2677) / (2 * 4.5690); real audio sits near zero mean
    raw = load_encoder("audiomae", checkpoint=str(path), reference=True)
    assert raw.meta.sample_rate == 32000 and not torch.allclose(raw.fbank(x), image)
    assert torch.allclose(raw.fbank(x), image * 2 * 4.5689974 - 4.2677393, atol=1e-3)


def test_validator_and_errors(checkpoint, tmp_path):
    path, state = checkpoint
    assert [c.name for c in validate_encoder(load_encoder("audiomae", checkpoint=str(path))) if not c.passed] == []
    with pytest.raises(CheckpointError, match="needs --checkpoint"):
        load_encoder("audiomae")
    bad = tmp_path / "bad.pth"
    torch.save({"model": {k: v for k, v in state.items() if k != "blocks.1.mlp.fc2.bias"}}, bad)
    with pytest.raises(CheckpointError, match="missing"):
        load_encoder("audiomae", checkpoint=str(bad))
