"""Audio-MAE fixtures from the original implementation: AudioMAE's own ``models_vit`` (facebookresearch/AudioMAE,
built as ``main_finetune_as.py`` builds it for AudioSet: global pooling, ``PatchEmbed_new`` with stride 16, a
513-token positional table) on timm 0.4.12, and the fbank of torchaudio's own ``compliance/kaldi.py``.

A tiny random model in finetuned.pth's layout (``{"model": ...}`` with ``fc_norm`` and ``head``, no ``norm``) and its
patch tokens (the patch embedding's output and every block's, CLS dropped) caught with forward hooks while the
original ``forward_features`` runs, for two inputs:
- ``recipe``: AudioMAE's dataset.py ``_wav2fbank`` at 16 kHz (mean removed, kaldi fbank, zero rows to 1024 frames),
  normalised as its AudioSet recipe ``(x - mean) / (2 * std)``;
- ``reference``: the published study's extraction: 32 kHz, the recording peak-normalised to 0.5, the fbank computed
  with ``sample_frequency=32000``, not normalised.

Usage (in the environment of make_envs.sh): python reference_audiomae.py AUDIOMAE_SRC KALDI_PY
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from functools import partial
from pathlib import Path

import numpy as np
import torch
from common import FIXTURES, git_commit, signals, versions, write_fixture

SEED = 20261204
DIM, DEPTH, HEADS, CLASSES = 32, 2, 2, 10  # tiny; ViT-B is 768, 12, 12 and 527 classes
MEAN, STD = -4.2677393, 4.5689974  # the AudioSet recipe's fbank statistics (AudioMAE's dataset.py)
ROW_STRIDE = 8  # fbank rows kept in the fixture (every 8th), to keep it small


def load_kaldi(path: Path):
    """torchaudio's compliance/kaldi.py, loaded by path: its package's compiled extension has no build for this torch;
    the fbank path uses only torch (``torchaudio`` itself is referenced for the DCT of mfcc only)."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    spec = importlib.util.spec_from_file_location("kaldi_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fbank(kaldi, wave: np.ndarray, sample_rate: int, normalize: bool, subtract_mean: bool) -> torch.Tensor:
    waveform = torch.from_numpy(wave)[None]
    if subtract_mean:
        waveform = waveform - waveform.mean()
    feats = kaldi.fbank(
        waveform,
        htk_compat=True,
        sample_frequency=sample_rate,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    feats = torch.nn.ZeroPad2d((0, 0, 0, 1024 - feats.shape[0]))(feats) if feats.shape[0] < 1024 else feats[:1024]
    return (feats - MEAN) / (STD * 2) if normalize else feats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("audiomae_src", type=Path, help="a checkout of facebookresearch/AudioMAE")
    parser.add_argument("kaldi_py", type=Path, help="torchaudio/compliance/kaldi.py from the torchaudio wheel")
    args = parser.parse_args()
    sys.path.insert(0, str(args.audiomae_src))
    import models_vit
    from util.patch_embed import PatchEmbed_new

    kaldi = load_kaldi(args.kaldi_py)
    torch.manual_seed(SEED)
    model = models_vit.VisionTransformer(
        patch_size=16, embed_dim=DIM, depth=DEPTH, num_heads=HEADS, mlp_ratio=3, qkv_bias=True,
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_classes=CLASSES, global_pool=True,
    )  # fmt: skip
    model.patch_embed = PatchEmbed_new(img_size=(1024, 128), patch_size=(16, 16), in_chans=1, embed_dim=DIM, stride=16)
    model.pos_embed = torch.nn.Parameter(torch.zeros(1, model.patch_embed.num_patches + 1, DIM), requires_grad=False)
    with torch.no_grad():  # trained weights are not the initial ones: draw the tables and the norms too
        model.pos_embed.normal_(0.0, 0.5)
        model.cls_token.normal_(0.0, 0.5)
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.normal_(1.0, 0.5)
                module.bias.normal_(0.0, 0.5)
    model.eval()
    states: list[torch.Tensor] = []
    model.pos_drop.register_forward_hook(lambda m, i, o: states.append(o))
    for block in model.blocks:
        block.register_forward_hook(lambda m, i, o: states.append(o))

    def tokens(image: torch.Tensor) -> np.ndarray:
        states.clear()
        with torch.no_grad():
            model.forward_features(image[None, None])
        return torch.stack([s[0, 1:] for s in states]).numpy()  # (layers, 512, dim), CLS dropped

    name = "audiomae-finetuned-tiny"
    folder = FIXTURES / name
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, folder / "finetuned.pth")
    cases = {
        "recipe/chord": ("chord(16000, 10.0)", 16000, False),
        "reference/chord": ("chord(32000, 10.0)", 32000, True),
        "reference/silence_then_noise": ("silence_then_noise(32000, 10.0, 6.0)", 32000, True),
    }
    outputs, recorded = {}, {}
    for key, (recipe, rate, reference) in cases.items():
        wave = eval(recipe, {"chord": signals.chord, "silence_then_noise": signals.silence_then_noise})  # noqa: S307
        recorded[key.split("/", 1)[1] + f"@{rate}"] = {"recipe": f"tests/fidelity_signals.py:{recipe}", "sha256": signals.sha256(wave)}
        if reference:
            wave = (wave / np.abs(wave).max() * 0.5).astype(np.float32)
        image = fbank(kaldi, wave, rate, normalize=not reference, subtract_mean=not reference)
        outputs[f"{key}/tokens"] = tokens(image)
        outputs[f"{key}/fbank_rows"] = image[::ROW_STRIDE].numpy()
    write_fixture(
        name,
        outputs,
        {
            "original": "facebookresearch/AudioMAE models_vit.VisionTransformer(global_pool=True) + util.patch_embed.PatchEmbed_new; torchaudio.compliance.kaldi.fbank",
            "audiomae_commit": git_commit(args.audiomae_src),
            "kaldi_py": "torchaudio 2.9.1 wheel, torchaudio/compliance/kaldi.py",
            "call": "forward hooks on pos_drop and each block while model.forward_features(fbank[None, None]) runs; CLS dropped",
            "model": {"dim": DIM, "depth": DEPTH, "heads": HEADS, "mlp_ratio": 3, "classes": CLASSES},
            "versions": versions("torch", "timm", "numpy"),
            "seed": SEED,
            "fbank_row_stride": ROW_STRIDE,
            "signals": recorded,
            "cases": {k: {"sample_rate": r, "reference": ref} for k, (_, r, ref) in cases.items()},
            "tolerance": {"atol": 2e-3, "rtol": 1e-3},
        },
    )


if __name__ == "__main__":
    main()
