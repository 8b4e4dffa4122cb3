"""Peak memory of decoding one long recording for extraction: the whole file, or only the part the segments keep
(issue 17, item 12). Writes a FLAC of the given length (noise at 44.1 kHz, in blocks), then decodes it in a fresh
process each way and reports the peak resident memory.

    python benchmarks/long_file_decode.py --minutes 60
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

CHILD = """
import resource, sys
from pjbench.audio import load_audio
from pjbench.extraction.extract import kept_samples
from pjbench.extraction.segments import SegmentConfig, segment
rate = 24000
kept = kept_samples(SegmentConfig(), rate) if sys.argv[2] == "kept" else None
audio = load_audio(sys.argv[1], rate, kept)
segment(audio, rate, SegmentConfig())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        rng = np.random.default_rng(0)
        with sf.SoundFile(path, "w", samplerate=44100, channels=2, format="FLAC") as fh:
            for _ in range(int(args.minutes)):
                fh.write((0.05 * rng.standard_normal((44100 * 60, 2))).astype(np.float32))
        for mode in ("whole", "kept"):
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, check=True)
            print(
                f"{args.minutes:.0f}-minute stereo FLAC, decoded {mode:5s} for mel (24 kHz, 30 x 10 s kept): peak RSS {float(out.stdout.split()[-1]):.0f} MiB"
            )


if __name__ == "__main__":
    main()
