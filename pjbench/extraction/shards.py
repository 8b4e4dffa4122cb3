"""Sharded extraction: several processes (torchrun ranks, a Slurm array, any scheduler) each embed a disjoint share
of the recordings into a shard file of their own, and one merge makes the cache that probes read.

Shares are deterministic and balanced by duration: recordings sorted longest first (ties by id) and each given to the
share with the least audio so far (the longest-processing-time rule), so every process computes the same split from
the file headers alone. A shard is ``NAME.shard-K-of-N.h5`` beside the cache ``NAME.h5`` it belongs to, a cache of
its own (resumable, checksummed, locked); :func:`merge` copies each shard's finished recordings into ``NAME.h5``
(resumable too: what the cache already holds from the same audio is not copied again). Each recording is embedded
alone-or-batched exactly as in one process, so the merged cache holds the same embeddings.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..audio import AudioError, probe_audio
from ..datasets.base import Recording
from .cache import CacheReader, CacheWriter, Source, _key

SHARD_NAME = re.compile(r"^(?P<stem>.+)\.shard-(?P<index>\d+)-of-(?P<count>\d+)\.h5$")


@dataclass(frozen=True)
class Shard:
    index: int  # counted from 0
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N``: share K (from 0) of N."""
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not found or not 0 <= int(found.group(1)) < int(found.group(2)):
            raise ValueError(f"--shard {text!r}: give K/N with 0 <= K < N (e.g. --shard 0/4, or $SLURM_ARRAY_TASK_ID/4)")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def from_torchrun(cls) -> Shard | None:
        """This process's share under torchrun (``RANK`` of ``WORLD_SIZE``), or None outside it (or with one rank)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world < 2:
            return None
        return cls(int(os.environ["RANK"]), world)

    def path(self, cache_path: Path) -> Path:
        return cache_path.with_name(f"{cache_path.stem}.shard-{self.index}-of-{self.count}.h5")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _seconds(rec: Recording) -> float:
    try:
        return probe_audio(rec.path).duration
    except (AudioError, OSError):
        return 0.0  # missing or unreadable: skipped with its reason by whichever shard holds it


def share(recordings: list[Recording], shard: Shard) -> list[Recording]:
    """The recordings of ``shard``, in the dataset's order: the longest-processing-time split by duration."""
    order = sorted(recordings, key=lambda r: (-_seconds(r), r.id))
    totals = [0.0] * shard.count
    mine = set()
    for rec in order:
        k = min(range(shard.count), key=lambda i: (totals[i], i))
        totals[k] += _seconds(rec)
        if k == shard.index:
            mine.add(rec.id)
    return [r for r in recordings if r.id in mine]


def shard_of(path: Path) -> Shard | None:
    """The share a shard file holds (None: not a shard file)."""
    found = SHARD_NAME.match(path.name)
    return Shard(int(found.group("index")), int(found.group("count"))) if found else None


def shard_files(cache_path: Path) -> list[Path]:
    """The shard files of a cache, whichever shard or the cache itself is named; one N at a time."""
    stem = main_path(cache_path).stem
    parts = {p: shard_of(p) for p in cache_path.parent.glob(f"{stem}.shard-*-of-*.h5")}
    shards = {p: k for p, k in parts.items() if k is not None}
    counts = {k.count for k in shards.values()}
    if len(counts) > 1:
        raise ValueError(f"{cache_path.parent}: shards of {stem} split {sorted(counts)} ways; keep one split's files")
    return sorted(shards, key=lambda p: shards[p].index)


def main_path(cache_path: Path) -> Path:
    found = SHARD_NAME.match(cache_path.name)
    return cache_path.with_name(f"{found.group('stem')}.h5") if found else cache_path


@dataclass
class MergeReport:
    cache_path: Path
    shards: int = 0
    copied: int = 0
    already: int = 0
    skipped: int = 0
    missing_shards: list[int] | None = None


def merge(cache_path: Path) -> MergeReport:
    """Copy every shard's finished recordings (and recorded skips) into the cache they belong to."""
    target = main_path(cache_path)
    files = shard_files(cache_path)
    if not files:
        raise FileNotFoundError(f"no shard files of {target.name} in {target.parent} (`pjbench extract --shard K/N` writes them)")
    shards = [k for k in map(shard_of, files) if k is not None]
    missing = sorted(set(range(shards[0].count)) - {k.index for k in shards})
    report = MergeReport(target, shards=len(files), missing_shards=missing)
    first = CacheReader(files[0])
    attrs = {k: v for k, v in first.attrs.items() if k != "shard"}
    first.close()
    writer = CacheWriter(target, attrs)
    try:
        for path in files:
            reader = CacheReader(path)
            try:
                if reader.attrs.get("config_hash") != attrs["config_hash"]:
                    raise ValueError(f"{path} belongs to config {reader.attrs.get('config_hash')}, not {attrs['config_hash']}")
                for rec_id in reader.ids():
                    source = reader.source(rec_id)
                    if writer.complete(rec_id, source):
                        report.already += 1
                        continue
                    _copy(reader, writer, rec_id, source)
                    report.copied += 1
                for rec_id, reason in reader.skipped().items():
                    writer.skip(rec_id, reason)
                    report.skipped += 1
            finally:
                reader.close()
    finally:
        writer.close()
    return report


def _copy(reader: CacheReader, writer: CacheWriter, rec_id: str, source: Source) -> None:
    """One recording, as stored (its checksummed float16 data read and written unchanged)."""
    rec = reader.get(rec_id)  # checked on the way (checksums, finite values)
    duration = float(reader._recs[_key(rec_id)].attrs.get("duration", 0.0))
    writer.write(rec_id, rec.embeddings, rec.last_segment_seconds, source, duration=duration)


def rank_device() -> str:
    """Under torchrun: this rank's GPU (``cuda:LOCAL_RANK``) when there are GPUs, else the CPU."""
    import torch

    return f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu"


def merge_after_all_ranks(shard_path: Path) -> MergeReport | None:
    """Wait until every torchrun rank has finished its shard (a rendezvous on the gloo backend, for as long as the
    slowest rank takes), then rank 0 merges them into the cache; the other ranks return None."""
    import datetime

    import torch.distributed as dist

    dist.init_process_group("gloo", timeout=datetime.timedelta(days=7))
    try:
        dist.barrier()
        return merge(shard_path) if int(os.environ["RANK"]) == 0 else None
    finally:
        dist.destroy_process_group()
