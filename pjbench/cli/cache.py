"""`pjbench cache ...`: check an embedding cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import EXPECTED, console, fail


def verify(
    cache: Annotated[Path, typer.Argument(help="an embedding cache (.h5) written by `pjbench extract` or the baselines")],
    drop: Annotated[
        bool, typer.Option("--drop", help="remove the damaged and unfinished recordings, so that `pjbench extract` embeds them again")
    ] = False,
) -> None:
    """Read every recording of a cache: each chunk's checksum and finite values. Names each damaged recording and
    each one skipped at extraction (with its reason); exits with status 1 while damaged recordings remain."""
    from ..extraction.cache import verify as verify_cache

    if not cache.is_file():
        fail(f"{cache}: no such cache file")
    try:
        report = verify_cache(cache, drop)
    except EXPECTED as err:
        fail(str(err))
    for rec_id, why in sorted(report.damaged.items()):
        console.print(f"damaged  {rec_id}: {why}", markup=False, highlight=False)
    for rec_id in report.incomplete:
        console.print(f"unfinished  {rec_id}: an interrupted extraction's; `pjbench extract` redoes it", markup=False, highlight=False)
    for rec_id, why in sorted(report.skipped.items()):
        console.print(f"skipped  {rec_id}: {why}", markup=False, highlight=False)
    summary = (
        f"{cache}: {report.checked} recordings read, {len(report.damaged)} damaged, {len(report.incomplete)} unfinished, "
        f"{len(report.skipped)} skipped at extraction"
    )
    if report.dropped:
        summary += f"; {report.dropped} removed: run `pjbench extract` to embed them again"
    console.print(summary, markup=False, highlight=False)
    if report.damaged and not drop:
        fail(f"{cache}: {len(report.damaged)} damaged recording(s); `pjbench cache verify {cache} --drop`, then `pjbench extract`")


def merge(
    cache: Annotated[Path, typer.Argument(help="the cache, or any of its shard files (NAME.shard-K-of-N.h5)")],
) -> None:
    """Join the shard files of `pjbench extract --shard K/N` into the one cache probes read (resumable: recordings
    already merged from the same audio are not copied again; a shard still missing can be merged later)."""
    from ..extraction.shards import merge as merge_shards

    try:
        report = merge_shards(cache)
    except EXPECTED as err:
        fail(str(err))
    console.print(
        f"{report.shards} shard(s): {report.copied} recordings copied, {report.already} already there, {report.skipped} skips "
        f"recorded -> {report.cache_path}",
        markup=False,
        highlight=False,
    )
    if report.missing_shards:
        fail(f"shard(s) {', '.join(map(str, report.missing_shards))} not found yet: merge again once they are written")
