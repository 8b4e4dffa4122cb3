"""Encoders and their registry.

Built-in encoders are static specs (:mod:`pjbench.encoders.specs`): metadata known without loading weights and
a lazy ``"module:factory"`` target, imported only when used (so start-up and `list encoders` stay fast); third
parties register through the entry-point group ``pjbench.encoders`` or are named directly as
``package.module:object``; ``hf:ID_OR_FOLDER`` names a Hugging Face transformers model, ``hear:MODULE`` a HEAR-API
module.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from ..lazy import resolve
from .base import Encoder, EncoderMeta, Framing
from .specs import BUILTIN, EncoderSpec


def available() -> dict[str, EncoderSpec]:
    """Name -> spec, for built-ins and installed plugins (entry points ``pjbench.encoders``); nothing is imported
    or loaded. A plugin's metadata is known once it is loaded."""
    specs = dict(BUILTIN)
    for ep in entry_points(group="pjbench.encoders"):
        specs.setdefault(ep.name, EncoderSpec(ep.name, ep.value, None, f"plugin ({ep.value})"))
    return specs


def check_options(name: str, factory: Any, options: dict[str, Any]) -> None:
    """An option the encoder does not take is one line naming the options it does take (not a TypeError)."""
    import inspect

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C factory: let the call itself say
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and k != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = ", ".join(k for k in accepted if k != "checkpoint") or "none"
        raise ValueError(f"encoder {name} has no option {', '.join(unknown)}; its options: {takes}")


# encoders named by a prefix and what follows it: a Hugging Face model (id or folder), a HEAR-API module
PREFIXED = {"hf:": "pjbench.encoders.hf:hf_encoder", "hear:": "pjbench.encoders.hear:hear_encoder"}


def load_encoder(name: str, **options: Any) -> Encoder:
    registry = available()
    spec = registry.get(name)
    prefix = next((p for p in PREFIXED if name.startswith(p)), None)
    if prefix is not None:
        if not name[len(prefix) :]:
            raise ValueError(
                f"--encoder {name}: say which model after {prefix!r} (e.g. {prefix}m-a-p/MERT-v1-95M or {prefix}/path/to/folder)"
            )
        factory = resolve(PREFIXED[prefix], "encoder")
        check_options(name, factory, options)
        encoder = factory(name[len(prefix) :], **options)
    else:
        target = spec.target if spec is not None else (name if ":" in name else None)
        if target is None:
            raise ValueError(f"unknown encoder {name!r}; known: {', '.join(sorted(registry))} (or give 'package.module:object')")
        factory = resolve(target, "encoder")
        check_options(name, factory, options)
        encoder = factory(**options)
    if not isinstance(encoder, Encoder):
        raise TypeError(f"{target} did not return an encoder (needs .meta, .embed and .to)")
    if not isinstance(encoder.meta, EncoderMeta):
        encoder.meta = EncoderMeta.from_object(encoder.meta)
    return encoder


__all__ = ["BUILTIN", "Encoder", "EncoderMeta", "EncoderSpec", "Framing", "available", "load_encoder"]
