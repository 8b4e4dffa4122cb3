"""MusiCNN's own TensorFlow graph on fixed signals: the reference for pjbench's TensorFlow-free re-implementation
(pjbench/encoders/musicnn.py). Runs in a throwaway environment (make_fixtures.sh: tensorflow-cpu 2.15, numpy < 2,
librosa 0.11, and the musicnn 0.1.0 wheel installed without its requirements); pjbench is never imported.

For each of the wheel's four models (MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg) and each signal, the spectrogram
patches come from musicnn's own `extractor.batch_data` (librosa's mel, float16, log10(10000 x + 1), patches of 187
frames without overlap, as `extractor.extractor` calls it), and the graph is `models.define_model` restored from the
package's checkpoint with `tf.compat.v1.train.Saver`, as the extractor does; every tensor it returns is fetched for
all patches at once (the extractor's own loop over batches keeps the first batch's cnn1-3 for every later batch, a
bug of musicnn 0.1.0 that the fixture does not copy).

What is stored (tests/fixtures/fidelity/musicnn/outputs.npz), per model and case: the input patches; the tags; the
per-patch layers as they are (mean_pool, max_pool, penultimate; vgg's pool5); the per-frame layers (timbral, temporal,
cnn1-3; vgg's pool1-4, averaged over frequency first) as their mean and maximum over each patch's frames and as
every 16th frame (the fixture stays small: the frames in between are computed by the same code).

The "loud" case (mel bins up to about 49) shows how the original's log behaves: `10000 * x` of a float16 mel is
float32 under numpy 1.x's value-based casting (10000 does not fit float16), so no bin overflows here; under numpy 2
the same line stays float16 and overflows above 6.55 (inf). pjbench computes the log in float32 from the float16-rounded
mel, as the original did in its own environment; the case records that no bin overflowed.

    /tmp/tfenv/bin/python research/fidelity/reference_musicnn.py   (via make_fixtures.sh)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import tensorflow as tf
from common import signals, versions, write_fixture  # (common puts tests/ on the path: the signals)
from musicnn import configuration, extractor, models

MODELS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
N_FRAMES = 187  # 3 s: librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as the extractor computes it
EVERY = 16
SR = configuration.SR


def cases() -> dict[str, np.ndarray]:
    return {
        "chord": 0.25 * signals.chord(SR, 6.5),  # two patches
        "silence_then_noise": signals.silence_then_noise(SR, 3.5, 1.0) * 0.5,
        "quiet_then_loud": signals.quiet_then_loud(SR, 7.0) * 0.25,
        "loud": signals.chord(SR, 3.2) * 2.0,  # mel bins up to about 49: above float16's 65504 / 10000
    }


def run_model(model: str, batch: np.ndarray) -> dict[str, np.ndarray]:
    labels = configuration.MTT_LABELS if "MTT" in model else configuration.MSD_LABELS
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, configuration.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        out = models.define_model(x, is_training, model, len(labels))
    names = (
        ("logits", "pool1", "pool2", "pool3", "pool4", "pool5")
        if "vgg" in model
        else ("logits", "timbral", "temporal", "cnn1", "cnn2", "cnn3", "mean_pool", "max_pool", "penultimate")
    )
    fetch = dict(zip(names, out))
    fetch["tags"] = tf.nn.sigmoid(fetch["logits"])
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, os.path.dirname(extractor.__file__) + "/" + model + "/")
        values = sess.run(fetch, feed_dict={x: batch, is_training: False})
    return {k: np.asarray(v) for k, v in values.items()}


def reduce(model: str, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the fixture keeps of one model's outputs (see the module)."""
    out = {"tags": values["tags"]}
    if "vgg" in model:
        per_frame = {f"pool{k}": values[f"pool{k}"].mean(axis=2) for k in range(1, 5)}  # (P, T', F', C) -> (P, T', C)
        out["pool5"] = values["pool5"].reshape(len(values["pool5"]), -1)
    else:
        per_frame = {
            k: np.squeeze(values[k], axis=-1) if values[k].ndim == 4 else values[k] for k in ("timbral", "temporal", "cnn1", "cnn2", "cnn3")
        }
        out.update({k: values[k] for k in ("mean_pool", "max_pool", "penultimate")})
    for name, frames in per_frame.items():
        out[f"{name}.mean"] = frames.mean(axis=1)
        out[f"{name}.max"] = frames.max(axis=1)
        out[f"{name}.every{EVERY}"] = frames[:, ::EVERY]
    return out


def main() -> None:
    outputs: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for case, signal in cases().items():
            path = str(Path(scratch) / f"{case}.wav")
            sf.write(path, signal, SR, subtype="FLOAT")
            original, _ = extractor.batch_data(path, N_FRAMES, N_FRAMES)
            overflow = int(np.isinf(original).sum())
            batch = original.astype(np.float32)
            meta[case] = {
                "signal_sha256": signals.sha256(signal),
                "seconds": len(signal) / SR,
                "patches": int(len(batch)),
                "overflowed_bins_in_the_original": overflow,
            }
            outputs[f"{case}/input"] = batch
            for model in MODELS:
                for name, value in reduce(model, run_model(model, batch)).items():
                    outputs[f"{case}/{model}/{name}"] = value
    provenance = {
        "original": "musicnn 0.1.0 (PyPI wheel): musicnn/models.py define_model, musicnn/extractor.py batch_data, the four checkpoints",
        "versions": versions("tensorflow-cpu", "musicnn", "librosa", "numpy", "soundfile"),
        "n_frames": N_FRAMES,
        "every": EVERY,
        "cases": meta,
        "signals": "tests/fidelity_signals.py, scaled as cases() says; written as 32-bit float WAV and read by librosa.load",
    }
    write_fixture("musicnn", outputs, provenance)


if __name__ == "__main__":
    main()
