"""Sharing results: `pjbench export`, a bundle another machine puts on its board."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, fail


def board_name(encoder: str) -> str:
    """The name the board shows for an --encoder string: itself, or for hf:, hear: and package.module:factory names
    the loaded encoder's own (the one-name rule: the string given to extract works here too)."""
    if ":" not in encoder:
        return encoder
    from ..api import get_encoder

    return get_encoder(encoder).meta.name


def export(
    results_dir: Annotated[Path, typer.Argument(help="the results folder to export (e.g. ./pjbench-results)")],
    out: Annotated[Path, typer.Argument(help="a new folder, or a file ending in .tar.gz")],
    dataset: Annotated[list[str] | None, typer.Option("--dataset", "-d", help="only this dataset's results (repeat)")] = None,
    encoder: Annotated[
        list[str] | None,
        typer.Option("--encoder", "-e", help="only this encoder's results: as the board names it, or as given to extract (repeat)"),
    ] = None,
    layers: Annotated[bool, typer.Option("--layers/--no-layers", help="include the per-layer results and curves")] = True,
) -> None:
    """Write a results bundle: the result files with their predictions, plots, split lists and layer curves, and
    bundle.json (pjbench version, git revision, data fingerprints, every file's sha256); nothing else.

    Another machine puts it on its board with `pjbench leaderboard --results-dir results --results-dir BUNDLE`, where
    every row with predictions is recomputed from them before it is shown. The format: docs/results-format.md.

    Example: pjbench export pjbench-results my-encoder.tar.gz --encoder my-encoder
    """
    from ..reporting.export import export as write_bundle

    try:
        record = write_bundle(results_dir, out, dataset, [board_name(e) for e in encoder] if encoder else None, layers)
    except (OSError, ValueError) as err:
        fail(str(err))
    for skipped in record["left_out"]:
        console.print(f"left out {skipped['file']}: {skipped['why']}", markup=False, highlight=False)
    n = len(record["results"])
    fingerprints = "; ".join(f"{d} {', '.join(x[:8] or 'unrecorded' for x in fps)}" for d, fps in record["fingerprints"].items())
    console.print(f"{out}: {n} result(s), {len(record['files'])} file(s); data fingerprints: {fingerprints}", markup=False, highlight=False)
