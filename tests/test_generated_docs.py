"""The tables of docs/statistics.md and docs/layers.md are generated from the committed results (research/
statistics_tables.py, research/layer_tables.py): they must say what the results say, and a stale block is found."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "results" / "synthetic"
DOC = ROOT / "docs" / "statistics.md"


def _script(name: str):
    """A research/ script as a module (they import their neighbour generated_blocks)."""
    if str(ROOT / "research") not in sys.path:
        sys.path.insert(0, str(ROOT / "research"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "research" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables():
    return _script("statistics_tables")


def test_the_layer_tables_are_the_committed_results_with_the_layer_chosen_on_validation():
    layer_tables = _script("layer_tables")
    made = {
        k: v
        for encoder in ("transkun", "vgg-msd", "vgg-mtt", "musicnn-msd", "musicnn-mtt")
        for k, v in layer_tables.blocks(COMMITTED, encoder).items()
    }
    assert _script("generated_blocks").stale((ROOT / "docs" / "layers.md").read_text(), made) == []
    found = layer_tables.curves(COMMITTED, "transkun", "linear-paper")
    for task, rows in found.items():
        layers = [r for r in rows if r["layer"] != "mix"]
        (chosen,) = [r for r in layers if r["chosen"]]
        assert chosen["val_mean"] == max(r["val_mean"] for r in layers), task


def test_the_interval_width_table_is_the_committed_results(tables):
    assert _script("generated_blocks").stale(DOC.read_text(), {"widths": tables.widths(COMMITTED)}) == []


@pytest.mark.slow
def test_the_factor_table_is_the_committed_results(tables):
    """Every linear-paper row bootstrapped by each factor alone (about a minute)."""
    assert _script("generated_blocks").stale(DOC.read_text(), {"factors": tables.factors(COMMITTED)}) == []


def test_a_stale_or_missing_block_is_found_and_filled():
    blocks = _script("generated_blocks")
    document = "intro\n<!-- generated: widths -->\n| old |\n<!-- end generated: widths -->\nafter\n"
    assert blocks.stale(document, {"widths": "| new |"}) == ["widths"]
    filled = blocks.fill(document, {"widths": "| new |"})
    assert filled == "intro\n<!-- generated: widths -->\n| new |\n<!-- end generated: widths -->\nafter\n"
    assert blocks.stale(filled, {"widths": "| new |"}) == []
    assert blocks.stale(filled, {"factors": "| x |"}) == ["factors"]
    with pytest.raises(SystemExit, match="no <!-- generated: factors -->"):
        blocks.fill(filled, {"factors": "| x |"})
