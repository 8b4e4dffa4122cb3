"""The ``pjbench`` command line: one module per family of commands (prepare, run, show), shared options in
:mod:`pjbench.cli.common`. Expected failures print one line and exit 1 (2 for a usage error); ``--verbose``
adds the traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from . import prepare, run, show
from .common import fail, setup_logging

app = typer.Typer(
    help="pjbench: does an audio encoder hear how well a piano is played?\n\n"
    "Typical run: `pjbench extract --encoder mel --dataset synthetic`, then "
    "`pjbench probe --task difficulty --encoder mel --dataset synthetic`, then `pjbench leaderboard`. "
    "`pjbench demo` does all of it on the embedded synthetic dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
    config: Annotated[
        Path | None, typer.Option("--config", help="a TOML file of defaults per command ([probe] seeds = 3 ...) for long runs")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
) -> None:
    setup_logging(verbose)
    if config is not None:
        ctx.default_map = {**(ctx.default_map or {}), **_config_defaults(config)}


app.command()(prepare.synth)
app.command()(prepare.extract)
app.command()(run.probe)
app.command()(run.transfer)
app.command()(run.pisa)
app.command()(run.rerun)
app.command()(show.leaderboard)
app.command("list")(show.list_things)
app.command("validate-encoder")(prepare.validate_encoder)
app.command()(run.demo)

data_app = typer.Typer(help="Inspect datasets: leakage, shortcuts, missing audio.", no_args_is_help=True)
data_app.command("check")(prepare.data_check)
app.add_typer(data_app, name="data")

__all__ = ["app"]
