"""Probing: training the heads on cached embeddings: the configuration, the feeders that make the heads' inputs,
the training loop, one probe run, and the grid of many."""
