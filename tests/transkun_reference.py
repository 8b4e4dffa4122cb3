"""Run transkun's own model (the installed package's ``TransKun.processFramesBatch``) on audio and save the grid
entering and leaving each transformer layer. Run as a script in a process of its own: the package's modules import
torchaudio (for a mel filterbank the checkpoint itself stores: a stand-in returns zeros, overwritten on loading),
pretty_midi and mir_eval (for note output and evaluation, unused here), which stand-ins replace in that process only.

    python tests/transkun_reference.py AUDIO.npy OUT.pt
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import torch


def main(audio_path: str, out_path: str) -> None:
    stand_in = types.ModuleType("torchaudio")
    stand_in.functional = types.SimpleNamespace(melscale_fbanks=lambda n_freqs, n_mels, **_: torch.zeros(n_freqs, n_mels))  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = stand_in
    for name in ("pretty_midi", "mir_eval"):
        sys.modules[name] = types.ModuleType(name)
    import transkun.ModelTransformer as reference

    from pjbench.encoders.transkun import package_files

    weights, conf = package_files()
    config = reference.Config()
    config.__dict__.update(json.loads(conf.read_text())["Model"]["config"])
    model = reference.TransKun(conf=config)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["state_dict"], strict=True)
    model.eval()
    states: list[torch.Tensor] = []
    layers = model.backbone.encoderLayers
    layers[0].register_forward_pre_hook(lambda module, args: states.append(args[0].detach().clone()))
    for layer in layers:
        layer.register_forward_hook(lambda module, args, output: states.append(output.detach().clone()))
    out = []
    with torch.no_grad():
        for clip in np.load(audio_path):
            states.clear()
            # as the package's transcribe() frames one segment: (channels, samples) -> (1, channels, frames, window)
            frames = reference.makeFrame(torch.from_numpy(clip).float().unsqueeze(0), model.hopSize, model.windowSize)
            model.processFramesBatch(frames.unsqueeze(0))
            out.append(torch.stack(states)[:, 0])  # (7 grids, T' + 1, F' + 1 + 90, 256): the batch of one dropped
    torch.save(torch.stack(out), out_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
