"""pjbench: a benchmark toolkit for piano performance understanding.

The Python API (``pjbench.get_dataset``, ``pjbench.extract``, ``pjbench.probe``, ``pjbench.leaderboard`` ...) is
:mod:`pjbench.api`, handed out here on first use: ``import pjbench`` stays light (no torch) until a function is called.
"""

from typing import Any

from .version import __version__

_API = (
    "UsageError",
    "compare_folder",
    "compare_results",
    "demo",
    "extract",
    "find_cache",
    "get_dataset",
    "get_encoder",
    "get_heads",
    "get_tasks",
    "leaderboard",
    "leaderboard_pages",
    "pisa",
    "probe",
    "probe_baselines",
    "rerun",
    "transfer",
)


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'pjbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*_API, "__version__", "api"])


__all__ = ["__version__", *_API]
