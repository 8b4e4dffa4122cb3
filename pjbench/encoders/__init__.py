"""Encoders and their registry.

Built-in encoders are static specs (:mod:`pjbench.encoders.specs`): metadata known without loading weights and
a lazy ``"module:factory"`` target, imported only when used (so start-up and `list encoders` stay fast); third
parties register through the entry-point group ``pjbench.encoders`` or are named directly as
``package.module:object``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from .base import Encoder, EncoderMeta, Framing
from .specs import BUILTIN, EncoderSpec


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


def available() -> dict[str, EncoderSpec]:
    """Name -> spec, for built-ins and installed plugins (entry points ``pjbench.encoders``); nothing is imported
    or loaded. A plugin's metadata is known once it is loaded."""
    specs = dict(BUILTIN)
    for ep in entry_points(group="pjbench.encoders"):
        specs.setdefault(ep.name, EncoderSpec(ep.name, ep.value, None, f"plugin ({ep.value})"))
    return specs


def load_encoder(name: str, **options: Any) -> Encoder:
    registry = available()
    spec = registry.get(name)
    target = spec.target if spec is not None else (name if ":" in name else None)
    if target is None:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(sorted(registry))} (or give 'package.module:object')")
    factory = _resolve(target)
    encoder = factory(**options)
    if not isinstance(encoder, Encoder):
        raise TypeError(f"{target} did not return an encoder (needs .meta, .embed and .to)")
    if not isinstance(encoder.meta, EncoderMeta):
        encoder.meta = EncoderMeta.from_object(encoder.meta)
    return encoder


__all__ = ["BUILTIN", "Encoder", "EncoderMeta", "EncoderSpec", "Framing", "available", "load_encoder"]
