"""The built-in encoders' static specs: what each one is, known without loading any weights.

A spec is the single source of an encoder's metadata: `pjbench list encoders` shows it on a machine without the
weights, and each adapter builds its loaded metadata from it (filling in what only the checkpoint knows: the
revision, and the sizes of the model actually loaded), so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from .base import EncoderMeta, Framing


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    target: str  # "module:factory", imported only when the encoder is used
    meta: EncoderMeta | None  # None: a plugin's metadata, known once it is loaded
    weights: str = ""  # where the weights come from
    package: str = ""  # the Python package whose files hold the weights (found, not imported)
    hub_model: str = ""  # the Hugging Face model id whose local cache holds them

    def weights_here(self) -> str:
        """Whether this machine has the weights, without loading (nor downloading) anything: "yes", or what to do."""
        if self.meta is None:
            return "plugin"
        if self.package:
            import importlib.util

            return "yes" if importlib.util.find_spec(self.package) is not None else f"no: pip install the {self.package} package"
        if self.hub_model:
            try:
                from huggingface_hub import try_to_load_from_cache

                cached = try_to_load_from_cache(self.hub_model, "config.json")
            except Exception:  # an unreadable cache reads as no cache
                cached = None
            return "yes" if isinstance(cached, str) else "no: --checkpoint DIR, or fill the Hugging Face cache"
        if self.weights.startswith("none"):
            return "yes (none needed)"
        return "with --checkpoint FILE"

    def frames(self, seconds: float) -> int:
        """Frames of a segment of ``seconds`` with the published model."""
        if self.meta is None:
            raise ValueError(f"encoder {self.name} is a plugin: its frame count is known once it is loaded")
        return self.meta.frames(seconds)


# HuBERT-style feature extractor of MERT-v1 (conv_kernel, conv_stride of its config): 320 samples per frame
MERT_CONVS: tuple[tuple[int, int], ...] = ((10, 5), (3, 2), (3, 2), (3, 2), (3, 2), (2, 2), (2, 2))

BUILTIN: dict[str, EncoderSpec] = {
    spec.name: spec
    for spec in (
        EncoderSpec(
            "mel",
            "pjbench.encoders.mel:MelEncoder",
            EncoderMeta(
                "mel", "1", 24000, 150.0, 128, 1, "n/a", (), "128-band mel spectrogram (log), n_fft 400, hop 160", framing=Framing("floor")
            ),
            "none (signal processing)",
        ),
        EncoderSpec(
            "basicpitch",
            "pjbench.encoders.basicpitch:BasicPitchEncoder",
            EncoderMeta(
                "basicpitch",
                "0.4.0-icassp2022",
                22050,
                86.0,
                440,
                1,
                "Apache-2.0",
                ("GuitarSet", "iKala", "MAESTRO", "MedleyDB-Pitch", "Slakh"),
                "basic-pitch note, onset and contour posteriorgrams (ONNX)",
                framing=Framing("floor"),
            ),
            "inside the basic-pitch package (ONNX)",
            package="basic_pitch",
        ),
        EncoderSpec(
            "transkun",
            "pjbench.encoders.transkun:TranskunEncoder",
            EncoderMeta(
                "transkun",
                "2.0",
                44100,
                44100 / 8192,
                512,
                7,
                "MIT",
                ("MAESTRO v3",),
                "Transkun 2.0 piano transcriber's transformer (6 layers): per frame the mean spectral and mean pitch token",
                framing=Framing("ceil"),  # ceil(samples / 8192): frames centred past the segment's end are dropped
            ),
            "inside the transkun package (pip install --no-deps transkun==2.0.1)",
            package="transkun",
        ),
        *(
            EncoderSpec(
                name,
                f"pjbench.encoders.musicnn:{name.replace('-', '_')}",
                EncoderMeta(
                    name,
                    f"musicnn-0.1.0/{data}_vgg",
                    16000,
                    16000 / (256 * 32),
                    128,
                    5,
                    "ISC",
                    (corpus,),
                    f"MusiCNN's VGG tagger trained on {corpus} (5 conv blocks, 128-d): per 3-s patch every 0.512 s, each block pooled",
                    # a centred STFT (1 + samples // 256 mel frames), then 187-frame patches every 32 frames
                    framing=Framing(convs=((0, 256), (187, 32))),
                ),
                "inside the musicnn package (pip install --no-deps musicnn==0.1.0)",
                package="musicnn",
            )
            for name, data, corpus in (("vgg-msd", "MSD", "Million Song Dataset"), ("vgg-mtt", "MTT", "MagnaTagATune"))
        ),
        *(
            EncoderSpec(
                name,
                f"pjbench.encoders.musicnn:{name.replace('-', '_')}",
                EncoderMeta(
                    name,
                    f"musicnn-0.1.0/{data}_musicnn",
                    16000,
                    16000 / (256 * 32),
                    2459,
                    6,
                    "ISC",
                    (corpus,),
                    f"MusiCNN (musically motivated front end, 3 mid-end blocks, 200-d back end) trained on {corpus}: per 3-s "
                    "patch every 0.512 s, layers of 561, 64, 64, 64, 1506 and 200 values side by side",
                    framing=Framing(convs=((0, 256), (187, 32))),
                    layer_dims=(561, 64, 64, 64, 1506, 200),
                ),
                "inside the musicnn package (pip install --no-deps musicnn==0.1.0)",
                package="musicnn",
            )
            for name, data, corpus in (("musicnn-msd", "MSD", "Million Song Dataset"), ("musicnn-mtt", "MTT", "MagnaTagATune"))
        ),
        EncoderSpec(
            "mert",
            "pjbench.encoders.mert:mert_330m",
            EncoderMeta(
                "mert",
                "m-a-p/MERT-v1-330M",
                24000,
                75.0,
                1024,
                25,
                "CC-BY-NC-4.0",
                ("MERT-v1 music corpus (160k h)",),
                "MERT-v1-330M (24 layers, 1024-d) via transformers HubertModel",
                framing=Framing(convs=MERT_CONVS),
            ),
            "Hugging Face m-a-p/MERT-v1-330M (cache or --checkpoint)",
            hub_model="m-a-p/MERT-v1-330M",
        ),
        EncoderSpec(
            "mert-95m",
            "pjbench.encoders.mert:mert_95m",
            EncoderMeta(
                "mert-95m",
                "m-a-p/MERT-v1-95M",
                24000,
                75.0,
                768,
                13,
                "CC-BY-NC-4.0",
                ("MERT-v1 music corpus (20k h)",),
                "MERT-v1-95M (12 layers, 768-d) via transformers HubertModel",
                framing=Framing(convs=MERT_CONVS),
            ),
            "Hugging Face m-a-p/MERT-v1-95M (cache or --checkpoint)",
            hub_model="m-a-p/MERT-v1-95M",
        ),
        EncoderSpec(
            "dac",
            "pjbench.encoders.dac:DacEncoder",
            EncoderMeta(
                "dac",
                "descript/dac_44khz",
                44100,
                44100 / 512,
                1024,
                1,
                "MIT",
                ("DAPS", "DNS Challenge", "Common Voice", "VCTK", "MUSDB", "Jamendo", "AudioSet"),
                "DAC 44 kHz, z (1024-d), whole-segment encoding, via transformers DacModel",
                framing=Framing("ceil"),  # the input is right-padded to a multiple of the hop
            ),
            "Hugging Face descript/dac_44khz, or descript's .pth (--checkpoint)",
            hub_model="descript/dac_44khz",
        ),
        EncoderSpec(
            "audiomae",
            "pjbench.encoders.audiomae:AudioMaeEncoder",
            EncoderMeta(
                "audiomae",
                "finetuned:finetuned.pth",
                16000,
                51.2,
                768,
                13,
                "CC-BY-4.0 (Audio-MAE weights)",
                ("AudioSet-2M",),
                "Audio-MAE ViT-B/16 (finetuned) patch tokens (64 time x 8 frequency), via transformers ViTModel; "
                "stereo averaged to mono (the reference took the left channel)",
                options={"weights": "finetuned", "reference": False},
                framing=Framing(fixed=512, max_seconds=10.24),  # a 1024-frame fbank: shorter input is padded
            ),
            "the official finetuned.pth, the study's (--checkpoint; -o weights=pretrained for pretrained.pth)",
        ),
        EncoderSpec(
            "jukebox",
            "pjbench.encoders.jukebox:JukeboxEncoder",
            EncoderMeta(
                "jukebox",
                "5b vqvae.pth.tar",
                44100,
                44100 / 128,
                64,
                1,
                "Noncommercial Use License (Jukebox weights)",
                ("Jukebox 1.2M songs",),
                "Jukebox 5b VQ-VAE level-2 encoder output before quantisation (hop 128), each recording peak-normalised",
                options={"level": 2, "file_peak": 1.0},
                framing=Framing("floor"),  # strided convs (kernel 2s, stride s, padding s/2) halve the length exactly
            ),
            "Jukebox's own vqvae.pth.tar (--checkpoint)",
        ),
    )
}
