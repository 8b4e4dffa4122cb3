"""MERT-v1 (95M and 330M) through transformers' own ``HubertModel`` — no remote code.

MERT's checkpoints are HuBERT-shaped: ``MERTModel`` subclasses ``HubertModel`` with the same
module names, so its weights load strictly into ``HubertModel`` built from the same config.
Its extra config keys are handled here: ``attention_relax`` only rescales the attention
logits before the softmax and back (the same result), ``deepnorm`` and the CQT front end
(``feature_extractor_cqt``) are not used by MERT-v1 and are refused if set.

Input: 24 kHz mono, each segment normalised to zero mean and unit variance (MERT's
``Wav2Vec2FeatureExtractor`` with ``do_normalize``). Output: all hidden states, the CNN
projection plus every Transformer layer (13 for 95M, 25 for 330M), 75 frames/s
(a 10-s segment gives 749 frames, as the reference's 749 x 1024), in the order and with the values that
transformers 4.x gave MERT's own code: for the 330M model the last one after the encoder's final LayerNorm
(``hidden_states_as_published``; equal to the fixture made by transformers 4.x, tests/test_fidelity.py).
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import replace
from pathlib import Path

import torch

from .base import Framing
from .checkpoints import CheckpointError, load_state_dict, resolve_snapshot, strict_load
from .specs import BUILTIN


def hubert_config_from_mert(raw: dict):
    from transformers import HubertConfig

    if raw.get("feature_extractor_cqt"):
        raise CheckpointError("this MERT checkpoint uses the CQT front end (MERT-v0 style), which pjbench does not reproduce")
    if raw.get("deepnorm"):
        raise CheckpointError("this MERT checkpoint uses deepnorm residual scaling, which HubertModel does not reproduce")
    accepted = set(inspect.signature(HubertConfig.__init__).parameters)
    return HubertConfig(**{k: v for k, v in raw.items() if k in accepted and k not in ("architectures", "transformers_version")})


def modernize_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Published MERT files store the weight-normalised positional convolution as ``weight_g``/``weight_v``;
    current torch names them ``parametrizations.weight.original0``/``original1``."""
    renames = {"conv.weight_g": "conv.parametrizations.weight.original0", "conv.weight_v": "conv.parametrizations.weight.original1"}
    out = {}
    for key, value in state.items():
        for old, new in renames.items():
            if key.endswith(old):
                key = key[: -len(old)] + new
        out[key] = value
    return out


class MertEncoder:
    def __init__(self, checkpoint: str | None = None, model_id: str = "m-a-p/MERT-v1-330M", name: str = "mert") -> None:
        from transformers import HubertModel

        folder = resolve_snapshot(checkpoint, model_id)
        raw = json.loads((folder / "config.json").read_text())
        config = hubert_config_from_mert(raw)
        self.model = HubertModel(config).eval()
        strict_load(self.model, modernize_keys(load_state_dict(folder)), str(folder))
        pre_path = folder / "preprocessor_config.json"
        pre = json.loads(pre_path.read_text()) if pre_path.exists() else {}
        self.normalize = bool(pre.get("do_normalize", True))
        sample_rate = int(pre.get("sampling_rate", raw.get("sample_rate", 24000)))
        hop = 1
        for s in config.conv_stride:
            hop *= s
        revision = folder.name if re.fullmatch(r"[0-9a-f]{40}", folder.name) else f"local:{Path(folder).name}"
        spec = BUILTIN[name].meta
        assert spec is not None
        self.meta = replace(
            spec,
            revision=revision,
            sample_rate=sample_rate,
            frame_rate=sample_rate / hop,
            dim=config.hidden_size,
            n_layers=config.num_hidden_layers + 1,
            description=f"MERT-v1 ({config.num_hidden_layers} layers, {config.hidden_size}-d) via transformers HubertModel",
            options={"model_id": model_id, "normalize": self.normalize},
            framing=Framing(convs=tuple(zip(config.conv_kernel, config.conv_stride))),
        )

    def to(self, device: torch.device) -> MertEncoder:
        self.model.to(device)
        return self

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        x = audio.float()
        if self.normalize:  # per segment, as Wav2Vec2FeatureExtractor(do_normalize=True)
            x = (x - x.mean(dim=1, keepdim=True)) / torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + 1e-7)
        out = self.model(x, output_hidden_states=True)
        return torch.stack(hidden_states_as_published(out), dim=1)  # (batch, layers, frames, dim)


def hidden_states_as_published(out) -> list[torch.Tensor]:
    """The hidden states as transformers 4.x returned them, which MERT's own code and the published study used.

    With ``do_stable_layer_norm`` (MERT-v1-330M) the encoder ends in a LayerNorm: transformers 4.x stored its output
    as the last hidden state, transformers 5 stores the last block's output before it (the normed one is only in
    ``last_hidden_state``). Taking ``last_hidden_state`` as the last entry is right under both, and for the 95M model
    (no final LayerNorm after the blocks) it is the same tensor."""
    return [*out.hidden_states[:-1], out.last_hidden_state]


def mert_330m(checkpoint: str | None = None) -> MertEncoder:
    return MertEncoder(checkpoint, "m-a-p/MERT-v1-330M", "mert")


def mert_95m(checkpoint: str | None = None) -> MertEncoder:
    return MertEncoder(checkpoint, "m-a-p/MERT-v1-95M", "mert-95m")
