#!/usr/bin/env python3
"""Byte-level comparison of moeseg's deterministic corruptions with imagecorruptions 1.1.2.

The random corruptions are compared statistically (the PSNR test); the eight that use no
random numbers should give the package's bytes. This prints, per corruption and severity,
how many of the fixture frames' samples differ and by how much at most.

Needs tools/requirements-eval.txt. Usage:
  mkdir -p /tmp/corrupted && MOESEG_CORRUPTION_DUMP_DIR=/tmp/corrupted swift test --filter dumpCorruptedFrames
  .venv-eval/bin/python tools/eval/compare_outputs.py /tmp/corrupted
"""
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DETERMINISTIC = ["defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate", "jpeg_compression",
                 "gaussian_blur", "saturate"]


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    from imagecorruptions import corrupt
    frames = np.load(ROOT / "Tests/Fixtures/corruptions/frames.npy")
    print(f"differing samples of {frames.size} (max |difference|), severities 1-5")
    for name in DETERMINISTIC:
        cells = []
        for severity in range(1, 6):
            swift = np.load(Path(sys.argv[1]) / f"{name}_{severity}.npy").astype(int)
            package = np.stack([corrupt(f, severity=severity, corruption_name=name) for f in frames]).astype(int)
            difference = np.abs(swift - package)
            cells.append(f"{int((difference != 0).sum())} ({int(difference.max())})")
        print(f"{name:17s} " + "  ".join(f"{c:>8s}" for c in cells))


if __name__ == "__main__":
    main()
