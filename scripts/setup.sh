#!/usr/bin/env bash
# Set up pjbench on a fresh Debian/Ubuntu machine: system packages, a virtual environment
# in .venv with the CPU build of torch, and pjbench itself (editable, with dev tools).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libfluidsynth3 fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch first, pinned to the CPU build: a plain `torch` requirement would pull a CUDA build of several GB
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/pip install -q --disable-pip-version-check -e ".[dev,pretrained,cluster]" 2>&1 | grep -v "^WARNING: Location" || true
# basic-pitch ships its pretrained model as ONNX; --no-deps keeps TensorFlow (and a numpy downgrade) out
.venv/bin/pip install -q --disable-pip-version-check --no-deps "basic-pitch==0.4.0" 2>&1 | grep -v "^WARNING: Location" || true
# transkun ships its weights in its wheel (51 MB); --no-deps keeps torchaudio out (no release loads beside the CPU
# torch 2.13, and it breaks transformers' imports): pjbench builds the network itself and needs none of its requirements
.venv/bin/pip install -q --disable-pip-version-check --no-deps "transkun==2.0.1" 2>&1 | grep -v "^WARNING: Location" || true
# musicnn ships four trained taggers as TensorFlow checkpoints in its wheel (29 MB); --no-deps keeps TensorFlow out:
# pjbench reads the checkpoints itself (pjbench/encoders/tf_checkpoint.py) and never imports the package
.venv/bin/pip install -q --disable-pip-version-check --no-deps "musicnn==0.1.0" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, pjbench; print('pjbench', pjbench.__version__, 'torch', torch.__version__)"
