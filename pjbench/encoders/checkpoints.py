"""Finding and reading pretrained weights offline: a local path, or an already filled Hugging Face cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


class CheckpointError(FileNotFoundError):
    """No usable checkpoint; the message says what was looked for and how to provide it."""


def resolve_snapshot(checkpoint: str | Path | None, model_id: str, required: tuple[str, ...] = ("config.json",)) -> Path:
    """A local folder in Hugging Face layout: ``checkpoint`` if given, else the cached snapshot of ``model_id``.

    Never downloads: on a machine without the weights this fails with an error naming what is missing.
    """
    if checkpoint is not None:
        folder = Path(checkpoint).expanduser()
        if not folder.is_dir():
            raise CheckpointError(f"checkpoint folder {folder} does not exist")
    else:
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(model_id, local_files_only=True))
        except Exception as err:  # the hub raises several error types for "not cached"
            raise CheckpointError(
                f"no local copy of {model_id}: pass --checkpoint DIR (a Hugging Face snapshot folder) "
                f"or fill the Hugging Face cache first (`huggingface-cli download {model_id}` on a machine with network)"
            ) from err
    for name in required:
        if not (folder / name).exists():
            raise CheckpointError(f"{folder} has no {name}")
    return folder


def load_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    """Weights from ``model.safetensors`` or ``pytorch_model.bin`` (read with ``weights_only=True``)."""
    safetensors = folder / "model.safetensors"
    if safetensors.exists():
        from safetensors.torch import load_file

        return load_file(str(safetensors))
    binary = folder / "pytorch_model.bin"
    if binary.exists():
        return torch.load(binary, map_location="cpu", weights_only=True)
    raise CheckpointError(f"{folder} has neither model.safetensors nor pytorch_model.bin")


def load_torch_file(path: str | Path) -> Any:
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} does not exist")
    return torch.load(path, map_location="cpu", weights_only=True)


def strict_load(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{source} does not match the architecture: missing {sorted(missing)[:8]}, unexpected {sorted(unexpected)[:8]}"
        )
