#!/usr/bin/env python3
"""STAND-IN FOR TESTING THE SCRIPTS ONLY, not part of moeseg: mimics the command-line contract of
`moeseg infer` and `moeseg bench` with onnxruntime underneath, so tools/check_engine.py and
tools/bench/compare_ort.py can be exercised before the real engine exists.

    fake_moeseg.py infer --model M --input X [--input NAME=X ...] --output-dir D [--threads N]
    fake_moeseg.py bench --model M --threads N --iterations R --warmup W --json [--input X]

FAKE_MOESEG_PERTURB=<relative noise> adds noise to infer's outputs (to see check_engine fail)."""

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def session(model: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def feeds_for(sess: ort.InferenceSession, inputs: list[str]) -> dict[str, np.ndarray]:
    names = [i.name for i in sess.get_inputs()]
    if not inputs:
        shape = sess.get_inputs()[0].shape
        return {names[0]: np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    if len(inputs) == 1 and "=" not in inputs[0]:
        return {names[0]: np.load(inputs[0])}
    return {name: np.load(path) for name, path in (item.split("=", 1) for item in inputs)}


def infer(args) -> int:
    sess = session(args.model, args.threads or 1)
    outputs = sess.run(None, feeds_for(sess, args.input))
    noise = float(os.environ.get("FAKE_MOESEG_PERTURB", "0"))
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for meta, value in zip(sess.get_outputs(), outputs):
        value = value.astype(np.float32)
        if noise:
            value = value + (noise * np.abs(value).max() * rng.standard_normal(value.shape)).astype(np.float32)
        np.save(out_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", meta.name) + ".npy"), np.ascontiguousarray(value))
    return 0


def bench(args) -> int:
    started = time.perf_counter()
    sess = session(args.model, args.threads)
    load_ms = (time.perf_counter() - started) * 1000
    feeds = feeds_for(sess, args.input)
    for _ in range(args.warmup):
        sess.run(None, feeds)
    samples = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        samples.append((time.perf_counter() - t0) * 1000)
    ordered = sorted(samples)
    result = {
        "median_ms": float(np.median(samples)),
        "p90_ms": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "min_ms": ordered[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": args.threads,
        "load_ms": load_ms,
        "samples_ms": samples,
    }
    print(json.dumps(result))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("infer")
    p.add_argument("--model", required=True)
    p.add_argument("--input", action="append", default=[])
    p.add_argument("--output-dir", required=True)
    p.add_argument("--threads", type=int)
    p = commands.add_parser("bench")
    p.add_argument("--model", required=True)
    p.add_argument("--input", action="append", default=[])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return infer(args) if args.command == "infer" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
