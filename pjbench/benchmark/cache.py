"""The HDF5 embedding cache: one file per (dataset, encoder, config hash).

Layout::

    /                      attrs: encoder, revision, config_hash, config (JSON), sample_rate,
                                  frame_rate, segment_seconds, max_segments, pjbench_version
    /recordings/<id>       dataset (segments, layers, frames, dim) float16, one chunk per segment
                           attrs: n_segments, last_segment_seconds, source_size, source_mtime,
                                  duration, complete (set last)
    /skipped/<id>          attrs: reason

Only real segments are stored; padding happens at load time, with a mask. A recording is
complete only once its ``complete`` attribute is set, after its data are written and
flushed, so a killed extraction resumes from the last complete recording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import h5py
import numpy as np

from ..hashing import config_hash

CACHE_FORMAT = "1"


def cache_key(config: dict[str, Any]) -> str:
    return config_hash({**config, "cache_format": CACHE_FORMAT})


def _key(rec_id: str) -> str:
    return quote(rec_id, safe="")  # ids may contain '/', which HDF5 reads as a path


@dataclass(frozen=True)
class CachedRecording:
    embeddings: np.ndarray  # (segments, layers, frames, dim) float16
    n_segments: int
    last_segment_seconds: float


class CacheWriter:
    def __init__(self, path: Path, attrs: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = h5py.File(path, "a")
        existing = self.file.attrs.get("config_hash")
        if existing is not None and existing != attrs["config_hash"]:
            self.file.close()
            raise ValueError(f"{path} belongs to config {existing}, not {attrs['config_hash']}")
        for k, v in attrs.items():
            self.file.attrs[k] = v
        self.recs = self.file.require_group("recordings")
        self.skipped = self.file.require_group("skipped")
        for key in list(self.recs):  # leftovers of an interrupted run
            if not self.recs[key].attrs.get("complete", False):
                del self.recs[key]

    def complete(self, rec_id: str, source_size: int, source_mtime: float) -> bool:
        key = _key(rec_id)
        if key not in self.recs:
            return False
        attrs = self.recs[key].attrs
        return bool(attrs.get("complete", False)) and attrs["source_size"] == source_size and attrs["source_mtime"] == source_mtime

    def write(
        self, rec_id: str, embeddings: np.ndarray, last_segment_seconds: float, source_size: int, source_mtime: float, duration: float
    ) -> None:
        key = _key(rec_id)
        if key in self.recs:
            del self.recs[key]
        if key in self.skipped:
            del self.skipped[key]
        data = embeddings.astype(np.float16)
        group = self.recs.create_group(key)
        group.create_dataset("emb", data=data, chunks=(1, *data.shape[1:]))
        group.attrs.update(
            n_segments=data.shape[0],
            last_segment_seconds=last_segment_seconds,
            source_size=source_size,
            source_mtime=source_mtime,
            duration=duration,
        )
        self.file.flush()
        group.attrs["complete"] = True
        self.file.flush()

    def skip(self, rec_id: str, reason: str) -> None:
        key = _key(rec_id)
        if key in self.skipped:
            del self.skipped[key]
        self.skipped.create_group(key).attrs["reason"] = reason
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class CacheReader:
    """Read-only access, the file opened once and kept open (never per item)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no embedding cache at {path}; run `pjbench extract` first")
        self.path = path
        self.file = h5py.File(path, "r")
        self.attrs = dict(self.file.attrs)
        self.config = json.loads(self.attrs["config"])
        self._recs = self.file["recordings"]

    def ids(self) -> list[str]:
        return [unquote(k) for k in self._recs if self._recs[k].attrs.get("complete", False)]

    def skipped(self) -> dict[str, str]:
        return {unquote(k): str(g.attrs["reason"]) for k, g in self.file["skipped"].items()}

    def __contains__(self, rec_id: str) -> bool:
        key = _key(rec_id)
        return key in self._recs and bool(self._recs[key].attrs.get("complete", False))

    def get(self, rec_id: str) -> CachedRecording:
        group = self._recs[_key(rec_id)]
        return CachedRecording(group["emb"][()], int(group.attrs["n_segments"]), float(group.attrs["last_segment_seconds"]))

    @property
    def frame_rate(self) -> float:
        return float(self.attrs["frame_rate"])

    @property
    def segment_seconds(self) -> float:
        return float(self.attrs["segment_seconds"])

    def close(self) -> None:
        self.file.close()
