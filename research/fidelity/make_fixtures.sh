#!/usr/bin/env bash
# Rebuild the fidelity fixtures (tests/fixtures/fidelity/) from the original implementations, in throwaway
# environments under $FIDELITY_WORK (default /tmp/pjbench-fidelity); nothing here is installed into pjbench's .venv.
#
#   AUDIOMAE_SRC=path/to/AudioMAE JUKEBOX_SRC=path/to/jukebox bash research/fidelity/make_fixtures.sh
#
# AUDIOMAE_SRC: a checkout of https://github.com/facebookresearch/AudioMAE (fixtures made at bd60e29)
# JUKEBOX_SRC:  a checkout of https://github.com/openai/jukebox (fixtures made at 08efbbc)
# MERT_SRC (optional): a folder with modeling_MERT.py and configuration_MERT.py of a m-a-p/MERT-v1 snapshot; without
#   it the MERT fixtures come from transformers 4.x's HubertModel, which MERT-v1's MERTModel is built from.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK=${FIDELITY_WORK:-/tmp/pjbench-fidelity}
mkdir -p "$WORK"
pip_q() { "$1"/bin/pip install -q --disable-pip-version-check "${@:2}" 2>&1 | grep -v "^WARNING: Location" || true; }

# MERT: transformers 4.x (what MERT's remote code and the published study ran); torch's CPU build first
[ -x "$WORK/hf4/bin/python" ] || python3 -m venv "$WORK/hf4"
pip_q "$WORK/hf4" "torch==2.13.0"
pip_q "$WORK/hf4" "transformers==4.46.3" "numpy<2.3"
(cd "$HERE" && "$WORK/hf4/bin/python" reference_mert.py ${MERT_SRC:+--mert-src "$MERT_SRC"})

# Audio-MAE: timm 0.4.12 without its requirements (they pull a CUDA torch and torchvision); timm imports torchvision
# for image transforms the ViT never uses, so a stand-in module is put on the path for this run only
[ -x "$WORK/vit/bin/python" ] || python3 -m venv "$WORK/vit"
pip_q "$WORK/vit" "torch==2.13.0"
pip_q "$WORK/vit" --no-deps "timm==0.4.12"
pip_q "$WORK/vit" pillow numpy
SHIM="$WORK/shim"
mkdir -p "$SHIM/torchvision/transforms"
STUB='class _Any:
    def __init__(self, *a, **k): pass
    def __getattr__(self, name): return _Any()
    def __call__(self, *a, **k): return _Any()
def __getattr__(name):
    if name.startswith("__"): raise AttributeError(name)
    return _Any
'
for f in torchvision/__init__.py torchvision/transforms/__init__.py torchvision/transforms/functional.py; do
    printf '%s' "$STUB" > "$SHIM/$f"
done
# Kaldi's fbank as torchaudio computes it: compliance/kaldi.py from the torchaudio wheel (its compiled extension has
# no build for torch 2.13; the fbank is plain torch)
if [ ! -f "$WORK/kaldi/torchaudio/compliance/kaldi.py" ]; then
    "$WORK/vit/bin/pip" download -q --no-deps "torchaudio==2.9.1" -d "$WORK/wheels"
    python3 -m zipfile -e "$WORK"/wheels/torchaudio-2.9.1-*.whl "$WORK/kaldi"
fi
(cd "$HERE" && PYTHONPATH="$SHIM" "$WORK/vit/bin/python" reference_audiomae.py "${AUDIOMAE_SRC:?set AUDIOMAE_SRC}" "$WORK/kaldi/torchaudio/compliance/kaldi.py")

# Jukebox: its VQ-VAE encoder needs torch only
(cd "$HERE" && "$WORK/vit/bin/python" reference_jukebox.py "${JUKEBOX_SRC:?set JUKEBOX_SRC}")

# DAC: descript-audio-codec's own modules from its wheel, without its requirements (audiotools pulls a torchaudio that
# no release builds for torch 2.13; the encoder needs only torch and einops)
pip_q "$WORK/vit" einops tqdm
if [ ! -d "$WORK/dac/dac" ]; then
    "$WORK/vit/bin/pip" download -q --no-deps "descript-audio-codec==1.0.0" -d "$WORK/wheels"
    python3 -m zipfile -e "$WORK"/wheels/descript_audio_codec-1.0.0-*.whl "$WORK/dac"
fi
(cd "$HERE" && "$WORK/vit/bin/python" reference_dac.py "$WORK/dac")

# MusiCNN: its own TensorFlow 1 graph under tf.compat.v1 (TensorFlow 2.15 is the last with a Python 3.11 CPU wheel
# that keeps tf.compat.v1.layers); numpy < 2 as in its era (numpy 2 changes the extractor's float16 arithmetic)
[ -x "$WORK/tf/bin/python" ] || python3.11 -m venv "$WORK/tf"
pip_q "$WORK/tf" "tensorflow-cpu==2.15.1" "numpy<2" "librosa==0.11.0" soundfile
pip_q "$WORK/tf" --no-deps "musicnn==0.1.0"
(cd "$HERE" && "$WORK/tf/bin/python" reference_musicnn.py)
