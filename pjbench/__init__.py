"""pjbench: a benchmark toolkit for piano performance understanding."""

__version__ = "0.1.0"
