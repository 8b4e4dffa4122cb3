"""Encoders and their registry.

Built-in encoders are lazy ``"module:factory"`` strings, imported only when used (so
start-up stays fast); third parties register through the entry-point group
``pjbench.encoders`` or are named directly as ``package.module:object``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from .base import Encoder, EncoderMeta

BUILTIN: dict[str, str] = {
    "mel": "pjbench.encoders.mel:MelEncoder",
    "basicpitch": "pjbench.encoders.basicpitch:BasicPitchEncoder",
    "mert": "pjbench.encoders.mert:mert_330m",
    "mert-95m": "pjbench.encoders.mert:mert_95m",
    "dac": "pjbench.encoders.dac:DacEncoder",
    "audiomae": "pjbench.encoders.audiomae:AudioMaeEncoder",
    "jukebox": "pjbench.encoders.jukebox:JukeboxEncoder",
}


# Published metadata of the checkpoint-based encoders, for `pjbench list encoders` on a machine without
# their weights (the loaded encoder's own metadata is what goes into caches and results).
PUBLISHED_META: dict[str, EncoderMeta] = {
    "mert": EncoderMeta(
        "mert",
        "m-a-p/MERT-v1-330M",
        24000,
        75.0,
        1024,
        25,
        "CC-BY-NC-4.0",
        ("MERT music corpus (160k h)",),
        "MERT-v1-330M, all 25 hidden states, via transformers HubertModel",
        frames_offset=-1,
    ),
    "mert-95m": EncoderMeta(
        "mert-95m",
        "m-a-p/MERT-v1-95M",
        24000,
        75.0,
        768,
        13,
        "CC-BY-NC-4.0",
        ("MERT music corpus (1k h)",),
        "MERT-v1-95M, all 13 hidden states, via transformers HubertModel",
        frames_offset=-1,
    ),
    "dac": EncoderMeta(
        "dac",
        "descript/dac_44khz",
        44100,
        44100 / 512,
        1024,
        1,
        "MIT",
        ("speech, music and general audio",),
        "DAC 44 kHz quantised z, whole-segment encoding, via transformers DacModel",
        frames_offset=1,
    ),
    "audiomae": EncoderMeta(
        "audiomae",
        "official pretrained.pth",
        16000,
        51.2,
        768,
        13,
        "CC-BY-4.0",
        ("AudioSet-2M",),
        "Audio-MAE ViT-B/16, 512 patch tokens (64 time x 8 freq), via transformers ViTModel",
    ),
    "jukebox": EncoderMeta(
        "jukebox",
        "5b vqvae.pth.tar",
        44100,
        44100 / 128,
        64,
        1,
        "Noncommercial Use License",
        ("Jukebox 1.2M songs",),
        "Jukebox 5b VQ-VAE top-level encoder output before quantisation",
    ),
}


def _resolve(target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ValueError(f"an encoder reference must look like 'package.module:object', got {target!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import {module_name!r} for encoder {target!r}: {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError as err:
        raise ValueError(f"{module_name!r} has no attribute {attr!r}") from err


def available() -> dict[str, str]:
    """Name -> import target, for built-ins and installed plugins."""
    names = dict(BUILTIN)
    for ep in entry_points(group="pjbench.encoders"):
        names.setdefault(ep.name, ep.value)
    return names


def load_encoder(name: str, **options: Any) -> Encoder:
    registry = available()
    target = registry.get(name, name if ":" in name else None)
    if target is None:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(sorted(registry))} (or give 'package.module:object')")
    factory = _resolve(target)
    encoder = factory(**options)
    if not isinstance(encoder, Encoder):
        raise TypeError(f"{target} did not return an encoder (needs .meta, .embed and .to)")
    if not isinstance(encoder.meta, EncoderMeta):
        encoder.meta = EncoderMeta.from_object(encoder.meta)
    return encoder


__all__ = ["Encoder", "EncoderMeta", "available", "load_encoder"]
