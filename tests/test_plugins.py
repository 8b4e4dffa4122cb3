"""Third-party encoders: the example plugin found through a real entry point, and by module:object."""

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.encoders import available, load_encoder

EXAMPLE = Path(__file__).parent.parent / "examples" / "pjbench-chroma"


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """The example plugin as pip would leave it: the package and a dist-info folder with its entry point."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE / "pjbench_chroma", site / "pjbench_chroma")
    info = site / "pjbench_chroma-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pjbench-chroma\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[pjbench.encoders]\nchroma = pjbench_chroma:ChromaEncoder\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("pjbench_chroma", None)


def test_entry_point_plugin_is_listed_loaded_and_validated(installed_plugin):
    assert available()["chroma"].target == "pjbench_chroma:ChromaEncoder"
    enc = load_encoder("chroma")
    assert (
        enc.meta.name == "chroma" and enc.meta.dim == 12 and enc.meta.frames(7.5) == 7.5 * 22050 // 512
    )  # its framing, declared as a dict
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "encoders"])
    assert "chroma" in listed.output
    checked = runner.invoke(app, ["validate-encoder", "chroma"])
    assert checked.exit_code == 0, checked.output


def test_plugin_extracts_into_the_cache(installed_plugin, tiny, tmp_path):
    from pjbench.datasets.base import Dataset
    from pjbench.extraction.extract import ExtractConfig, extract

    ds = Dataset("plugin-check", tiny.recordings[:3], ())
    report = extract(ds, load_encoder("chroma"), ExtractConfig(), cache_root=tmp_path, progress=False)
    assert report.extracted == 3 and "chroma-" in report.cache_path.name


def test_module_object_reference_and_errors(installed_plugin):
    assert load_encoder("pjbench_chroma:ChromaEncoder").meta.name == "chroma"
    with pytest.raises(ValueError, match="cannot import"):
        load_encoder("no_such_module:Thing")
    with pytest.raises(ValueError, match="has no attribute"):
        load_encoder("pjbench_chroma:Nothing")


def test_an_out_of_tree_plugin_is_probed_under_the_name_it_was_extracted_with(tiny, tmp_path, monkeypatch):
    """`--encoder mymod:factory` on PYTHONPATH (no entry point): extract, then probe with the same string, and with the
    encoder's own name; the board shows it by its own name."""
    from typer.testing import CliRunner

    from pjbench.cli import app
    from tests.test_boards import PLUGIN  # an out-of-tree module: written where only PYTHONPATH finds it

    (tmp_path / "lab_encoders.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    runner = CliRunner()
    common = ["--dataset", str(tiny.root), "--cache-dir", str(tmp_path / "cache")]
    r = runner.invoke(app, ["extract", "--encoder", "lab_encoders:factory", *common])
    assert r.exit_code == 0, r.output
    probe = ["probe", *common, "-t", "difficulty-3way", "--head", "linear", "--seeds", "1", "--epochs", "1", "--no-baselines"]
    for name in ("lab_encoders:factory", "lab-loudness"):
        r = runner.invoke(app, [*probe, "--encoder", name, "--results-dir", str(tmp_path / "results")])
        assert r.exit_code == 0, r.output
        assert "difficulty-3way linear-custom" in r.output and "| lab-loudness |" in r.output
    assert list((tmp_path / "results" / tiny.name / "lab-loudness").glob("difficulty-3way.linear-*.json"))
    r = runner.invoke(app, [*probe, "--encoder", "lab_encoders:other", "--results-dir", str(tmp_path / "results")])
    assert r.exit_code == 1 and "no lab_encoders:other cache" in r.output
