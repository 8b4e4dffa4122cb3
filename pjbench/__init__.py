"""pjbench: a benchmark toolkit for piano performance understanding.

The Python API (``pjbench.get_dataset``, ``pjbench.extract``, ``pjbench.probe``, ``pjbench.leaderboard`` ...) is
:mod:`pjbench.api`, handed out here on first use: ``import pjbench`` stays light (no torch) until a function is called.
"""

from typing import Any

from .version import __version__


def __getattr__(name: str) -> Any:
    if not name.startswith("_") and name != "api":  # `api` itself is found by the import system, not here
        import importlib

        api = importlib.import_module(".api", __name__)
        if name in api.__all__:
            return getattr(api, name)
    raise AttributeError(f"module 'pjbench' has no attribute {name!r}")


__all__ = ["__version__"]
