"""pjbench: a benchmark toolkit for piano performance understanding."""

from .version import __version__

__all__ = ["__version__"]
