"""The HDF5 embedding cache: one file per (dataset, encoder, config hash).

Layout::

    /                      attrs: encoder, revision, config_hash, config (JSON), sample_rate,
                                  frame_rate, segment_seconds, max_segments, pjbench_version
    /recordings/<id>       dataset (segments, layers, frames, dim) float16, one chunk per segment,
                           each chunk with a Fletcher-32 checksum (HDF5 checks it on every read)
                           attrs: n_segments, last_segment_seconds, source_path, source_size,
                                  source_mtime, duration, complete (set last)
    /skipped/<id>          attrs: reason

Only real segments are stored; padding happens at load time, with a mask. A recording is
complete only once its ``complete`` attribute is set, after its data are written and
flushed, so a killed extraction resumes from the last complete recording. Each recording
keeps where its audio came from (resolved path, size, modification time): `extract` embeds
again what changed, and a probe refuses embeddings of other audio than the dataset's now.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import h5py
import numpy as np

from ..encoders.base import layer_slice
from ..hashing import config_hash

log = logging.getLogger(__name__)

CACHE_FORMAT = "1"


def cache_key(config: dict[str, Any]) -> str:
    return config_hash({**config, "cache_format": CACHE_FORMAT})


SPECS_ATTR = "encoder_specs"  # JSON list of the --encoder strings that made the cache (a plugin's "pkg.mod:factory")


def encoder_specs(path: Path) -> list[str]:
    """The ``--encoder`` strings a cache was extracted under (read without locking; [] if unreadable)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return list(json.loads(f.attrs.get(SPECS_ATTR, "[]")))
    except (OSError, ValueError):
        return []


def stored_identity(path: Path) -> dict[str, str] | None:
    """The dataset identity a cache was made for (read without locking; None if unreadable)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            config = json.loads(f.attrs["config"])
    except (OSError, ValueError, KeyError):
        return None
    return {"manifest": config["manifest"]} if "manifest" in config else {}


def dataset_identity(dataset: Any) -> dict[str, str]:
    """What tells two datasets of one name apart in a cache key: a manifest's resolved path (two projects'
    ``manifest.csv`` get two caches). Registered datasets are told apart by their name alone."""
    manifest = dataset.info.get("manifest")
    return {"manifest": str(Path(manifest).resolve())} if manifest else {}


def _key(rec_id: str) -> str:
    return quote(rec_id, safe="")  # ids may contain '/', which HDF5 reads as a path


@dataclass(frozen=True)
class Source:
    """Where a recording's audio came from: what the cache checks before trusting its embeddings."""

    path: str
    size: int
    mtime: float

    @classmethod
    def of(cls, path: Path) -> Source:
        st = path.stat()
        return cls(str(path.resolve()), st.st_size, st.st_mtime)

    def differs(self, attrs: Any) -> str | None:
        """Why a cached recording's stored source is not this one (None: the same). The same size and modification
        time count as the same audio wherever it now lives (a dataset moved, or copied with its times, as `rsync -a`
        does), so a cache extracted on another machine serves there too."""
        if attrs.get("source_size") == self.size and attrs.get("source_mtime") == self.mtime:
            return None
        stored_path = attrs.get("source_path")
        if stored_path is not None and str(stored_path) != self.path:
            return f"embedded from {stored_path}, the dataset now has {self.path} (another size or time)"
        return f"{self.path} changed since it was embedded (size or modification time)"


@dataclass(frozen=True)
class CachedRecording:
    embeddings: np.ndarray  # (segments, layers, frames, dim) float16
    n_segments: int
    last_segment_seconds: float


class DamagedCacheError(ValueError):
    """Stored embeddings that cannot be trusted: a checksum mismatch, unreadable chunks or non-finite values."""


def checked_read(group: h5py.Group) -> tuple[np.ndarray | None, str | None]:
    """A stored recording's embeddings, or why they cannot be trusted: HDF5 verifies each chunk's checksum as it
    reads (caches written before checksums were stored are checked for non-finite values only)."""
    try:
        data = group["emb"][()]
    except (OSError, KeyError) as err:
        return None, f"unreadable: {err}"
    if not np.all(np.isfinite(data)):
        return None, "NaN or infinite values"
    return data, None


@dataclass
class VerifyReport:
    path: Path
    checked: int = 0
    damaged: dict[str, str] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    dropped: int = 0


def verify(path: Path, drop: bool = False) -> VerifyReport:
    """Read every stored recording of a cache (checksums, finite values); with ``drop``, remove the damaged and the
    incomplete ones, so that the next `pjbench extract` embeds them again."""
    report = VerifyReport(path)
    lock = lock_cache(path, exclusive=drop)
    try:
        _verify(path, drop, report)
    finally:
        unlock_cache(lock)
    return report


