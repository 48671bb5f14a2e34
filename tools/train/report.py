#!/usr/bin/env python3
"""Writes the demo model's measured tables next to it: MODELS/results.md (markdown, what
docs/demo-model.md quotes) and MODELS/results.json, from what run_all.sh measured.

    report.py --models models/demo --evaluate out/train/evaluate.json --ood out/train/ood.json \
        --times out/train/wall_times.txt --train-dir out/train [--moeseg .build/release/moeseg]
Sizes and FLOPs come from the files themselves (`moeseg inspect` when the binary exists)."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np

DOMAINS = ("highway", "urban", "ambiguous", "combined", "all")
# The MI moeseg publishes per variant (UNCERTAINTY.md §2): weighted for a simple gate, stacked for a
# classwise gate, the members' MI for the ensemble and the MC-dropout baseline.
PUBLISHED_MI = {"moe-simple": "MI weighted", "moe-simple-conv": "MI weighted", "moe-classwise": "MI stacked",
                "moe-classwise-conv": "MI stacked", "ensemble": "MI", "baseline-mc": "MI"}


def inspect_flops(moeseg: str, path: Path) -> float | None:
    """GFLOPs per frame as `moeseg inspect` prints them, or None without the binary."""
    if not os.access(moeseg, os.X_OK):
        return None
    out = subprocess.run([moeseg, "inspect", str(path)], capture_output=True, text=True).stdout
    match = re.search(r"FLOPs per frame: ([0-9.]+) G", out)
    return float(match.group(1)) if match else None


def distribution(values: list[float]) -> str:
    v = np.asarray(values)
    return f"{v.mean():.3f} ({np.percentile(v, 10):.3f} / {np.percentile(v, 50):.3f} / {np.percentile(v, 90):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--evaluate", type=Path, required=True)
    parser.add_argument("--ood", type=Path, required=True)
    parser.add_argument("--times", type=Path, required=True)
    parser.add_argument("--train-dir", type=Path, required=True)
    parser.add_argument("--moeseg", default=os.environ.get("MOESEG", ".build/release/moeseg"))
    args = parser.parse_args()

    evaluation = json.loads(args.evaluate.read_text())
    ood = json.loads(args.ood.read_text())
    lines: list[str] = []
    result: dict = {}

    # Files: size and cost.
    files = sorted(p for p in args.models.rglob("*.onnx"))
    total = sum(p.stat().st_size for p in args.models.rglob("*") if p.is_file())
    lines += ["## Files", "", "| file | size (KB) | GFLOPs per 512x256 frame (`moeseg inspect`) |", "|---|---:|---:|"]
    result["files"] = {}
    for path in files:
        flops = inspect_flops(args.moeseg, path)
        rel = path.relative_to(args.models).as_posix()
        result["files"][rel] = {"bytes": path.stat().st_size, "gflops": flops}
        lines.append(f"| {rel} | {path.stat().st_size / 1024:.0f} | {'' if flops is None else f'{flops:.3f}'} |")
    lines += ["", f"Total size of {args.models}: {total / 1e6:.2f} MB.", ""]
    result["total_bytes"] = total

    # Training: wall times and validation mIoU.
    lines += ["## Training (fixed seeds; wall times on the shared 2-core machine)", "",
              "| stage | wall time (s) |", "|---|---:|"]
    result["wall_times"] = {}
    for line in args.times.read_text().splitlines():
        name, seconds = line.split()[0], int(line.split()[1])
        result["wall_times"][name] = seconds
        lines.append(f"| {name} | {seconds} |")
    lines += ["", "| network | steps | training time (s) | val mIoU |", "|---|---:|---:|---|"]
    result["training"] = {}
    for log_path in sorted(args.train_dir.glob("*/log.json")):
        log = json.loads(log_path.read_text())
        name = log_path.parent.name
        steps = log["args"].get("steps")
        val = log["val_miou"]
        val_text = f"{val:.3f}" if isinstance(val, float) else ", ".join(f"{k} {v:.3f}" for k, v in val.items())
        result["training"][name] = {"steps": steps, "train_seconds": log["train_seconds"], "val_miou": val}
        lines.append(f"| {name} | {steps} | {log['train_seconds']:.0f} | {val_text} |")
    lines.append("")

    # Test mIoU.
    lines += ["## Test mIoU (held-out test drives, 6 per domain, every 10th frame; classes 0-13, unknown/ignore skipped)", "",
              "| model | highway | urban | ambiguous | combined (highway + urban) | all three | mean gate weights [highway expert, urban expert]: highway / urban / ambiguous frames |",
              "|---|---:|---:|---:|---:|---:|---|"]
    result["miou"] = {}
    for name, by_domain in evaluation.items():
        result["miou"][name] = {d: round(by_domain[d]["miou"], 4) for d in DOMAINS}
        gates = " / ".join(str(by_domain[d]["gate_mean"]) for d in ("highway", "urban", "ambiguous")
                           if "gate_mean" in by_domain[d])
        lines.append(f"| {name} | " + " | ".join(f"{by_domain[d]['miou']:.3f}" for d in DOMAINS) + f" | {gates} |")
    lines.append("")

    # OOD: frame-level AUROCs and distributions.
    frames = ood["frames_per_domain"]
    lines += [f"## Out of distribution: ambiguous test frames ({frames['ambiguous']}) vs highway + urban "
              f"({frames['highway']} + {frames['urban']})", "",
              "Frame AUROC of the frame-mean score; pixel AUROC: unknown-object pixels vs known-class pixels "
              "on the ambiguous frames. **Published MI** = the MI moeseg publishes for that variant.", "",
              "| model | score | frame AUROC | pixel AUROC |", "|---|---|---:|---:|"]
    result["auroc"] = ood["auroc"]
    for name, scores in ood["auroc"].items():
        for key, value in scores.items():
            published = " (**published MI**)" if PUBLISHED_MI.get(name) == key else ""
            pixel = "" if value["pixel"] is None else f"{value['pixel']:.3f}"
            lines.append(f"| {name} | {key}{published} | {value['frame']:.3f} | {pixel} |")
    lines += ["", "Per-frame score distributions: mean (10th / 50th / 90th percentile), MI and PE normalised by ln C, "
              "gate entropy by ln E.", "",
              "| model | frame score | highway | urban | ambiguous |", "|---|---|---|---|---|"]
    result["distributions"] = {}
    for name, scores in ood["frame_scores"].items():
        for key, by_domain in scores.items():
            if "MI" not in key and "gate" not in key:
                continue
            result["distributions"].setdefault(name, {})[key] = {
                d: {"mean": float(np.mean(v)), "p10": float(np.percentile(v, 10)), "p50": float(np.median(v)),
                    "p90": float(np.percentile(v, 90))} for d, v in by_domain.items()}
            lines.append(f"| {name} | {key} | " + " | ".join(distribution(by_domain[d])
                                                              for d in ("highway", "urban", "ambiguous")) + " |")
    lines.append("")

    text = "# Measured: the committed demo model\n\nWritten by `tools/train/report.py` (the last step of " \
           "`tools/train/run_all.sh`); see docs/demo-model.md.\n\n" + "\n".join(lines)
    (args.models / "results.md").write_text(text)
    (args.models / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
