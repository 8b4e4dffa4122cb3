"""Jukebox fixture from the original implementation: openai/jukebox's ``jukebox.vqvae.encdec.Encoder``, built as
``VQVAE`` builds its top-level encoder for the 5b model (levels 3, downs_t (3, 2, 2), strides_t (2, 2, 2), emb_width
64, depth 4, m_conv 1.0, dilation growth 3; the width shrunk from 32 to 16 to keep the fixture small), its weights
saved in vqvae.pth.tar's layout (``{"model": {"encoders.2.*"}}``).

Input as the published study's extraction: the whole recording peak-normalised (x / max|x|), then cut into
segments (here 2-s ones, the second as loud as 8x the first) and each encoded; the output is the top level's
(``Encoder.forward(x)[-1]``), before the bottleneck.

Usage (any environment with torch): python reference_jukebox.py JUKEBOX_SRC
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from common import FIXTURES, git_commit, signals, versions, write_fixture

SEED = 20261204
WIDTH, DEPTH, SECONDS, SEGMENT = 16, 4, 4.0, 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("jukebox_src", type=Path, help="a checkout of openai/jukebox")
    args = parser.parse_args()
    sys.path.insert(0, str(args.jukebox_src))
    from jukebox.vqvae.encdec import Encoder

    torch.manual_seed(SEED)
    top = Encoder(1, 64, 3, (3, 2, 2), (2, 2, 2), width=WIDTH, depth=DEPTH, m_conv=1.0, dilation_growth_rate=3).eval()
    name = "jukebox-vqvae-tiny"
    folder = FIXTURES / name
    folder.mkdir(parents=True, exist_ok=True)
    state = {f"encoders.2.{k}": v for k, v in top.state_dict().items()}
    torch.save(
        {"hps": {"sr": 44100, "levels": 3, "downs_t": (3, 2, 2), "width": WIDTH, "depth": DEPTH}, "model": state}, folder / "vqvae.pth.tar"
    )
    recipe = f"quiet_then_loud(44100, {SECONDS})"
    wave = signals.quiet_then_loud(44100, SECONDS)
    normalised = wave / np.abs(wave).max()
    segments = torch.from_numpy(normalised.astype(np.float32)).reshape(-1, 1, int(SEGMENT * 44100))
    with torch.no_grad():
        out = top(segments)[-1].transpose(1, 2).numpy()  # (segments, frames, 64)
    write_fixture(
        name,
        {"quiet_then_loud/segments": out},
        {
            "original": "openai/jukebox jukebox.vqvae.encdec.Encoder (the VQ-VAE's top-level encoder)",
            "jukebox_commit": git_commit(args.jukebox_src),
            "call": f"Encoder(x / max|x| cut into {SEGMENT:g}-s segments)[-1]",
            "model": {"width": WIDTH, "depth": DEPTH},
            "segment_seconds": SEGMENT,
            "versions": versions("torch", "numpy"),
            "seed": SEED,
            "signals": {"quiet_then_loud": {"recipe": f"tests/fidelity_signals.py:{recipe}", "sha256": signals.sha256(wave)}},
            # pjbench's cache stores float16: about 1e-3 of each value
            "tolerance": {"atol": 1e-3, "rtol": 2e-3},
        },
    )


if __name__ == "__main__":
    main()
