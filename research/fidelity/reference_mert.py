"""MERT-v1 fixtures from the original implementation: transformers 4.x, whose HubertModel classes MERT's own
``modeling_MERT.py`` builds on (MERT-v1 without the CQT front end or deepnorm is transformers' HuBERT feature
encoder, projection and encoder). With ``--mert-src DIR`` (the ``modeling_MERT.py`` and ``configuration_MERT.py`` of
a m-a-p/MERT-v1 snapshot) MERT's own ``MERTModel`` is used instead.

Run in the throwaway environment of research/fidelity/make_envs.sh (transformers 4.46.3): two tiny random models,
one shaped like MERT-v1-330M (pre-LN "stable layer norm" with a final LayerNorm, layer-normed conv features) and one
like MERT-v1-95M (post-LN, group norm), saved as the published files are (config.json with MERT's keys,
pytorch_model.bin with the positional convolution's weight norm as weight_g / weight_v); the outputs are
``hidden_states`` as MERT's documented usage gives them (Wav2Vec2FeatureExtractor with do_normalize, then
``model(**inputs, output_hidden_states=True)``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import torch
from common import FIXTURES, signals, versions, write_fixture

SEED = 20261204
BASE = {
    "architectures": ["MERTModel"],
    "model_type": "mert_model",
    "auto_map": {"AutoConfig": "configuration_MERT.MERTConfig", "AutoModel": "modeling_MERT.MERTModel"},
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": [16, 16, 16, 16, 16, 16, 16],
    "conv_stride": [5, 2, 2, 2, 2, 2, 2],
    "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "feature_extractor_cqt": False,
    "feature_extractor_cqt_bins": 336,
    "deepnorm": False,
    "sample_rate": 24000,
}
VARIANTS = {
    # MERT-v1-330M's settings: pre-LN blocks and a final LayerNorm, layer-normed convolutions with bias
    "mert-v1-330m-tiny": {"do_stable_layer_norm": True, "feat_extract_norm": "layer", "conv_bias": True, "attention_relax": 32.0},
    # MERT-v1-95M's: post-LN blocks, group norm in the first convolution
    "mert-v1-95m-tiny": {"do_stable_layer_norm": False, "feat_extract_norm": "group", "conv_bias": False, "attention_relax": -1.0},
}


def build(raw: dict, mert_src: Path | None) -> torch.nn.Module:
    import transformers

    if mert_src is None:
        keys = set(transformers.HubertConfig().to_dict())
        return transformers.HubertModel(transformers.HubertConfig(**{k: v for k, v in raw.items() if k in keys}))
    sys.path.insert(0, str(mert_src.parent))
    package = mert_src.name
    spec = importlib.util.spec_from_file_location(f"{package}.modeling_MERT", mert_src / "modeling_MERT.py")
    assert spec and spec.loader
    config_module = importlib.import_module(f"{package}.configuration_MERT")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MERTModel(config_module.MERTConfig(**raw))


def legacy_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The published files' names for the weight-normalised positional convolution."""
    renames = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}
    out = {}
    for key, value in state.items():
        for new, old in renames.items():
            key = key.replace(new, old)
        out[key] = value.contiguous()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mert-src", type=Path, help="folder with MERT's modeling_MERT.py and configuration_MERT.py")
    args = parser.parse_args()
    from transformers import Wav2Vec2FeatureExtractor

    inputs = {"chord": signals.chord(24000, 3.0), "silence_then_noise": signals.silence_then_noise(24000, 3.0, 1.0)}
    extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=24000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    for name, variant in VARIANTS.items():
        raw = {**BASE, **variant}
        torch.manual_seed(SEED)
        model = build(raw, args.mert_src).eval()
        with torch.no_grad():  # trained norms are not the identity: draw them, so that skipping one shows
            for module in model.modules():
                if isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
                    module.weight.normal_(1.0, 0.5)
                    module.bias.normal_(0.0, 0.5)
        folder = FIXTURES / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(raw, indent=2) + "\n")
        preprocessor = {"do_normalize": True, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1}
        preprocessor |= {"padding_side": "right", "padding_value": 0.0, "return_attention_mask": True, "sampling_rate": 24000}
        (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")
        torch.save(legacy_names(model.state_dict()), folder / "pytorch_model.bin")
        outputs = {}
        for signal_name, signal in inputs.items():
            batch = extractor(signal, sampling_rate=24000, return_tensors="pt")
            with torch.no_grad():
                states = model(**batch, output_hidden_states=True).hidden_states
            outputs[f"{signal_name}/hidden_states"] = torch.stack(states, dim=1)[0].numpy()
        write_fixture(
            name,
            outputs,
            {
                "original": "MERT's modeling_MERT.MERTModel"
                if args.mert_src
                else "transformers 4.x HubertModel (what MERT-v1's MERTModel builds on)",
                "call": "Wav2Vec2FeatureExtractor(do_normalize=True) then model(**inputs, output_hidden_states=True).hidden_states",
                "versions": versions("torch", "transformers", "numpy"),
                "seed": SEED,
                "norms_drawn": "every LayerNorm/GroupNorm weight ~ N(1, 0.5), bias ~ N(0, 0.5)",
                "signals": {
                    k: {"recipe": f"tests/fidelity_signals.py:{r}", "sha256": signals.sha256(v)}
                    for (k, v), r in zip(inputs.items(), ("chord(24000, 3.0)", "silence_then_noise(24000, 3.0, 1.0)"))
                },
                "tolerance": {"atol": 1e-4, "rtol": 1e-4},
            },
        )


if __name__ == "__main__":
    main()
