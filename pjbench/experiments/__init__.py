"""Experiments with a pipeline of their own, beyond probing cached segment embeddings (``pjbench probe``):
the ICPC-2015 transfer (``pjbench transfer``) and the PISA player level from video and audio (``pjbench pisa``),
with PISA's clip cache and video backbones. They train through the same loop and write the same result records."""
