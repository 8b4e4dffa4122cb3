"""The package's version, in a module of its own: every layer may import it without importing the package's
``__init__`` (which hands out the Python API)."""

__version__ = "0.1.0"
