"""Audio-MAE through ViTModel: a tiny random checkpoint in the official layout (timm keys under "model"),
checked against a plain re-implementation of timm's ViT forward pass written here."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pjbench.encoders import load_encoder
from pjbench.encoders.checkpoints import CheckpointError
from pjbench.encoders.validate import validate_encoder

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


def _finetuned_state(seed=0):
    """finetuned.pth's layout: models_vit with global_pool deletes the final norm and adds fc_norm and a head."""
    state = {k: v for k, v in _timm_state(seed).items() if not k.startswith(("norm.", "mask_token", "decoder"))}
    g = torch.Generator().manual_seed(seed + 1)
    state.update({"fc_norm.weight": 1 + torch.randn(D, generator=g) * 0.05, "fc_norm.bias": torch.zeros(D)})
    state.update({"head.weight": torch.randn(527, D, generator=g) * 0.05, "head.bias": torch.zeros(527)})
    return state


def _timm_forward(s, image, final_norm=True):
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
    return F.layer_norm(x, (D,), s["norm.weight"], s["norm.bias"], eps=1e-6) if final_norm else x


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("audiomae") / "pretrained.pth"
    state = _timm_state()
    torch.save({"model": state, "epoch": 32}, path)
    return path, state


def test_matches_timm_forward_on_the_normalised_fbank(checkpoint):
    path, state = checkpoint
    enc = load_encoder("audiomae", checkpoint=str(path), weights="pretrained")
    x = torch.randn(2, 16000 * 10) * 0.1
    out = enc.embed(x)
    assert out.shape == (2, DEPTH + 1, 512, D)
    image = enc.fbank(x)
    assert image.shape == (2, 1, 1024, 128)
    with torch.no_grad():
        expected = _timm_forward(state, image)[:, 1:]
    assert torch.allclose(out[:, -1], expected, atol=1e-4)


def test_the_finetuned_checkpoint_is_the_default_and_has_no_final_norm(tmp_path):
    """The published study's finetuned.pth (fc_norm and a head, no norm): loaded, its tokens the last block's own."""
    path = tmp_path / "finetuned.pth"
    state = _finetuned_state()
    torch.save({"model": state}, path)
    enc = load_encoder("audiomae", checkpoint=str(path))
    assert enc.meta.options["weights"] == "finetuned" and enc.meta.revision == "finetuned:finetuned.pth"
    x = torch.randn(1, 16000 * 10) * 0.1
    with torch.no_grad():
        expected = _timm_forward(state, enc.fbank(x), final_norm=False)[:, 1:]
    assert torch.allclose(enc.embed(x)[:, -1], expected, atol=1e-4)
    # the other layout is refused with the option that reads it, never half-loaded
    with pytest.raises(CheckpointError, match="weights=finetuned"):
        load_encoder("audiomae", checkpoint=str(path), weights="pretrained")


def test_the_reference_fbank_covers_the_whole_segment_at_32_khz(checkpoint):
    """The study's extraction: the Kaldi fbank at 32 kHz (998 frames for 10 s), not normalised. Told 16 kHz, the
    frames covered only the first 5.12 s: 6 s of silence then noise gave an all-floor image."""
    path, _ = checkpoint
    enc = load_encoder("audiomae", checkpoint=str(path), weights="pretrained", reference=True)
    assert enc.meta.sample_rate == 32000 and enc.meta.options["file_peak"] == 0.5
    wave = np.zeros(32000 * 10, np.float32)
    wave[32000 * 6 :] = np.random.default_rng(0).standard_normal(32000 * 4).astype(np.float32) * 0.1
    image = enc.fbank(torch.from_numpy(wave)[None])[0, 0].numpy()
    floor = np.log(np.float32(1.192092955078125e-07))
    assert np.all(image[998:] == 0)  # 998 frames of audio, then zero rows up to 1024, as the recipe pads
    active = np.where(image[:998].max(axis=1) > floor + 1)[0]
    assert active.min() in range(598, 602) and active.max() == 997  # noise from 6 s, the last frame at 9.98 s


def test_validator_and_errors(checkpoint, tmp_path):
    path, state = checkpoint
    checks = validate_encoder(load_encoder("audiomae", checkpoint=str(path), weights="pretrained"))
    assert [c.name for c in checks if not c.passed] == []
    with pytest.raises(CheckpointError, match="needs --checkpoint"):
        load_encoder("audiomae")
    bad = tmp_path / "bad.pth"
    torch.save({"model": {k: v for k, v in state.items() if k != "blocks.1.mlp.fc2.bias"}}, bad)
    with pytest.raises(CheckpointError, match="missing"):
        load_encoder("audiomae", checkpoint=str(bad), weights="pretrained")
    with pytest.raises(CheckpointError, match="is the pretrained Audio-MAE checkpoint.*-o weights=pretrained"):
        load_encoder("audiomae", checkpoint=str(path))
