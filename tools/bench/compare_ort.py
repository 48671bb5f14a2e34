#!/usr/bin/env python3
"""Benchmarks moeseg against onnxruntime on the same ONNX files, input and thread counts.

For each MODEL (an .onnx file, or a fixture-layout directory holding model.onnx and input.npy)
and each thread count N (--threads, default 1 2), K rounds (--rounds) are interleaved; a round runs

  * a chunk of `moeseg bench --model M --threads N --iterations R --warmup W --json --input X`
    (moeseg prints one JSON object with median_ms, p90_ms, min_ms, peak_rss_mb, threads and
    samples_ms, the per-iteration times), and
  * R timed onnxruntime runs in each of two sessions (intra_op_num_threads=N,
    inter_op_num_threads=1, ORT_ENABLE_ALL, sequential): spinning on (ORT's default) and off
    (session.intra_op.allow_spinning=0), each warmed up W times once before the first round,

rotating which engine goes first. Every engine gets K x R measured runs (at least 20 by
default); the table gives medians and p90s over all of them and the ratios moeseg/ORT.

A quantized model is just another .onnx file. --pair FLOAT.onnx:QUANT (QUANT an .onnx file or a
fixture directory) benchmarks both on QUANT's input, as rows "<name> fp32" and "<name> int8" (<name>: QUANT's, less "_int8").

    python tools/bench/compare_ort.py out/models/lraspp_mobilenet_v3_large \\
        out/models/deeplabv3plus_mobilenetv2 --moeseg .build/release/moeseg --json bench.json
    python tools/bench/compare_ort.py --pair out/models/lraspp_mobilenet_v3_large/model.onnx:out/models/lraspp_mobilenet_v3_large_int8"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REQUIRED_KEYS = ("median_ms", "p90_ms", "min_ms", "peak_rss_mb", "threads", "samples_ms")


class BenchError(Exception):
    """A benchmark step failed; the message is one line."""


@dataclass
class Target:
    name: str
    model: Path
    input_name: str
    input_path: Path
    value: np.ndarray


@dataclass
class Result:
    model: str
    threads: int
    moeseg_ms: list[float] = field(default_factory=list)
    moeseg_peak_rss_mb: float | None = None
    moeseg_reported_medians: list[float] = field(default_factory=list)
    ort_spin_ms: list[float] = field(default_factory=list)
    ort_nospin_ms: list[float] = field(default_factory=list)


def percentile(samples: list[float], q: float) -> float | None:
    return float(np.percentile(samples, q)) if samples else None


def resolve_target(spec: str, input_override: Path | None, scratch: Path, seed: int) -> Target:
    path = Path(spec)
    if path.is_dir():
        model, default_input = path / "model.onnx", path / "input.npy"
        name = path.name
    else:
        model, default_input = path, None
        name = path.parent.name if path.name == "model.onnx" else path.stem
    if not model.is_file():
        raise BenchError(f"{spec}: no ONNX model at {model}")
    graph = onnx.load(str(model), load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise BenchError(f"{model}: {len(inputs)} graph inputs; the benchmark handles one")
    input_path = input_override or (default_input if default_input and default_input.is_file() else None)
    if input_path is not None:
        value = np.load(input_path)
    else:
        dims = [d.dim_value if d.HasField("dim_value") else 0 for d in inputs[0].type.tensor_type.shape.dim]
        if not dims or min(dims) <= 0:
            raise BenchError(f"{model}: input shape {dims} is not fixed; pass --input")
        value = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
        input_path = scratch / f"{name}_input.npy"
        np.save(input_path, value)
    if value.dtype != np.float32:
        raise BenchError(f"{input_path}: {value.dtype} input, expected float32")
    return Target(name, model, inputs[0].name, input_path, np.ascontiguousarray(value))


def ort_session(model: Path, threads: int, spinning: bool) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def time_ort(session: ort.InferenceSession, feeds: dict[str, np.ndarray], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feeds)
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def run_moeseg_chunk(command: list[str], target: Target, threads: int, iterations: int, warmup: int,
                     pass_input: bool, timeout: float) -> dict:
    arguments = command + ["bench", "--model", str(target.model), "--threads", str(threads),
                           "--iterations", str(iterations), "--warmup", str(warmup), "--json"]
    if pass_input:
        arguments += ["--input", str(target.input_path)]
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise BenchError(f"cannot run {command[0]}") from None
    except subprocess.TimeoutExpired:
        raise BenchError(f"moeseg bench timed out after {timeout:.0f} s") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BenchError(f"moeseg bench exited {result.returncode}: {lines[-1] if lines else '(no output)'}")
    return parse_moeseg_json(result.stdout, threads, iterations)


def parse_moeseg_json(stdout: str, threads: int, iterations: int) -> dict:
    """The one JSON object moeseg bench prints (the last non-empty line that parses as one)."""
    report = None
    for line in reversed(stdout.strip().splitlines()):
        try:
            candidate = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(candidate, dict):
            report = candidate
            break
    if report is None:
        try:
            report = json.loads(stdout)
        except json.JSONDecodeError:
            raise BenchError(f"moeseg bench printed no JSON object: {stdout.strip()[:200]!r}") from None
    missing = [k for k in REQUIRED_KEYS if k not in report]
    if missing:
        raise BenchError(f"moeseg bench JSON lacks {missing}")
    samples = report["samples_ms"]
    if not isinstance(samples, list) or not all(isinstance(s, (int, float)) for s in samples):
        raise BenchError("moeseg bench JSON: samples_ms is not a list of numbers")
    if len(samples) != iterations:
        raise BenchError(f"moeseg bench JSON: {len(samples)} samples for {iterations} iterations")
    if int(report["threads"]) != threads:
        raise BenchError(f"moeseg bench ran {report['threads']} threads, {threads} were asked for")
    return report


def benchmark(target: Target, threads: int, args, command: list[str] | None) -> Result:
    result = Result(target.name, threads)
    feeds = {target.input_name: target.value}
    sessions = {True: ort_session(target.model, threads, True), False: ort_session(target.model, threads, False)}
    for session in sessions.values():
        for _ in range(args.warmup):
            session.run(None, feeds)

    def moeseg_chunk() -> None:
        report = run_moeseg_chunk(command, target, threads, args.runs_per_round, args.warmup,
                                  not args.no_moeseg_input, args.timeout)
        result.moeseg_ms += [float(s) for s in report["samples_ms"]]
        result.moeseg_reported_medians.append(float(report["median_ms"]))
        rss = float(report["peak_rss_mb"])
        result.moeseg_peak_rss_mb = max(rss, result.moeseg_peak_rss_mb or 0.0)

    def ort_chunk(spinning: bool) -> None:
        samples = time_ort(sessions[spinning], feeds, args.runs_per_round)
        (result.ort_spin_ms if spinning else result.ort_nospin_ms).extend(samples)

    steps = [lambda: ort_chunk(True), lambda: ort_chunk(False)]
    if command is not None:
        steps.insert(0, moeseg_chunk)
    for round_index in range(args.rounds):
        shift = round_index % len(steps)
        for step in steps[shift:] + steps[:shift]:
            step()
            time.sleep(args.pause)  # let a spinning pool go idle before the next engine starts
    return result


def table_rows(results: list[Result]) -> list[dict]:
    rows = []
    for r in results:
        row = {
            "model": r.model, "threads": r.threads,
            "moeseg_median_ms": percentile(r.moeseg_ms, 50), "moeseg_p90_ms": percentile(r.moeseg_ms, 90),
            "ort_spin_median_ms": percentile(r.ort_spin_ms, 50), "ort_spin_p90_ms": percentile(r.ort_spin_ms, 90),
            "ort_nospin_median_ms": percentile(r.ort_nospin_ms, 50),
            "ort_nospin_p90_ms": percentile(r.ort_nospin_ms, 90),
            "moeseg_peak_rss_mb": r.moeseg_peak_rss_mb,
            "runs": {"moeseg": len(r.moeseg_ms), "ort_spin": len(r.ort_spin_ms), "ort_nospin": len(r.ort_nospin_ms)},
        }
        m = row["moeseg_median_ms"]
        row["ratio_vs_ort_nospin"] = m / row["ort_nospin_median_ms"] if m is not None else None
        row["ratio_vs_ort_spin"] = m / row["ort_spin_median_ms"] if m is not None else None
        row["samples_ms"] = {"moeseg": r.moeseg_ms, "ort_spin": r.ort_spin_ms, "ort_nospin": r.ort_nospin_ms}
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    def f(value, digits=2):
        return "-" if value is None else f"{value:.{digits}f}"

    header = ["model", "thr", "moeseg p50", "p90", "ORT spin p50", "p90", "ORT nospin p50", "p90",
              "moeseg/ORT nospin", "moeseg/ORT spin", "moeseg RSS MB"]
    lines = [[r["model"], str(r["threads"]), f(r["moeseg_median_ms"]), f(r["moeseg_p90_ms"]),
              f(r["ort_spin_median_ms"]), f(r["ort_spin_p90_ms"]), f(r["ort_nospin_median_ms"]),
              f(r["ort_nospin_p90_ms"]), f(r["ratio_vs_ort_nospin"], 2), f(r["ratio_vs_ort_spin"], 2),
              f(r["moeseg_peak_rss_mb"], 0)] for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    render = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([render(header), render(["-" * w for w in widths])] + [render(line) for line in lines])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", metavar="MODEL", help="ONNX file or fixture-layout directory")
    parser.add_argument("--pair", action="append", default=[], metavar="FLOAT.onnx:QUANT",
                        help="a float model and its quantized copy, on the same input (repeatable)")
    parser.add_argument("--input", type=Path, help="input .npy for every model (else the directory's input.npy, "
                                                   "else N(0,1) of the model's input shape)")
    parser.add_argument("--moeseg", default=".build/release/moeseg",
                        help="moeseg executable, or a command line split like a shell (default: %(default)s)")
    parser.add_argument("--ort-only", action="store_true", help="measure onnxruntime only (no moeseg)")
    parser.add_argument("--no-moeseg-input", action="store_true",
                        help="do not pass --input to moeseg bench (it then uses its own input)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds K (%(default)s)")
    parser.add_argument("--runs-per-round", type=int, default=5, help="measured runs per engine per round R "
                                                                       "(%(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs W (%(default)s)")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between chunks (%(default)s)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per moeseg chunk (%(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the table (and every sample) here as JSON")
    args = parser.parse_args()
    if args.rounds * args.runs_per_round < 20:
        print(f"warning: {args.rounds} x {args.runs_per_round} < 20 measured runs per engine", file=sys.stderr)
    if not args.models and not args.pair:
        parser.error("give at least one MODEL or --pair")
    if any(":" not in pair for pair in args.pair):
        parser.error("--pair takes FLOAT.onnx:QUANT")
    if min(args.threads) < 1 or args.rounds < 1 or args.runs_per_round < 1 or args.warmup < 0:
        parser.error("threads, rounds and runs per round must be positive, warm-up non-negative")

    command = None if args.ort_only else shlex.split(args.moeseg)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="compare_ort_") as scratch:
            targets = [resolve_target(m, args.input, Path(scratch), args.seed) for m in args.models]
            for pair in args.pair:
                float_spec, _, quant_spec = pair.rpartition(":")
                quant = resolve_target(quant_spec, args.input, Path(scratch), args.seed)
                floating = resolve_target(float_spec, quant.input_path, Path(scratch), args.seed)
                base = quant.name.removesuffix("_int8")
                floating.name, quant.name = f"{base} fp32", f"{base} int8"
                targets += [floating, quant]
            for target in targets:
                for threads in args.threads:
                    print(f"{target.name}, {threads} thread(s)...", file=sys.stderr, flush=True)
                    results.append(benchmark(target, threads, args, command))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    rows = table_rows(results)
    print(format_table(rows))
    if args.json:
        environment = {"onnxruntime": ort.__version__, "python": platform.python_version(),
                       "machine": platform.machine(), "cpus": os.cpu_count(), "rounds": args.rounds,
                       "runs_per_round": args.runs_per_round, "warmup": args.warmup,
                       "moeseg": None if command is None else args.moeseg}
        args.json.write_text(json.dumps({"environment": environment, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
