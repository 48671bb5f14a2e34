#!/usr/bin/env python3
"""Checks moeseg's inference against onnxruntime.

TARGET may be
  * a fixture-layout case directory (model.onnx, input.npy, expected/, case.json),
  * a directory of such case directories (e.g. Tests/Fixtures/engine or out/models),
  * an ONNX file: the input comes from --input (else N(0,1) of the model's input shape) and the
    reference from onnxruntime (ORT_ENABLE_ALL, 1 thread), computed here.

For every case it runs `moeseg infer --model M --input X --output-dir D [--threads N]` (a graph
with several inputs gets one `--input NAME=PATH` per input) and compares every graph output:
max |moeseg - reference| <= 1e-4 x max|reference|, and for 4-D class-logit outputs (case.json
"argmax_axis", and "argmax_outputs" if present; every 4-D output of an ONNX-file target) the
per-pixel argmax agrees on >= 99.9 % of pixels. One line per output; exit status 1 if anything fails.

    python tools/check_engine.py Tests/Fixtures/engine
    python tools/check_engine.py out/models/deeplabv3plus_mobilenetv2 --threads 2
    python tools/check_engine.py my_model.onnx --input frame.npy --moeseg .build/release/moeseg"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

import fixture_io


@dataclass
class Case:
    name: str
    model: Path
    feeds: dict[str, np.ndarray]
    input_files: dict[str, Path]
    expected: dict[str, np.ndarray]
    description: dict


def load_fixture(case_dir: Path) -> Case:
    model, feeds, description = fixture_io.load_case(case_dir)
    files = fixture_io.input_file_names(list(feeds))
    expected = {name: np.load(case_dir / "expected" / f"{fixture_io.sanitize(name)}.npy")
                for name in description["outputs"]}
    return Case(case_dir.name, model, feeds, {n: case_dir / files[n] for n in feeds}, expected, description)


def load_onnx_file(model_path: Path, input_path: Path | None, scratch: Path, seed: int) -> Case:
    model = onnx.load(str(model_path), load_external_data=False)
    names = fixture_io.graph_inputs(model)
    if len(names) != 1:
        raise SystemExit(f"error: {model_path} has {len(names)} inputs; use a fixture-layout directory for it")
    if input_path is not None:
        value = np.load(input_path)
        if value.dtype != np.float32:
            raise SystemExit(f"error: {input_path} holds {value.dtype}, expected float32")
    else:
        graph_input = next(i for i in model.graph.input if i.name == names[0])
        dims = [d.dim_value if d.HasField("dim_value") else 0 for d in graph_input.type.tensor_type.shape.dim]
        if not dims or min(dims) <= 0:
            raise SystemExit(f"error: {model_path} input '{names[0]}' has no fixed shape {dims}; pass --input")
        value = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
        input_path = scratch / "input.npy"
        np.save(input_path, value)
    feeds = {names[0]: np.ascontiguousarray(value)}
    expected = fixture_io.run_reference(model_path, feeds)
    name = model_path.parent.name if model_path.name == "model.onnx" else model_path.stem
    return Case(name, model_path, feeds, {names[0]: input_path}, expected, {"argmax_axis": 1})


def discover(target: Path) -> list[Path]:
    """Case directories under `target` (itself, or its immediate children), sorted."""
    if (target / "case.json").is_file():
        return [target]
    cases = sorted(p for p in target.iterdir() if (p / "case.json").is_file())
    if not cases:
        raise SystemExit(f"error: {target} is neither a case directory nor holds any")
    return cases


def run_moeseg(command: list[str], case: Case, output_dir: Path, threads: int | None, timeout: float) -> str | None:
    """Runs `moeseg infer`; returns None on success or a one-line reason."""
    arguments = command + ["infer", "--model", str(case.model), "--output-dir", str(output_dir)]
    if len(case.input_files) == 1:
        arguments += ["--input", str(next(iter(case.input_files.values())))]
    else:
        for name, path in case.input_files.items():
            arguments += ["--input", f"{name}={path}"]
    if threads is not None:
        arguments += ["--threads", str(threads)]
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        return f"cannot run {command[0]}"
    except subprocess.TimeoutExpired:
        return f"moeseg infer timed out after {timeout:.0f} s"
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return f"moeseg infer exited {result.returncode}: {lines[-1] if lines else '(no output)'}"
    return None


def compare(case: Case, output_dir: Path, tolerance: float, agreement: float) -> list[tuple[bool, str]]:
    """One (passed, line) per expected output."""
    lines = []
    for name, reference in case.expected.items():
        label = f"{case.name}/{name}"
        path = output_dir / f"{fixture_io.sanitize(name)}.npy"
        if not path.is_file():
            lines.append((False, f"FAIL {label}: moeseg wrote no {path.name}"))
            continue
        try:
            actual = np.load(path)
        except (ValueError, OSError) as error:
            lines.append((False, f"FAIL {label}: unreadable {path.name}: {error}"))
            continue
        if actual.dtype != np.float32 or actual.shape != reference.shape:
            lines.append((False, f"FAIL {label}: got {actual.dtype}{list(actual.shape)}, "
                                 f"expected float32{list(reference.shape)}"))
            continue
        scale = float(np.abs(reference).max()) if reference.size else 0.0
        bound = tolerance * scale
        finite = bool(np.isfinite(actual).all())
        error = float(np.abs(actual.astype(np.float64) - reference).max()) if reference.size and finite else \
            (float("inf") if not finite else 0.0)
        passed = finite and error <= bound
        detail = f"shape {list(reference.shape)} max|err| {error:.3g} <= {bound:.3g}" if passed else \
            f"shape {list(reference.shape)} max|err| {error:.3g} > {bound:.3g} ({tolerance:g} x max|ref| {scale:.3g})"
        if fixture_io.argmax_applies(case.description, name, reference):
            axis = case.description["argmax_axis"]
            same = float((np.argmax(actual, axis=axis) == np.argmax(reference, axis=axis)).mean())
            passed = passed and same >= agreement
            detail += f", argmax agreement {same:.4%}" + ("" if same >= agreement else f" < {agreement:.1%}")
        lines.append((passed, f"{'ok  ' if passed else 'FAIL'} {label}: {detail}"))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", type=Path, metavar="TARGET")
    parser.add_argument("--moeseg", default=".build/release/moeseg",
                        help="moeseg executable, or a command line (split like a shell) (default: %(default)s)")
    parser.add_argument("--input", type=Path, help="input .npy for an ONNX-file target (float32, NCHW)")
    parser.add_argument("--threads", type=int, help="passed to moeseg infer as --threads")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="relative to max|reference| (%(default)g)")
    parser.add_argument("--argmax-agreement", type=float, default=0.999, help="minimum share (%(default)g)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per moeseg run (%(default)g)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random input for ONNX files")
    parser.add_argument("--keep", type=Path, help="keep moeseg's outputs under this directory")
    args = parser.parse_args()

    command = shlex.split(args.moeseg)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="check_engine_") as scratch_name:
        scratch = Path(scratch_name)
        work = args.keep or scratch
        for target in args.targets:
            if target.suffix == ".onnx" and target.is_file():
                cases = [load_onnx_file(target, args.input, scratch, args.seed)]
            elif target.is_dir():
                cases = [load_fixture(d) for d in discover(target)]
            else:
                raise SystemExit(f"error: {target} is not an ONNX file or a directory")
            for case in cases:
                output_dir = work / case.name
                output_dir.mkdir(parents=True, exist_ok=True)
                for stale in output_dir.glob("*.npy"):
                    stale.unlink()
                problem = run_moeseg(command, case, output_dir, args.threads, args.timeout)
                results = [(False, f"FAIL {case.name}: {problem}")] if problem else \
                    compare(case, output_dir, args.tolerance, args.argmax_agreement)
                for ok, line in results:
                    print(line, flush=True)
                    passed += ok
                    failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
