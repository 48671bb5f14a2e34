#!/usr/bin/env python3
"""Reference PSNR of the imagecorruptions package (1.1.2) on a fixed set of moeseg frames.

Writes Tests/Fixtures/corruptions/reference_psnr.json: for each of the 19 corruptions and
severities 1-5, the mean PSNR (dB) of the corrupted frame against the clean one, over the
frames in Tests/Fixtures/corruptions/frames.npy and, for the random corruptions, several
seeds per frame. EvaluationTests compares moeseg's Swift corruptions with it (within 1.5 dB).

The frames are rendered once with `moeseg synth` (two urban and two highway frames at
256x128) and committed; pass --render to make them again (needs a built moeseg).

Needs tools/requirements-eval.txt (its own Python 3.10 venv, see there). Offline only.

Usage: .venv-eval/bin/python tools/eval/corruption_reference.py [--render] [--moeseg PATH]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "corruptions"
# (domain, synth seed, frame index): two scenes of each training domain, apart in time.
FRAME_SOURCES = [("urban", 1, 20), ("urban", 1, 100), ("highway", 1, 20), ("highway", 1, 100)]
SIZE = "256x128"
# Corruptions whose output depends on numpy's random state (or, for impulse_noise, on
# skimage's own unseeded generator); the others are deterministic functions of the frame.
RANDOM = {"gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "glass_blur",
          "motion_blur", "snow", "frost", "fog", "elastic_transform", "spatter"}
# Seeds per frame where the default does not fit: glass_blur shuffles pixels in a Python loop
# (~1 s a call) and varies little from seed to seed; frost (one of five photographs) and spatter
# (a few large drops) vary by several dB, so their means need many more samples.
SEEDS = {"glass_blur": 10, "frost": 100, "spatter": 50}


def render_frames(moeseg):
    from PIL import Image
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for domain, seed, index in FRAME_SOURCES:
            out = Path(tmp) / f"{domain}-{seed}"
            if not out.exists():
                out.mkdir()
                subprocess.run([moeseg, "synth", "--domain", domain, "--seed", str(seed),
                                "--frames", str(max(i for d, s, i in FRAME_SOURCES if (d, s) == (domain, seed)) + 1),
                                "--size", SIZE, "--png-dir", str(out)], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            frames.append(np.array(Image.open(out / f"frame_{index:06d}.png").convert("RGB")))
    return np.stack(frames).astype(np.uint8)


def psnr(corrupted, clean):
    mse = np.mean((corrupted.astype(np.float64) - clean.astype(np.float64)) ** 2)
    if mse == 0:
        raise SystemExit("a corruption left a frame unchanged: PSNR is infinite")
    return 10 * np.log10(255.0 ** 2 / mse)


def versions():
    import cv2
    import PIL
    import scipy
    import skimage
    from PIL import features
    import importlib.metadata as md
    return {"imagecorruptions": md.version("imagecorruptions"), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-image": skimage.__version__, "opencv": cv2.__version__, "Pillow": PIL.__version__,
            "libjpeg-turbo": str(features.version("libjpeg_turbo")), "python": sys.version.split()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render", action="store_true", help="re-render frames.npy with moeseg synth")
    parser.add_argument("--moeseg", default=str(ROOT / ".build" / "debug" / "moeseg"))
    parser.add_argument("--seeds", type=int, default=25,
                        help="seeds per frame for the random corruptions (except those in SEEDS)")
    parser.add_argument("--out", default=str(FIXTURES / "reference_psnr.json"))
    args = parser.parse_args()

    warnings.filterwarnings("ignore")  # the package's deprecated scipy/skimage/pkg_resources calls
    from imagecorruptions import corrupt, get_corruption_names

    frames_path = FIXTURES / "frames.npy"
    if args.render or not frames_path.exists():
        FIXTURES.mkdir(parents=True, exist_ok=True)
        np.save(frames_path, render_frames(args.moeseg))
        print(f"wrote {frames_path.relative_to(ROOT)}")
    frames = np.load(frames_path)
    assert frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[3] == 3, frames.shape

    names = get_corruption_names("all")
    assert set(RANDOM) <= set(names)
    result = {
        "source": "tools/eval/corruption_reference.py",
        "versions": versions(),
        "frames": {"file": "frames.npy", "shape": list(frames.shape),
                   "sources": [f"moeseg synth --domain {d} --seed {s} --size {SIZE}, frame {i}"
                               for d, s, i in FRAME_SOURCES]},
        "psnr": "10 log10(255^2 / MSE) of imagecorruptions.corrupt(frame) (uint8) against the frame, all channels",
        "seeds_per_frame": {n: (SEEDS.get(n, args.seeds) if n in RANDOM else 1) for n in names},
        "seed_rule": "np.random.seed(1000 * seed + frame) before each call, seed in 0..<seeds_per_frame",
        "random": sorted(RANDOM),
        "mean_psnr_db": {},
        "std_psnr_db": {},
    }
    for name in names:
        started = time.time()
        seeds = result["seeds_per_frame"][name]
        means, stds = [], []
        for severity in range(1, 6):
            values = []
            for index, frame in enumerate(frames):
                for seed in range(seeds):
                    np.random.seed(1000 * seed + index)
                    values.append(psnr(corrupt(frame, severity=severity, corruption_name=name), frame))
            means.append(round(float(np.mean(values)), 4))
            stds.append(round(float(np.std(values)), 4))
        result["mean_psnr_db"][name] = means
        result["std_psnr_db"][name] = stds
        print(f"{name:18s} " + " ".join(f"{m:6.2f}" for m in means) + f"   ({time.time() - started:.1f} s)", flush=True)

    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {Path(args.out).resolve().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
