#!/usr/bin/env python3
"""Cross-checks fixture references against an independent ONNX implementation: onnx's own numpy
ReferenceEvaluator must reproduce every expected/*.npy (written by onnxruntime) to within
--tolerance x max|expected| (default 1e-5, ten times tighter than the engine's bound). Catches a
stale or corrupt fixture and onnxruntime quirks before they become the engine's "truth".

    python tools/verify_fixtures.py [Tests/Fixtures/engine | CASE_DIR ...]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from onnx.reference import ReferenceEvaluator

import fixture_io

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "engine"


def verify(case_dir: Path, tolerance: float) -> tuple[bool, str]:
    model, feeds, description = fixture_io.load_case(case_dir)
    try:
        outputs = ReferenceEvaluator(str(model)).run(None, feeds)
    except Exception as error:  # the evaluator raises many kinds; one line is what matters here
        return False, f"FAIL {case_dir.name}: reference evaluator failed: {str(error).splitlines()[0][:160]}"
    worst = 0.0
    for name, value in zip(description["outputs"], outputs):
        expected = np.load(case_dir / "expected" / f"{fixture_io.sanitize(name)}.npy")
        if value.shape != expected.shape:
            return False, f"FAIL {case_dir.name}/{name}: shape {list(value.shape)} vs expected {list(expected.shape)}"
        scale = max(float(np.abs(expected).max()), 1e-30)
        relative = float(np.abs(value.astype(np.float64) - expected).max()) / scale
        if relative > tolerance:
            return False, f"FAIL {case_dir.name}/{name}: {relative:.2e} x max|expected| > {tolerance:g}"
        worst = max(worst, relative)
    return True, f"ok   {case_dir.name}: {len(outputs)} output(s), worst {worst:.1e} x max|expected|"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", type=Path, default=[DEFAULT_ROOT])
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    passed = failed = 0
    for target in args.targets:
        cases = [target] if (target / "case.json").is_file() else \
            sorted(p for p in target.iterdir() if (p / "case.json").is_file())
        for case_dir in cases:
            ok, line = verify(case_dir, args.tolerance)
            print(line, flush=True)
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
