#!/usr/bin/env python3
"""Markdown table of moeseg's corruption PSNRs against imagecorruptions' (docs/evaluation.md).

The Swift side comes from the PSNR test, which writes one JSON file per corruption when
MOESEG_PSNR_TABLE_DIR is set; the package side from Tests/Fixtures/corruptions/reference_psnr.json.
Plain Python (no third-party packages).

Usage:
  mkdir -p /tmp/psnr && MOESEG_PSNR_TABLE_DIR=/tmp/psnr swift test --filter CorruptionPSNRTests
  python3 tools/eval/psnr_table.py /tmp/psnr
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    measured_dir = Path(sys.argv[1])
    reference = json.loads((ROOT / "Tests/Fixtures/corruptions/reference_psnr.json").read_text())
    names = list(reference["mean_psnr_db"])
    print("| corruption | " + " | ".join(f"s{s} Swift / package" for s in range(1, 6)) + " | worst \\|Δ\\| |")
    print("|---|" + "---|" * 6)
    worst_all = 0.0
    for name in names:
        path = measured_dir / f"{name}.json"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run the PSNR test with MOESEG_PSNR_TABLE_DIR={measured_dir}")
        swift = json.loads(path.read_text())["mean_psnr_db"]
        package = reference["mean_psnr_db"][name]
        deltas = [abs(a - b) for a, b in zip(swift, package)]
        worst_all = max(worst_all, max(deltas))
        cells = [f"{a:.2f} / {b:.2f}" for a, b in zip(swift, package)]
        print(f"| {name} | " + " | ".join(cells) + f" | {max(deltas):.2f} |")
    print(f"\nworst |Δ| over all 95 pairs: {worst_all:.2f} dB", file=sys.stderr)


if __name__ == "__main__":
    main()
