"""Any HEAR-API module as an encoder (``--encoder hear:MODULE[=WEIGHTS_PATH]``): the HEAR benchmark's contract
(``load_model(model_file_path)``, ``get_timestamp_embeddings(audio, model) -> (embeddings, timestamps_ms)``,
``get_scene_embeddings``, and the model's ``sample_rate``, ``timestamp_embedding_size``, ``scene_embedding_size``).

A frame is one timestamp embedding. The hop between timestamps, checked to be regular, gives the frame rate; the
frame count for any length is measured from the module (5, 7.5 and 10 s) and must follow one of the usual rules
(``samples // hop + 1`` frames centred from 0, or the rate's floor, ceil or rounding), else the module is refused with
what it returned. ``hear_checks`` are the contract's own checks, run by `pjbench validate-encoder`.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from .base import EncoderMeta, Framing

MEASURE_SECONDS = (5.0, 7.5, 10.0)


class HearError(ValueError):
    """A module that does not keep the HEAR contract; the message says which part."""


def _version(module_name: str) -> str:
    top = module_name.split(".")[0]
    try:
        return metadata.version(top)
    except metadata.PackageNotFoundError:
        return str(getattr(importlib.import_module(top), "__version__", "unversioned"))


def _file_sha(path: Path) -> str:
    from ..hashing import file_sha256

    if path.is_file():
        return file_sha256(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return hashlib.sha256("".join(f"{p.relative_to(path)}:{file_sha256(p)}\n" for p in files).encode()).hexdigest()


@dataclass(frozen=True)
class Measured:
    frames: int
    timestamps_ms: np.ndarray


class HearEncoder:
    def __init__(self, spec: str) -> None:
        module_name, _, weights = spec.partition("=")
        try:
            self.module = importlib.import_module(module_name)
        except ImportError as err:
            raise HearError(f"hear:{module_name}: cannot import it ({err}); install the module or put it on PYTHONPATH") from None
        for fn in ("load_model", "get_timestamp_embeddings", "get_scene_embeddings"):
            if not callable(getattr(self.module, fn, None)):
                raise HearError(f"hear:{module_name}: no {fn}() (not a HEAR-API module)")
        path = Path(weights).expanduser() if weights else None
        if path is not None and not path.exists():
            raise HearError(f"hear:{module_name}={weights}: no such weights file")
        self.model = self.module.load_model(str(path)) if path is not None else self.module.load_model()
        missing = [a for a in ("sample_rate", "timestamp_embedding_size", "scene_embedding_size") if not hasattr(self.model, a)]
        if missing:
            raise HearError(f"hear:{module_name}: its model lacks {', '.join(missing)}")
        sample_rate, dim = int(self.model.sample_rate), int(self.model.timestamp_embedding_size)
        measured = {s: self._measure(int(round(s * sample_rate))) for s in MEASURE_SECONDS}
        hop_ms = self._hop_ms(measured[MEASURE_SECONDS[-1]].timestamps_ms, module_name)
        frame_rate = 1000.0 / hop_ms
        framing = self._framing(measured, sample_rate, frame_rate, module_name)
        digest = _file_sha(path) if path is not None else ""
        self.meta = EncoderMeta(
            name=f"hear-{module_name.replace('.', '-')}" + (f"-{digest[:8]}" if digest else ""),
            revision=f"{_version(module_name)}" + (f"#{digest[:16]}" if digest else ""),
            sample_rate=sample_rate,
            frame_rate=frame_rate,
            dim=dim,
            n_layers=1,
            licence="see the module",
            description=f"HEAR-API module {module_name}: its timestamp embeddings every {hop_ms:g} ms",
            options={"module": module_name, "weights": str(path.resolve()) if path else "", "weights_sha256": digest, "hop_ms": hop_ms},
            framing=framing,
        )
        self.device = torch.device("cpu")

    def _call(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.module.get_timestamp_embeddings(audio, self.model)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise HearError(f"hear:{self.module.__name__}: get_timestamp_embeddings must return (embeddings, timestamps)")
        return out

    def _measure(self, n: int) -> Measured:
        with torch.inference_mode():
            emb, ts = self._call(torch.zeros(1, n))
        return Measured(int(emb.shape[1]), np.asarray(torch.as_tensor(ts).float().cpu())[0])

    @staticmethod
    def _hop_ms(ts: np.ndarray, name: str) -> float:
        if len(ts) < 2:
            raise HearError(f"hear:{name}: fewer than two timestamps for 10 s of audio: no frame rate")
        hops = np.diff(ts)
        hop = float(np.median(hops))
        if not hop > 0 or np.abs(hops - hop).max() > 0.01 * hop:
            raise HearError(f"hear:{name}: timestamps are not evenly spaced (hops {hops.min():g}-{hops.max():g} ms): no frame rate")
        return hop

    @staticmethod
    def _framing(measured: dict[float, Measured], sample_rate: int, frame_rate: float, name: str) -> Framing:
        hop = sample_rate / frame_rate
        candidates = [Framing(convs=((0, int(round(hop))),))] if abs(hop - round(hop)) < 1e-6 else []
        candidates += [Framing("floor"), Framing("ceil"), Framing("round")]
        for framing in candidates:
            if all(framing.frames(int(round(s * sample_rate)), sample_rate, frame_rate) == m.frames for s, m in measured.items()):
                return framing
        got = ", ".join(f"{s:g} s: {m.frames}" for s, m in measured.items())
        raise HearError(f"hear:{name}: frame counts ({got}) follow none of the usual rules at {frame_rate:g} frames/s")

    def to(self, device: torch.device | str) -> HearEncoder:
        if hasattr(self.model, "to"):
            self.model.to(device)
        self.device = torch.device(device)
        return self

    @torch.inference_mode()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        emb, _ = self._call(audio.to(self.device).float())
        return torch.as_tensor(emb).float().unsqueeze(1)  # (batch, 1 layer, frames, dim)

    def hear_checks(self, seconds: float = 3.0) -> list[tuple[str, bool, str]]:
        """The contract's checks: (name, passed, detail)."""
        n = int(round(seconds * self.meta.sample_rate))
        audio = torch.rand(3, n) * 2 - 1
        emb, ts = self._call(audio)
        scene = self.module.get_scene_embeddings(audio, self.model)
        ts_np = np.asarray(torch.as_tensor(ts).float().cpu())
        checks = [
            ("HEAR: tensors", all(isinstance(x, torch.Tensor) for x in (emb, ts, scene)), "embeddings, timestamps, scene: torch tensors"),
            ("HEAR: float32", all(x.dtype == torch.float32 for x in (emb, scene)), f"embeddings {emb.dtype}, scene {scene.dtype}"),
            (
                "HEAR: shapes",
                emb.ndim == 3
                and emb.shape[0] == 3
                and emb.shape[2] == self.model.timestamp_embedding_size
                and tuple(ts.shape) == tuple(emb.shape[:2])
                and tuple(scene.shape) == (3, self.model.scene_embedding_size),
                f"embeddings {tuple(emb.shape)}, timestamps {tuple(ts.shape)}, scene {tuple(scene.shape)}",
            ),  # fmt: skip
            ("HEAR: timestamps monotone", bool(np.all(np.diff(ts_np, axis=1) > 0)), "increasing within each item"),
            (
                "HEAR: timestamps in ms",
                bool(ts_np.min() >= 0 and ts_np.max() <= 1000 * seconds + self.meta.options["hop_ms"]),
                f"{ts_np.min():g}-{ts_np.max():g} for {seconds:g} s of audio",
            ),
            ("HEAR: sample rate", self.meta.sample_rate in (16000, 22050, 24000, 32000, 44100, 48000), f"{self.meta.sample_rate} Hz"),
        ]
        return checks


def hear_encoder(spec: str) -> HearEncoder:
    return HearEncoder(spec)
