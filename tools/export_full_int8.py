#!/usr/bin/env python3
"""Quantizes the full-size fp32 exports of tools/export_full.py (out/models/<name>/) into
out/models/<name>_int8/: onnxruntime quantize_static, QDQ, per-channel s8 weights, u8
activations, MinMax on 8 deterministic synthetic images of the input shape (fixture_io.
synthetic_image, the distribution the exports' input.npy and BatchNorm statistics come from).

Each <name>_int8/ holds model.onnx (quantized), input.npy (copied), float_model.onnx (a symlink
to ../<name>/model.onnx), expected/<output>.npy (onnxruntime on the quantized model) and
quant.json (what case.json would say, plus the format). No case.json on purpose:
check_engine.py out/models keeps checking the fp32 models only; the int8 ones are checked by

    .venv/bin/python tools/check_quant.py out/models/<name>_int8 [--threads 2]
    .venv/bin/python tools/bench/compare_ort.py --pair out/models/<name>/model.onnx:out/models/<name>_int8

No torch needed (numpy, onnx, onnxruntime). Deterministic.

    .venv/bin/python tools/export_full.py && .venv/bin/python tools/export_full_int8.py
    .venv/bin/python tools/export_full_int8.py lraspp_mobilenet_v3_large      # a subset"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import onnx

import fixture_io
import quant_common

REPO = Path(__file__).resolve().parent.parent
CALIBRATION_IMAGES = 8


def quantize_one(source: Path, target: Path) -> None:
    started = time.perf_counter()
    _, feeds, description = fixture_io.load_case(source)
    (name, image), = feeds.items()
    rng = np.random.default_rng(zlib.crc32(f"{source.name}/calibration".encode()))
    calibration = [{name: fixture_io.synthetic_image(image.shape, rng)} for _ in range(CALIBRATION_IMAGES)]
    if target.exists():
        shutil.rmtree(target)
    (target / "expected").mkdir(parents=True)
    quant_common.quantize(source / "model.onnx", target / "model.onnx", calibration, fmt="qdq", activation="u8",
                          per_channel=True)
    shutil.copyfile(source / "input.npy", target / "input.npy")
    (target / "float_model.onnx").symlink_to(Path("..") / source.name / "model.onnx")
    int8 = fixture_io.run_reference(target / "model.onnx", feeds)
    for output, value in int8.items():
        np.save(target / "expected" / f"{fixture_io.sanitize(output)}.npy", value)
    quantized = onnx.load(str(target / "model.onnx"))
    quant = {"source": f"tools/export_full_int8.py: {source.name} quantized by onnxruntime quantize_static, QDQ, "
                       f"per-channel s8 weights, u8 activations, MinMax on {CALIBRATION_IMAGES} synthetic images",
             "outputs": list(int8), "argmax_axis": description.get("argmax_axis"),
             "format": "qdq", "activation_type": "u8", "weight_type": "s8", "per_channel": True}
    if "argmax_outputs" in description:
        quant["argmax_outputs"] = description["argmax_outputs"]
    (target / "quant.json").write_text(json.dumps(quant, indent=2) + "\n")

    print(f"{target.name}: {(target / 'model.onnx').stat().st_size / 2**20:.1f} MiB "
          f"(fp32 {(source / 'model.onnx').stat().st_size / 2**20:.1f}), {time.perf_counter() - started:.0f} s; ops: "
          f"{quant_common.format_histogram(quant_common.op_histogram(quantized))}")
    for output, value in int8.items():
        reference = np.load(source / "expected" / f"{fixture_io.sanitize(output)}.npy")
        error = quant_common.max_abs(value, reference)
        line = f"    {output}: max|int8-fp32| {error:.3g} ({error / float(np.abs(reference).max()):.1%} of max|fp32|)"
        if fixture_io.argmax_applies(quant, output, value):
            line += f", argmax agreement int8/fp32 {quant_common.argmax_agreement(value, reference):.2%}"
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help="models under --root (default: every fp32 one)")
    parser.add_argument("--root", type=Path, default=REPO / "out" / "models", help="(default: %(default)s)")
    args = parser.parse_args()
    names = args.names or sorted(p.name for p in args.root.iterdir()
                                 if (p / "case.json").is_file() and not p.name.endswith("_int8"))
    missing = [n for n in names if not (args.root / n / "case.json").is_file()]
    if missing:
        parser.error(f"no fp32 export for {missing} under {args.root}; run tools/export_full.py first")
    for name in names:
        quantize_one(args.root / name, args.root / f"{name}_int8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
