"""Datasets: the embedded synthetic set, the published benchmarks (PLD, CIPI, ICPC-2015, PISA) read from the
user's copy, and a user's CSV manifest. The registry (:mod:`pjbench.datasets.registry`) has one entry each."""

from __future__ import annotations

from .base import Dataset, Recording
from .registry import DATASETS, DatasetSpec, load_dataset

__all__ = ["DATASETS", "Dataset", "DatasetSpec", "Recording", "load_dataset"]
