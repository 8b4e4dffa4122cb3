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


def load_pretrained_strictly(model_class: Any, folder: Path) -> Any:
    """``model_class.from_pretrained(folder)`` offline, refused unless every weight of the model came from the folder
    and every weight in the folder was used (transformers itself only reports those and runs on random weights)."""
    model, info = model_class.from_pretrained(folder, local_files_only=True, output_loading_info=True)
    problems = {kind: sorted(str(k) for k in info.get(kind) or ()) for kind in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    problems = {kind: keys for kind, keys in problems.items() if keys}
    if problems or info.get("error_msgs"):
        detail = "; ".join(f"{kind.replace('_', ' ')} {keys[:8]}" for kind, keys in problems.items())
        raise CheckpointError(f"{folder} does not match {model_class.__name__}: {detail or info['error_msgs'][:2]}")
    return model.eval()


WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json", "preprocessor_config.json")


def weights_digest(path: str | Path) -> dict[str, str]:
    """sha256 of a weights file, or of each weights and configuration file of a Hugging Face folder: what a
    reader needs to tell which checkpoint produced a set of features."""
    from ..hashing import file_sha256

    path = Path(path).expanduser()
    files = [path] if path.is_file() else [path / name for name in WEIGHT_FILES if (path / name).is_file()]
    if not files:
        raise CheckpointError(f"{path}: no weights file to take a digest of")
    return {file.name: file_sha256(file) for file in files}


def strict_load(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{source} does not match the architecture: missing {sorted(missing)[:8]}, unexpected {sorted(unexpected)[:8]}"
        )
