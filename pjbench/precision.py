"""The arithmetic a model runs in: fp32, or autocast to bf16 / fp16 on the device (extraction's encoders, training's
probes). A low layer: it knows torch and nothing of pjbench."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_for(precision: str, device: torch.device) -> AbstractContextManager:
    """The autocast context of ``precision`` on ``device`` (fp32: none). fp16 on a CPU is refused: few CPU kernels
    have it and it is slower there than fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision {precision!r}: give fp32, bf16 or fp16")
    dtype = PRECISIONS[precision]
    if dtype is None:
        return nullcontext()
    if device.type == "cpu" and dtype == torch.float16:
        raise ValueError("--precision fp16 needs a GPU; on a CPU use bf16 or fp32")
    return torch.autocast(device.type, dtype=dtype)


def precision_suffix(precision: str | None) -> str:
    """What a probe's training precision adds to its schedule's name (so its results never overwrite fp32's): nothing
    for fp32, else "-bf16"."""
    return "" if precision in (None, "fp32") else f"-{precision}"