def _verify(path: Path, drop: bool, report: VerifyReport) -> None:
    try:
        fh = h5py.File(path, "r+" if drop else "r")
    except OSError as err:
        raise DamagedCacheError(f"{path}: not a readable HDF5 cache ({err}); delete it and run `pjbench extract` again") from None
    with fh:
        recs = fh.require_group("recordings") if drop else fh.get("recordings", {})
        for key in list(recs):
            group = recs[key]
            if not group.attrs.get("complete", False):
                report.incomplete.append(unquote(key))
                continue
            report.checked += 1
            _, why = checked_read(group)
            if why is not None:
                report.damaged[unquote(key)] = why
        if "skipped" in fh:
            report.skipped = {unquote(k): str(g.attrs.get("reason", "")) for k, g in fh["skipped"].items()}
        if drop:
            for rec_id in [*report.damaged, *report.incomplete]:
                del recs[_key(rec_id)]
                report.dropped += 1


class DiskFullError(RuntimeError):
    """No room left for the next recording. Checked before each write, because HDF5 does not survive a write that
    fails for want of space (its next flush crashes the process); ``unsafe`` when a write failed all the same (another
    process filled the disk, or a quota), and then the file must not be flushed or closed again."""

    def __init__(self, message: str, unsafe: bool = False) -> None:
        super().__init__(message)
        self.unsafe = unsafe


SPACE_RESERVE = 8 * 2**20  # bytes left free after a recording: the cache's metadata and its closing need some
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def free_bytes(folder: Path) -> int:
    """Bytes this process may still write on ``folder``'s file system."""
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def _no_room(err: BaseException) -> bool:
    """Whether an HDF5 error was a write refused for want of space (h5py reports errno in the text only, at times)."""
    if isinstance(err, OSError) and err.errno in _NO_ROOM:
        return True
    text = str(err)
    return any(f"errno = {code}," in text for code in _NO_ROOM) or "No space left on device" in text


class CacheBusyError(RuntimeError):
    """Another process is writing the cache (or reading it while this one would write)."""


