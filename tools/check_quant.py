#!/usr/bin/env python3
"""Checks moeseg's int8 inference of a quantized ONNX file against onnxruntime.

Runs onnxruntime (ORT_ENABLE_ALL, 1 thread) on FLOAT.onnx and QUANT.onnx and
`moeseg infer --model QUANT.onnx --input X.npy --output-dir D [--threads N]` on the same input(s),
and prints per graph output:
  * argmax agreement moeseg vs ORT-int8 (per pixel over axis 1; 4-D outputs with > 1 channel),
  * mean|moeseg - ORT int8|, mean|ORT int8 - ORT fp32| and their ratio (how much of the
    quantization error moeseg adds on top of ORT's),
  * max|moeseg - ORT int8| in units of the output's quantization scale, when the output comes
    out of a per-tensor DequantizeLinear.
Exit status 1 unless every output has agreement >= --min-agreement (99.9 %) and ratio <=
--max-ratio (0.1), or if moeseg fails.

Inputs: --input X.npy (one sample), --input-dir D (D's fixture-layout input file(s) -- input.npy or
input_<name>.npy -- else every *.npy in D is one sample of the single input), or none: one
deterministic synthetic image (fixture_io.synthetic_image) of the declared input shape.
A fixture directory (Tests/Fixtures/quant/<case>) may stand for all three: float_model.onnx,
model.onnx and its input.

    .venv/bin/python tools/check_quant.py Tests/Fixtures/quant/block_qdq_u8
    .venv/bin/python tools/check_quant.py out/models/x/model.onnx out/models/x_int8/model.onnx \\
        --input-dir out/models/x_int8 --moeseg .build/release/moeseg --threads 2"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

import check_engine
import fixture_io
import quant_common


def declared_shape(model: onnx.ModelProto, name: str) -> list[int]:
    graph_input = next(i for i in model.graph.input if i.name == name)
    dims = [d.dim_value if d.HasField("dim_value") else 0 for d in graph_input.type.tensor_type.shape.dim]
    if not dims or min(dims) <= 0:
        raise SystemExit(f"error: input '{name}' has no fixed shape {dims}; pass --input")
    return dims


def samples(model: onnx.ModelProto, input_path: Path | None, input_dir: Path | None,
            scratch: Path) -> list[dict[str, Path]]:
    """Each sample as input name -> .npy path."""
    names = fixture_io.graph_inputs(model)
    if input_path is not None:
        if len(names) != 1:
            raise SystemExit(f"error: the model has inputs {names}; use --input-dir with input_<name>.npy files")
        return [{names[0]: input_path}]
    if input_dir is not None:
        files = {name: input_dir / file for name, file in fixture_io.input_file_names(names).items()}
        if all(path.is_file() for path in files.values()):
            return [files]
        if len(names) != 1:
            raise SystemExit(f"error: {input_dir} lacks {sorted(p.name for p in files.values())}")
        found = sorted(input_dir.glob("*.npy"))
        if not found:
            raise SystemExit(f"error: no .npy files in {input_dir}")
        return [{names[0]: path} for path in found]
    sample = {}
    rng = np.random.default_rng(0)
    for name in names:
        shape = declared_shape(model, name)
        value = fixture_io.synthetic_image(tuple(shape), rng) if len(shape) == 4 else \
            rng.standard_normal(shape).astype(np.float32)
        sample[name] = scratch / f"input_{fixture_io.sanitize(name)}.npy"
        np.save(sample[name], np.ascontiguousarray(value, dtype=np.float32))
    return [sample]


def load_feeds(sample: dict[str, Path]) -> dict[str, np.ndarray]:
    feeds = {}
    for name, path in sample.items():
        feeds[name] = np.load(path)
        if feeds[name].dtype != np.float32:
            raise SystemExit(f"error: {path} holds {feeds[name].dtype}, expected float32")
    return feeds


def moeseg_outputs(command: list[str], quant: Path, sample: dict[str, Path], names: list[str], work: Path,
                   threads: int | None, timeout: float) -> dict[str, np.ndarray]:
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*.npy"):
        stale.unlink()
    case = check_engine.Case(quant.stem, quant, {}, sample, {}, {})
    problem = check_engine.run_moeseg(command, case, work, threads, timeout)
    if problem:
        raise RuntimeError(problem)
    outputs = {}
    for name in names:
        path = work / f"{fixture_io.sanitize(name)}.npy"
        if not path.is_file():
            raise RuntimeError(f"moeseg wrote no {path.name}")
        outputs[name] = np.load(path)
    return outputs


def summarise(name: str, moeseg: list[np.ndarray], int8: list[np.ndarray], fp32: list[np.ndarray],
              scale: float | None, min_agreement: float, max_ratio: float) -> tuple[bool, str]:
    if any(m.shape != q.shape or m.dtype != np.float32 for m, q in zip(moeseg, int8)):
        return False, f"FAIL {name}: moeseg gave {moeseg[0].dtype}{list(moeseg[0].shape)}, " \
                      f"expected float32{list(int8[0].shape)}"
    if not all(np.isfinite(m).all() for m in moeseg):
        return False, f"FAIL {name}: moeseg output is not finite"
    m, q, f = (np.concatenate([a.reshape(-1) for a in arrays]) for arrays in (moeseg, int8, fp32))
    engine_error, quant_error = quant_common.mean_abs(m, q), quant_common.mean_abs(q, f)
    ratio = engine_error / quant_error if quant_error > 0 else (0.0 if engine_error == 0 else float("inf"))
    passed = ratio <= max_ratio
    detail = f"{list(int8[0].shape)}"
    if int8[0].ndim == 4 and int8[0].shape[1] > 1:
        same = np.concatenate([(np.argmax(a, axis=1) == np.argmax(b, axis=1)).reshape(-1)
                               for a, b in zip(moeseg, int8)])
        agreement = float(same.mean())
        passed = passed and agreement >= min_agreement
        detail += f" argmax moeseg/ORT-int8 {agreement:.3%}"
    detail += (f", mean|moeseg-int8| {engine_error:.3g}, mean|int8-fp32| {quant_error:.3g}, "
               f"ratio {ratio:.3g}")
    if scale:
        detail += f", max|moeseg-int8| {quant_common.max_abs(m, q) / scale:.2f} output scales"
    return passed, f"{'ok  ' if passed else 'FAIL'} {name}: {detail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, metavar="FLOAT.onnx QUANT.onnx | FIXTURE_DIR")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--input", type=Path, help="one input .npy (float32)")
    group.add_argument("--input-dir", type=Path, help="fixture-layout input file(s), else one sample per *.npy")
    parser.add_argument("--moeseg", default=".build/release/moeseg",
                        help="moeseg executable, or a command line split like a shell (default: %(default)s)")
    parser.add_argument("--threads", type=int, help="passed to moeseg infer as --threads")
    parser.add_argument("--min-agreement", type=float, default=0.999, help="argmax share (%(default)g)")
    parser.add_argument("--max-ratio", type=float, default=0.1,
                        help="max mean|moeseg-int8| / mean|int8-fp32| (%(default)g)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per moeseg run (%(default)g)")
    parser.add_argument("--keep", type=Path, help="keep moeseg's outputs under this directory")
    args = parser.parse_args()
    if len(args.models) == 1 and args.models[0].is_dir():
        directory = args.models[0]
        float_path, quant_path = directory / "float_model.onnx", directory / "model.onnx"
        if args.input is None and args.input_dir is None:
            args.input_dir = directory
    elif len(args.models) == 2:
        float_path, quant_path = args.models
    else:
        parser.error("give FLOAT.onnx QUANT.onnx, or one fixture directory")
    for path in (float_path, quant_path):
        if not path.is_file():
            raise SystemExit(f"error: no ONNX file {path}")

    quantized = onnx.load(str(quant_path), load_external_data=False)
    scales = quant_common.output_scales(quantized)
    names = [o.name for o in quantized.graph.output]
    collected = {name: ([], [], []) for name in names}
    with tempfile.TemporaryDirectory(prefix="check_quant_") as scratch_name:
        scratch = Path(scratch_name)
        work = args.keep or scratch
        chosen = samples(quantized, args.input, args.input_dir, scratch)
        for index, sample in enumerate(chosen):
            feeds = load_feeds(sample)
            int8 = fixture_io.run_reference(quant_path, feeds)
            fp32 = fixture_io.run_reference(float_path, feeds)
            try:
                engine = moeseg_outputs(shlex.split(args.moeseg), quant_path, sample, names, work / f"sample{index}",
                                        args.threads, args.timeout)
            except RuntimeError as error:
                print(f"FAIL {quant_path}: {error}")
                return 1
            for name in names:
                for store, value in zip(collected[name], (engine[name], int8[name], fp32[name])):
                    store.append(value)
    print(f"{quant_path}: {len(chosen)} sample(s)")
    failed = 0
    for name in names:
        ok, line = summarise(name, *collected[name], scales.get(name), args.min_agreement, args.max_ratio)
        print(line)
        failed += not ok
    print(f"{len(names) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
