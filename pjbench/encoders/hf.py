"""Any Hugging Face transformers audio model as an encoder, by id or folder (``--encoder hf:ID_OR_FOLDER``), offline.

The model is found in a local folder or an already filled Hugging Face cache (never downloaded), loaded with
``AutoFeatureExtractor`` and ``AutoModel`` (``trust_remote_code`` only when asked), every weight of the architecture
required from the checkpoint. Its hidden states are the layers. Frames, by family:

- a convolutional feature encoder (wav2vec2, HuBERT, WavLM, data2vec-audio, ...: ``conv_kernel``/``conv_stride`` in
  the config): one frame per hidden state, the stack's exact count for any length;
- Whisper's encoder: the input is padded to 30 s; the frames that cover the segment are kept (mel frames
  ``samples // hop``, halved by the strided convolution, rounding up);
- the Audio Spectrogram Transformer: the patch grid (frequency x time) is averaged over frequency, one frame per time
  patch; the time patches that cover the segment are kept (the model's input holds at most ``max_length`` fbank
  frames: longer segments are refused).

The frame count is checked on the model itself at load (5 and 10 s: the tokens it returns must match the formula),
and the frame rate measured from it is recorded. The metadata carry the model id, the revision and a digest of the
weights files, so two checkpoints never share a cache or a board row.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import EncoderMeta, Framing
from .checkpoints import CheckpointError, weights_digest

SPEC_PREFIX = "hf:"
CHECK_SECONDS = (5.0, 10.0)


def resolve_model(ref: str, revision: str | None = None) -> tuple[Path, str]:
    """(folder, revision) of ``ref``: a local folder, or a model id in the Hugging Face cache (offline only)."""
    folder = Path(ref).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise CheckpointError(f"{folder}: no config.json (a folder written by save_pretrained, or a hub snapshot)")
        return folder, f"local:{folder.resolve().name}"
    if ref.startswith((".", "/", "~")) or ref.count("/") > 1:
        raise CheckpointError(f"hf:{ref}: no such folder")
    try:
        from huggingface_hub import snapshot_download

        snapshot = Path(snapshot_download(ref, revision=revision, local_files_only=True))
    except Exception as err:  # the hub raises several error types for "not cached"
        raise CheckpointError(
            f"hf:{ref}: no local copy of this model{f' at revision {revision}' if revision else ''}; give its folder "
            f"(hf:/path/to/model, as written by save_pretrained or downloaded) or fill the Hugging Face cache first "
            f"(`huggingface-cli download {ref}` on a machine with network)"
        ) from err
    return snapshot, snapshot.name if re.fullmatch(r"[0-9a-f]{40}", snapshot.name) else (revision or "cached")


def _weights_sha(folder: Path) -> str:
    files = {p.name: p for p in sorted(folder.iterdir()) if p.suffix in (".safetensors", ".bin") and p.is_file()}
    if not files:
        raise CheckpointError(f"{folder}: no weights file (model.safetensors or pytorch_model.bin)")
    digests = {name: d for path in files.values() for name, d in weights_digest(path).items()}
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def _load_strictly(folder: Path, trust_remote_code: bool) -> Any:
    from transformers import AutoModel

    try:
        model, info = AutoModel.from_pretrained(
            folder, local_files_only=True, trust_remote_code=trust_remote_code, output_loading_info=True
        )
    except ValueError as err:
        if "trust_remote_code" in str(err):
            raise CheckpointError(f"{folder}: this model runs its own code; add -o trust_remote_code=true if you trust it") from None
        raise CheckpointError(f"{folder}: transformers cannot load this model ({err})") from None
    missing = [k for k in info.get("missing_keys") or () if "decoder" not in k]  # Whisper's decoder is not used
    mismatched = list(info.get("mismatched_keys") or ())
    if missing or mismatched:
        raise CheckpointError(
            f"{folder}: the checkpoint does not fill the architecture: missing {sorted(missing)[:6]}, mismatched {mismatched[:3]}"
        )
    return model.eval()


class HFEncoder:
    def __init__(self, ref: str, revision: str | None = None, trust_remote_code: bool | str = False) -> None:
        from transformers import AutoFeatureExtractor

        trust = str(trust_remote_code).lower() in ("1", "true", "yes")
        self.device = torch.device("cpu")
        folder, resolved = resolve_model(ref, revision)
        try:
            self.extractor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True, trust_remote_code=trust)
        except (OSError, ValueError) as err:
            raise CheckpointError(f"{folder}: no usable feature extractor (preprocessor_config.json): {err}") from None
        self.model = _load_strictly(folder, trust)
        self.config = self.model.config
        self.family = self._family()
        sample_rate = int(self.extractor.sampling_rate)
        framing, frame_rate = self._framing(sample_rate)
        digest = _weights_sha(folder)
        model_id = ref if not Path(ref).expanduser().is_dir() else str(Path(ref).expanduser().resolve())
        short = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(ref).name if Path(ref).expanduser().is_dir() else ref.replace("/", "--"))
        n_layers = len(self._hidden_states(torch.zeros(1, int(CHECK_SECONDS[0] * sample_rate))))
        self.meta = EncoderMeta(
            name=f"hf-{short}-{digest[:8]}",
            revision=f"{resolved}#{digest[:16]}",
            sample_rate=sample_rate,
            frame_rate=frame_rate,
            dim=int(self._width()),
            n_layers=n_layers,
            licence="see the model card",
            description=f"{type(self.model).__name__} ({self.config.model_type}) from {model_id} via transformers, every hidden state",
            options={"model": model_id, "revision": resolved, "weights_sha256": digest, "family": self.family, "trust_remote_code": trust},
            framing=framing,
        )
        self._check_frames()

    def _family(self) -> str:
        kind = self.config.model_type
        if kind == "whisper":
            return "whisper"
        if kind == "audio-spectrogram-transformer":
            return "ast"
        if getattr(self.config, "conv_stride", None) and getattr(self.config, "conv_kernel", None):
            return "conv"
        raise CheckpointError(
            f"hf: model type {kind!r} is not one pjbench can frame yet (convolutional feature encoders such as wav2vec2 or "
            "HuBERT, Whisper's encoder, the Audio Spectrogram Transformer); a `module:factory` plugin serves any model"
        )

    def _width(self) -> int:
        return int(getattr(self.config, "d_model", None) or self.config.hidden_size)

    def _framing(self, sample_rate: int) -> tuple[Framing, float]:
        if self.family == "conv":
            convs = tuple(zip(self.config.conv_kernel, self.config.conv_stride))
            hop = int(np.prod(self.config.conv_stride))
            return Framing(convs=convs), sample_rate / hop
        if self.family == "whisper":
            hop = int(self.extractor.hop_length)
            return Framing(convs=((hop, hop), (1, 2))), sample_rate / (2 * hop)  # mel frames n // hop, then ceil(m / 2)
        # AST: kaldi fbank (25 ms windows every 10 ms), then time patches of patch_size frames every time_stride
        window, shift = int(0.025 * sample_rate), int(0.010 * sample_rate)
        stride = int(self.config.time_stride)
        return Framing(convs=((window, shift), (int(self.config.patch_size), stride))), sample_rate / (shift * stride)

    def _check_frames(self) -> None:
        """The framing against the model itself at 5 and 10 s: a convolutional encoder's own token count; for the padded
        inputs (Whisper, AST), the frames the feature extractor marks as real (Whisper's attention mask, halved) and
        enough tokens to hold them. A family rule that does not fit this model is refused here, not discovered later."""
        for seconds in CHECK_SECONDS:
            n = int(seconds * self.meta.sample_rate)
            want = self.meta.frames(seconds)
            with torch.inference_mode():
                tokens = self._hidden_states(torch.zeros(1, n))[-1]
            got = (self._ast_frames(tokens) if self.family == "ast" else tokens).shape[1]
            ok = got == want if self.family == "conv" else got >= want
            if self.family == "whisper":
                marked = self.extractor([np.zeros(n, np.float32)], sampling_rate=self.meta.sample_rate, return_attention_mask=True)
                ok = ok and (int(marked["attention_mask"].sum()) + 1) // 2 == want
            if not ok:
                raise CheckpointError(
                    f"hf: {self.meta.options['model']} gives {got} frames for {seconds:g} s where its framing says {want}"
                )

    def to(self, device: torch.device | str) -> HFEncoder:
        self.model.to(device)
        self.device = torch.device(device)
        return self

    def _inputs(self, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        arrays = [a for a in audio.detach().cpu().float().numpy()]
        kwargs: dict[str, Any] = {"sampling_rate": self.extractor.sampling_rate, "return_tensors": "pt"}
        if self.family == "conv":
            kwargs["padding"] = True
        out = self.extractor(arrays, **kwargs)
        return {k: v.to(self.device) for k, v in out.items() if k in ("input_values", "input_features")}

    def _hidden_states(self, audio: torch.Tensor) -> tuple[torch.Tensor, ...]:
        inputs = self._inputs(audio)
        if self.family == "whisper":
            return self.model.encoder(**inputs, output_hidden_states=True).hidden_states
        return self.model(**inputs, output_hidden_states=True).hidden_states

    @torch.inference_mode()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) -> (batch, layers, frames, width)."""
        n_samples = audio.shape[-1]
        frames = self.meta.frames(n_samples / self.meta.sample_rate) if hasattr(self, "meta") else None
        states = self._hidden_states(audio)
        if self.family == "ast":
            limit = int(self.extractor.max_length)
            if (n_samples - int(0.025 * self.extractor.sampling_rate)) // int(0.010 * self.extractor.sampling_rate) + 1 > limit:
                raise ValueError(
                    f"{self.meta.options['model']}: segments longer than its input ({limit} fbank frames); use --segment-seconds 10 or less"
                )
            states = tuple(self._ast_frames(h) for h in states)
        stacked = torch.stack(states, dim=1)  # (batch, layers, tokens, width)
        return stacked if frames is None else stacked[:, :, :frames]

    def _ast_frames(self, hidden: torch.Tensor) -> torch.Tensor:
        """Tokens (2 summary tokens, then the patch grid frequency-major) -> time frames, averaged over frequency."""
        f_dim, t_dim = self.model.embeddings.get_shape(self.config)
        grid = hidden[:, -f_dim * t_dim :].reshape(hidden.shape[0], f_dim, t_dim, hidden.shape[-1])
        return grid.mean(dim=1)


def hf_encoder(model: str, revision: str | None = None, trust_remote_code: bool | str = False) -> HFEncoder:
    return HFEncoder(model, revision, trust_remote_code)