def lock_cache(path: Path, exclusive: bool) -> int | None:
    """pjbench's own lock on a cache, beside it (``NAME.h5.lock``; HDF5's locking is often off on network file
    systems): exclusive for a writer, shared for readers. Returns the lock's file descriptor (close it to release), or
    None for a reader where no lock file can be made (a read-only folder: nobody can write there either)."""
    lock_path = path.with_name(f"{path.name}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        if exclusive:
            raise
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
        os.close(fd)
        who = f"another pjbench process (pid {holder}) is writing it" if holder else "another pjbench process is using it"
        raise CacheBusyError(f"{path}: {who}; wait for it to finish (or stop it), then run this again") from None
    if exclusive:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def unlock_cache(fd: int | None) -> None:
    if fd is not None:
        if os.fstat(fd).st_size:  # a writer's: its pid no longer holds it
            os.ftruncate(fd, 0)
        os.close(fd)


def _create(path: Path, attrs: dict[str, Any]) -> None:
    """A new, empty cache, built under a temporary name and renamed into place once flushed and closed: a kill at
    any moment leaves either no cache or a complete empty one."""
    tmp = path.with_name(f"{path.name}.creating-{os.getpid()}")
    with h5py.File(tmp, "w") as fh:
        for k, v in attrs.items():
            fh.attrs[k] = v
        fh.create_group("recordings")
        fh.create_group("skipped")
    os.replace(tmp, path)


class CacheWriter:
    """Writes a cache, holding its exclusive lock until :meth:`close` (a second writer, or a reader, is refused)."""

    def __init__(self, path: Path, attrs: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise PermissionError(
                f"{path}: the cache {'is' if path.exists() else 'folder is'} read-only, and recordings remain to be embedded; "
                "make it writable, or extract into another --cache-dir"
            )
        self._lock = lock_cache(path, exclusive=True)
        try:
            self._open(path, attrs)
        except BaseException:
            unlock_cache(self._lock)
            raise

    def _open(self, path: Path, attrs: dict[str, Any]) -> None:
        if not path.exists():
            _create(path, attrs)
        try:
            self.file = h5py.File(path, "a")
        except OSError as err:
            # e.g. killed before HDF5 flushed its superblock: moved aside, never deleted, and begun anew
            aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
            os.replace(path, aside)
            log.warning("%s could not be opened (%s); moved it to %s and started a new cache", path, err, aside)
            _create(path, attrs)
            self.file = h5py.File(path, "a")
        existing = self.file.attrs.get("config_hash")
        if existing is not None and existing != attrs["config_hash"]:
            self.file.close()
            raise ValueError(f"{path} belongs to config {existing}, not {attrs['config_hash']}")
        for k, v in attrs.items():
            if k == SPECS_ATTR:  # every name the encoder was given on the command line, kept across runs
                v = json.dumps(sorted(set(json.loads(self.file.attrs.get(SPECS_ATTR, "[]"))) | set(json.loads(v))))
            self.file.attrs[k] = v
        self.recs = self.file.require_group("recordings")
        self.skipped = self.file.require_group("skipped")
        self._unsafe = False
        self.written = 0
        for key in list(self.recs):  # leftovers of an interrupted run
            if not self.recs[key].attrs.get("complete", False):
                del self.recs[key]

    def complete(self, rec_id: str, source: Source) -> bool:
        """Whether the cache holds ``rec_id`` embedded from this very audio."""
        key = _key(rec_id)
        if key not in self.recs:
            return False
        attrs = self.recs[key].attrs
        return bool(attrs.get("complete", False)) and source.differs(attrs) is None

    def write(self, rec_id: str, embeddings: np.ndarray, last_segment_seconds: float, source: Source, duration: float) -> None:
        data = embeddings.astype(np.float16)
        self._check_room(rec_id, data.nbytes)
        with self._no_room_is_fatal(rec_id):
            self._write(rec_id, data, last_segment_seconds, source, duration)
        self.written += 1

    @contextmanager
    def _no_room_is_fatal(self, rec_id: str) -> Iterator[None]:
        """A write HDF5 refused for want of space: the file is never flushed or closed again (HDF5 would crash)."""
        try:
            yield
        except (OSError, RuntimeError) as err:
            if not _no_room(err):
                raise
            self._unsafe = True
            raise DiskFullError(self._full_message(rec_id, "a write failed for want of space"), unsafe=True) from None

    def _check_room(self, rec_id: str, nbytes: int) -> None:
        need = nbytes + nbytes // 16 + 2**16  # the data, its checksums and index, the recording's group
        free = free_bytes(self.path.parent)
        if free < need + SPACE_RESERVE:
            mib = 2**20
            raise DiskFullError(
                self._full_message(rec_id, f"{free / mib:.1f} MiB free, it needs {need / mib:.1f} MiB and {SPACE_RESERVE // mib} MiB spare")
            )

    def _full_message(self, rec_id: str, why: str) -> str:
        return (
            f"disk full while writing {self.path} (recording {rec_id!r}: {why}); the {self.written} recording(s) finished in "
            "this run are kept: free space (or choose --cache-dir elsewhere) and rerun to resume"
        )

    def _write(self, rec_id: str, data: np.ndarray, last_segment_seconds: float, source: Source, duration: float) -> None:
        key = _key(rec_id)
        if key in self.recs:
            del self.recs[key]
        if key in self.skipped:
            del self.skipped[key]
        group = self.recs.create_group(key)
        dataset = group.create_dataset("emb", data=data, chunks=(1, *data.shape[1:]), fletcher32=True)
        dataset.flush()  # its chunks written here, where a failure raises (when freed, HDF5's error would only be printed)
        group.attrs.update(
            n_segments=data.shape[0],
            last_segment_seconds=last_segment_seconds,
            source_path=source.path,
            source_size=source.size,
            source_mtime=source.mtime,
            duration=duration,
        )
        self.file.flush()
        group.attrs["complete"] = True
        self.file.flush()

    def skip(self, rec_id: str, reason: str) -> None:
        with self._no_room_is_fatal(rec_id):
            key = _key(rec_id)
            if key in self.skipped:
                del self.skipped[key]
            self.skipped.create_group(key).attrs["reason"] = reason
            self.file.flush()

    def record_speed(self, audio_seconds: float, wall_seconds: float, parameters: int | None) -> None:
        """Add this run's embedded audio and time to the cache's totals (its extraction speed, × real time, for the
        board), and the encoder's parameter count."""
        if getattr(self, "_unsafe", False) or not audio_seconds:
            return
        attrs = self.file.attrs
        attrs["extraction_audio_seconds"] = float(attrs.get("extraction_audio_seconds", 0.0)) + audio_seconds
        attrs["extraction_wall_seconds"] = float(attrs.get("extraction_wall_seconds", 0.0)) + wall_seconds
        if parameters is not None:
            attrs["encoder_parameters"] = parameters

    def close(self) -> None:
        if not getattr(self, "_unsafe", False):  # after a failed write HDF5 crashes on the next flush: never close it
            self.file.close()
        unlock_cache(self._lock)
        self._lock = None  # closing twice is harmless


class CacheReader:
    """Read-only access, the file opened once and kept open (never per item)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no embedding cache at {path}; run `pjbench extract` first")
        self.path = path
        self._lock = lock_cache(path, exclusive=False)
        try:
            self.file = h5py.File(path, "r")
        except OSError as err:
            unlock_cache(self._lock)
            raise DamagedCacheError(
                f"{path}: not a readable HDF5 cache ({err}); `pjbench extract` moves it aside and starts a new one"
            ) from None
        self.attrs = dict(self.file.attrs)
        self.config = json.loads(self.attrs["config"])
        self._recs = self.file["recordings"]
        # layers of different sizes stored side by side on the feature axis (empty: one layer per index of axis 1)
        self.layer_dims: tuple[int, ...] = tuple(json.loads(self.attrs["layer_dims"])) if "layer_dims" in self.attrs else ()

    def ids(self) -> list[str]:
        return [unquote(k) for k in self._recs if self._recs[k].attrs.get("complete", False)]

    def skipped(self) -> dict[str, str]:
        return {unquote(k): str(g.attrs["reason"]) for k, g in self.file["skipped"].items()}

    def __contains__(self, rec_id: str) -> bool:
        key = _key(rec_id)
        return key in self._recs and bool(self._recs[key].attrs.get("complete", False))

    def source(self, rec_id: str) -> Source:
        """Where a cached recording's audio came from, as stored (the path is empty in caches that predate it)."""
        attrs = self._recs[_key(rec_id)].attrs
        return Source(str(attrs.get("source_path", "")), int(attrs["source_size"]), float(attrs["source_mtime"]))

    def stale(self, recordings: Any) -> dict[str, str]:
        """id -> why, for the cached ``recordings`` whose embeddings are not of the audio they name now (another
        file, or the same file changed since)."""
        out = {}
        for rec in recordings:
            if rec.id in self:
                try:
                    why = Source.of(rec.path).differs(self._recs[_key(rec.id)].attrs)
                except OSError as err:
                    why = f"{rec.path}: {err.strerror or err}"
                if why:
                    out[rec.id] = why
        return out

    def get(self, rec_id: str) -> CachedRecording:
        """A recording's embeddings; a damaged one (checksum or non-finite values) is an error naming the remedy."""
        group = self._recs[_key(rec_id)]
        data, why = checked_read(group)  # read once: checked, then returned
        if data is None:
            raise DamagedCacheError(
                f"{self.path}: recording {rec_id!r} is damaged ({why}); `pjbench cache verify {self.path} --drop` removes the "
                "damaged recordings, and `pjbench extract` then embeds them again"
            )
        return CachedRecording(data, int(group.attrs["n_segments"]), float(group.attrs["last_segment_seconds"]))

    @property
    def frame_rate(self) -> float:
        return float(self.attrs["frame_rate"])

    @property
    def segment_seconds(self) -> float:
        return float(self.attrs["segment_seconds"])

    def close(self) -> None:
        self.file.close()
        unlock_cache(self._lock)
        self._lock = None  # closing twice is harmless


class LayerView:
    """One stored layer of a multi-layer cache, read as if it were the only one (`probe --layers each`); everything
    else is the reader's."""

    def __init__(self, reader: CacheReader, layer: int) -> None:
        n = stored_layers(reader)
        if not 0 <= layer < n:
            raise ValueError(f"{reader.path}: layer {layer} asked for, the cache stores {n} (0..{n - 1})")
        self.reader, self.layer = reader, layer

    def get(self, rec_id: str) -> CachedRecording:
        rec = self.reader.get(rec_id)
        dims = self.reader.layer_dims
        part = rec.embeddings[..., layer_slice(dims, self.layer)] if dims else rec.embeddings[:, self.layer : self.layer + 1]
        return CachedRecording(np.ascontiguousarray(part), rec.n_segments, rec.last_segment_seconds)  # a copy: the rest let go

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)


def stored_layers(reader: CacheReader) -> int:
    """How many layers each recording of the cache holds (``--layer all`` at extraction: all the encoder's)."""
    if reader.layer_dims:
        return len(reader.layer_dims)
    ids = reader.ids()
    if not ids:
        raise ValueError(f"{reader.path}: no recordings")
    return int(reader._recs[_key(ids[0])]["emb"].shape[1])


def encoder_stats(attrs: dict[str, Any]) -> dict[str, float | int]:
    """What a cache recorded about its encoder beyond the metadata: parameters and extraction speed (× real time)."""
    out: dict[str, float | int] = {}
    if "encoder_parameters" in attrs:
        out["parameters"] = int(attrs["encoder_parameters"])
    wall = float(attrs.get("extraction_wall_seconds", 0.0))
    if wall > 0:
        out["extraction_x_real_time"] = float(attrs.get("extraction_audio_seconds", 0.0)) / wall
    return out
