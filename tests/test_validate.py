import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.encoders import load_encoder
from pjbench.encoders.validate import validate_encoder


def _failed(name: str) -> set[str]:
    return {c.name for c in validate_encoder(load_encoder(name)) if not c.passed}


def test_mel_passes_every_check():
    assert _failed("mel") == set()
    assert _failed("mel:MelEncoder".replace("mel:", "pjbench.encoders.mel:")) == set()  # named as a plugin would be


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("example_encoders:WrongShape", {"output shape"}),
        ("example_encoders:BatchDependent", {"batch invariance"}),
        ("example_encoders:NaNOnSilence", {"silence", "very short input"}),
    ],
)
def test_broken_encoders_fail_the_right_checks(target, expected):
    assert _failed(target) >= expected
    assert "deterministic" not in _failed(target)


def test_cli_exit_codes():
    runner = CliRunner()
    assert runner.invoke(app, ["validate-encoder", "mel"]).exit_code == 0
    result = runner.invoke(app, ["validate-encoder", "example_encoders:WrongShape"])
    assert result.exit_code == 1 and "FAIL" in result.output
