#!/usr/bin/env python3
"""Cross-checks the int8 fixtures' expected outputs (onnxruntime) against onnx's numpy
ReferenceEvaluator, which runs the QDQ graph literally (DequantizeLinear -> float op ->
QuantizeLinear, round half to even), to show where onnxruntime's fused int8 kernels differ from
the ONNX semantics. Informational: prints, per output, the share of elements that differ and the
largest difference in units of the output's quantization scale; always exits 0 unless a case
cannot be read.

The evaluator convolves dequantized floats; onnxruntime accumulates in int32 and requantizes
rint(float32(acc) * float32(s_x * s_w / s_y)), so near-ties can round differently by one unit.

QOperator cases with com.microsoft ops are skipped (the evaluator has none). The evaluator only
implements DequantizeLinear from opset 19, so the ai.onnx opset of the copy it runs is raised to
19 (the QDQ ops it uses mean the same there).

    .venv/bin/python tools/verify_quant.py                       # Tests/Fixtures/quant/*
    .venv/bin/python tools/verify_quant.py Tests/Fixtures/quant/block_qdq_u8"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

import fixture_io
import quant_common

ROOT = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "quant"


def verify(case_dir: Path) -> str:
    model_path, feeds, description = fixture_io.load_case(case_dir)
    model = onnx.load(model_path)
    contrib = sorted({n.op_type for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    if contrib:
        return f"{case_dir.name}: skipped ({', '.join(contrib)} not in the reference evaluator)"
    scales = quant_common.output_scales(model)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = max(opset.version, 19)
    values = ReferenceEvaluator(model).run(None, feeds)
    parts = []
    for name, value in zip(description["outputs"], values):
        expected = np.load(case_dir / "expected" / f"{fixture_io.sanitize(name)}.npy")
        difference = np.abs(expected.astype(np.float64) - np.asarray(value, dtype=np.float32))
        unit = scales.get(name)
        largest = f"{difference.max() / unit:.0f} scale(s)" if unit else f"{difference.max():.2g}"
        parts.append(f"{name} {(difference > 0).mean():.2%} differ, max {largest}")
    return f"{case_dir.name}: " + "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", type=Path, help=f"case directories (default: every one in {ROOT})")
    args = parser.parse_args()
    cases = args.cases or sorted(p for p in ROOT.iterdir() if (p / "case.json").is_file())
    for case_dir in cases:
        print(verify(case_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
