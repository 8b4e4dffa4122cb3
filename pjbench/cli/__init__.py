"""The ``pjbench`` command line: one module per family of commands (prepare, run, show), shared options in
:mod:`pjbench.cli.common`. Expected failures print one line and exit 1 (2 for a usage error); ``--verbose``
adds the traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer

from ..version import __version__
from . import cache, demo, experiments, prepare, probe, share, show
from .common import fail, setup_logging

app = typer.Typer(
    help="pjbench: does an audio encoder hear how well a piano is played?\n\n"
    "Typical run: `pjbench extract --encoder mel --dataset synthetic`, then "
    "`pjbench probe --task difficulty --encoder mel --dataset synthetic`, then `pjbench leaderboard`. "
    "`pjbench demo` does all of it on the embedded synthetic dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: rich's panels show every flag with a type (`<bool>` reads as if a flag took a value), wrap at 80
    # columns in a pipe, and eat square brackets as markup
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"pjbench {__version__}")
        raise typer.Exit()


def _config_defaults(path: Path) -> dict[str, dict[str, object]]:
    """A TOML file with a table per command (``[probe]``, ``[extract]``...) whose keys are the commands' long
    options without the dashes (``seeds = 3``, ``task = ["difficulty-9way"]``); options on the command line win."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        fail(f"--config {path}: {err}", 2)
    out: dict[str, dict[str, object]] = {}
    for command, values in data.items():
        if not isinstance(values, dict):
            fail(f"--config {path}: '{command}' must be a table ([{command}]) of that command's options", 2)
        out[command] = {key.replace("-", "_"): value for key, value in values.items()}
    return out


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging, and tracebacks with errors")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors (results are still written)")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="a TOML file of defaults per command ([probe] seeds = 3 ...) for long runs")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
) -> None:
    setup_logging(verbose, quiet)
    from ..allocator import keep_freed_memory
    from ..results.record import start_run

    keep_freed_memory()  # large blocks reused, not mapped and zero-filled anew (pjbench/allocator.py)

    start_run()  # every result this command writes carries its run id
    if config is not None:
        ctx.default_map = {**(ctx.default_map or {}), **_config_defaults(config)}


COMMANDS = (
    ("synth", prepare.synth, "Render the embedded synthetic piano dataset (audio, MIDI, labels; optional keyboard videos)."),
    ("extract", prepare.extract, "Embed every recording into an HDF5 cache of segment embeddings (resumable)."),
    ("probe", probe.probe, "Train probes on cached embeddings; validation picks the epoch, the test split is scored once."),
    ("baselines", probe.baselines, "Probe the shortcut baselines (duration, loudness, nuisance draws) as board rows."),
    ("transfer", experiments.transfer, "Judge ICPC-2015 candidate pairs with the PLD expertise probe; rank by win count."),
    ("pisa", experiments.pisa, "PISA player level from video, audio or both (end to end or frozen features)."),
    ("rerun", demo.rerun, "Run a result file's recorded configuration again and compare every seed's scores."),
    ("rescore", show.rescore, "Recompute a result's metrics from its stored per-item predictions; exact or not."),
    ("compare", show.compare, "Is result A better than B? A paired bootstrap over test groups and seeds; A better | B better | tie."),
    ("leaderboard", show.leaderboard, "Print and write the leaderboard of every dataset with results (several folders: one board)."),
    ("export", share.export, "Bundle a results folder (results, predictions, plots, provenance) for another machine's board."),
    ("list", show.list_things, "List encoders, tasks, datasets or heads (no weights loaded; --format json|csv)."),
    ("validate-encoder", prepare.validate_encoder, "Check an encoder's shapes, determinism, batch invariance, NaNs and speed."),
    ("demo", demo.demo, "The whole benchmark on the embedded dataset: synth, extract, every probe, leaderboard."),
)
for name, command, summary in COMMANDS:
    app.command(name, short_help=summary)(command)

data_app = typer.Typer(help="Inspect datasets: leakage, shortcuts, missing audio.", no_args_is_help=True, rich_markup_mode=None)
data_app.command("check", short_help="Leakage and shortcut report of a dataset (text, PNG, missing-audio.csv).")(prepare.data_check)
app.add_typer(data_app, name="data")

cache_app = typer.Typer(help="Check embedding caches.", no_args_is_help=True, rich_markup_mode=None)
cache_app.command("verify", short_help="Read every recording of a cache (checksums, finite values); --drop the damaged.")(cache.verify)
cache_app.command("merge", short_help="Join the shard files of `extract --shard K/N` (or torchrun) into one cache.")(cache.merge)
app.add_typer(cache_app, name="cache")

__all__ = ["app"]
