"""`python -m pjbench ...`: the same command line as `pjbench ...`."""

from pjbench.cli import app

app(prog_name="pjbench")
