"""Extraction: audio -> 10-second segments -> encoder -> HDF5 cache (resumable, sharded), and the shortcut
baselines' feature caches."""
