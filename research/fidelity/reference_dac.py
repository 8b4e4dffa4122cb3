"""DAC fixture from the original implementation: descript-audio-codec's own ``dac.model.dac.DAC`` (with its
``dac.nn.layers`` and ``dac.nn.quantize``), a tiny random model saved as descript saves its weights
(``{"state_dict", "metadata": {"kwargs"}}``, weight-normalised convolutions as ``weight_g`` / ``weight_v``).

Outputs: ``z`` of ``DAC.encode(DAC.preprocess(x))`` on a whole segment, and the published study's 1-second chunks,
each preprocessed and encoded on its own and concatenated (a partial last second dropped).

descript-audio-codec imports audiotools (and through it a torchaudio that no release builds for torch 2.13) for
audio files, training and its loss functions; the encoder uses none of it. Its modules are loaded here by path under a
bare ``dac`` package (its ``__init__`` imports audiotools), with stand-ins for ``audiotools.AudioSignal`` (a type
hint) and ``audiotools.ml.BaseModel`` (torch's ``nn.Module`` plus save/load helpers, which are not used).

Usage (torch, numpy, einops, tqdm): python reference_dac.py DAC_SRC   (DAC_SRC: the unpacked wheel's folder)
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import torch
from common import FIXTURES, signals, versions, write_fixture

SEED = 20261204
KWARGS = {  # tiny; the 44 kHz model is 64, [2, 4, 8, 8], 1536, [8, 8, 4, 2], 9 x 1024, 8
    "encoder_dim": 4,
    "encoder_rates": [2, 4, 4, 4],
    "latent_dim": None,
    "decoder_dim": 16,
    "decoder_rates": [4, 4, 4, 2],
    "n_codebooks": 3,
    "codebook_size": 16,
    "codebook_dim": 4,
    "quantizer_dropout": False,
    "sample_rate": 16000,
}


def load_dac(src: Path):
    audiotools = types.ModuleType("audiotools")
    audiotools.AudioSignal = object  # type: ignore[attr-defined]
    ml = types.ModuleType("audiotools.ml")
    ml.BaseModel = torch.nn.Module  # type: ignore[attr-defined]
    audiotools.ml = ml  # type: ignore[attr-defined]
    sys.modules.update({"audiotools": audiotools, "audiotools.ml": ml})
    for package in ("dac", "dac.nn", "dac.model"):
        module = types.ModuleType(package)
        module.__path__ = [str(src / package.replace(".", "/"))]  # type: ignore[attr-defined]
        sys.modules[package] = module
    loaded = None
    for name in ("dac.nn.layers", "dac.nn.quantize", "dac.model.base", "dac.model.dac"):
        spec = importlib.util.spec_from_file_location(name, src / (name.replace(".", "/") + ".py"))
        assert spec and spec.loader
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
    return loaded.DAC  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dac_src", type=Path, help="the folder holding descript-audio-codec's dac/ package")
    args = parser.parse_args()
    DAC = load_dac(args.dac_src)
    torch.manual_seed(SEED)
    model = DAC(**KWARGS).eval()
    with torch.no_grad():  # trained snake alphas and biases are not the initial ones
        for name, p in model.named_parameters():
            if name.endswith("alpha") or name.endswith("bias"):
                p.copy_(torch.rand_like(p) + 0.5 if name.endswith("alpha") else torch.randn_like(p) * 0.1)
    name = "dac-tiny"
    folder = FIXTURES / name
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "metadata": {"kwargs": KWARGS}}, folder / "weights_tiny.pth")
    rate = KWARGS["sample_rate"]
    wave = signals.chord(rate, 2.5)
    x = torch.from_numpy(wave)[None, None]
    with torch.no_grad():
        whole = model.encode(model.preprocess(x, rate))[0]
        chunks = [model.encode(model.preprocess(x[..., i * rate : (i + 1) * rate], rate))[0] for i in range(len(wave) // rate)]
    write_fixture(
        name,
        {"chord/z": whole[0].T.numpy(), "chord/z_1s_chunks": torch.cat(chunks, dim=2)[0].T.numpy()},
        {
            "original": "descript-audio-codec dac.model.dac.DAC: z of encode(preprocess(x))",
            "versions": versions("torch", "descript-audio-codec", "einops", "numpy"),
            "kwargs": KWARGS,
            "seed": SEED,
            "drawn": "snake alphas ~ U(0.5, 1.5), biases ~ N(0, 0.1)",
            "signals": {"chord": {"recipe": f"tests/fidelity_signals.py:chord({rate}, 2.5)", "sha256": signals.sha256(wave)}},
            "tolerance": {"atol": 1e-4, "rtol": 1e-4},
        },
    )


if __name__ == "__main__":
    main()
