#!/usr/bin/env python3
"""Writes the int8 conformance fixtures Tests/Fixtures/quant/<case>/: small float ONNX models
built with onnx.helper (opset 17, fixed seeds) and two committed engine fixtures, each quantized
by onnxruntime.quantization.quantize_static (per-channel s8 weights; u8 or s8 activations; QDQ
or QOperator format; MinMax calibration on 4 deterministic synthetic images drawn like the test
input, fixture_io.synthetic_image).

A case directory holds model.onnx (quantized), float_model.onnx (its fp32 source), input.npy,
expected/<sanitised output>.npy (onnxruntime on the quantized model, ORT_ENABLE_ALL, 1 thread),
expected_fp32/ (the same on the float model) and case.json (source, outputs, argmax_axis,
format, activation_type, weight_type, per_channel[, argmax_outputs]).

Per case it prints the quantized model's op histogram by (op_type, domain) and, per output,
max|int8 - fp32| and, for class logits, the int8-vs-fp32 argmax agreement.

    .venv/bin/python tools/quant_cases.py                 # every case
    .venv/bin/python tools/quant_cases.py --only 'conv_shapes_*' --list"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

import fixture_io
import quant_common
from op_cases import GraphBuilder

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "Fixtures" / "quant"
ENGINE = REPO / "Tests" / "Fixtures" / "engine"
CALIBRATION_IMAGES = 4


# --- the float models ---------------------------------------------------------------------------

def conv(g: GraphBuilder, x: str, cin: int, cout: int, k: int, *, stride: int = 1, dilation: int = 1,
         group: int = 1, pad: int | None = None, bias: bool = True, gain: float = 1.0, name: str | None = None) -> str:
    """Conv with He-scaled weights whose output channels vary in magnitude (lognormal, as BatchNorm
    folding leaves them) and a small bias."""
    fan_in = cin // group * k * k
    spread = np.exp(0.5 * g.rng.standard_normal(cout))[:, None, None, None]
    w = g.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in) * gain * spread
    inputs = [x, g.const(f"w{len(g.initializers)}", w.astype(np.float32))]
    if bias:
        inputs.append(g.const(f"b{len(g.initializers)}", (0.1 * g.rng.standard_normal(cout)).astype(np.float32)))
    pad = dilation * (k - 1) // 2 if pad is None else pad
    return op(g, "Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride], dilations=[dilation, dilation],
              pads=[pad] * 4, group=group)


def op(g: GraphBuilder, op_type: str, inputs: list[str], name: str | None = None, **attributes) -> str:
    return g.node(op_type, inputs, name or f"{op_type.lower()}_{len(g.nodes)}", **attributes)


def relu6(g: GraphBuilder, x: str, name: str | None = None) -> str:
    zero = g.const(f"zero{len(g.initializers)}", np.asarray(0.0, dtype=np.float32))
    return op(g, "Clip", [x, zero, g.const(f"six{len(g.initializers)}", np.asarray(6.0, dtype=np.float32))], name)


def conv_shapes(g: GraphBuilder):
    x = g.input("input", (1, 3, 24, 40))
    stem = op(g, "Relu", [conv(g, x, 3, 8, 3)], "conv3x3_relu")
    outs = [stem,
            relu6(g, conv(g, stem, 8, 8, 3, stride=2, gain=2.0), "conv3x3_s2_clip"),
            conv(g, stem, 8, 12, 1, name="pointwise"),
            conv(g, stem, 8, 8, 1, stride=2, name="pointwise_s2"),
            conv(g, stem, 8, 8, 5, dilation=2, group=8, name="depthwise5x5_dil2"),
            relu6(g, conv(g, stem, 8, 8, 3, stride=2, group=8, gain=2.0), "depthwise3x3_s2_clip"),
            conv(g, stem, 8, 8, 3, group=2, name="grouped2"),
            conv(g, x, 3, 8, 7, stride=2, pad=3, name="conv7x7_s2"),
            conv(g, stem, 8, 8, 3, dilation=4, name="dense3x3_dil4"),
            conv(g, stem, 8, 6, 3, bias=False, name="no_bias")]
    return outs, ("conv shapes on a 1x3x24x40 image: 3x3 s1 p1 + Relu (shared stem), 3x3 s2 + Clip(0,6), 1x1, "
                  "1x1 s2, depthwise 5x5 dilation 2, depthwise 3x3 s2 + Clip(0,6), group 2, 7x7 s2 p3, dense 3x3 "
                  "dilation 4, no bias"), None


def block(g: GraphBuilder):
    x = g.input("input", (1, 3, 32, 48))
    f = op(g, "Relu", [conv(g, x, 3, 16, 3, stride=2)])
    r = conv(g, op(g, "Relu", [conv(g, f, 16, 16, 3)]), 16, 16, 3)
    res = op(g, "Relu", [op(g, "Add", [r, f])], "residual")
    pooled = op(g, "MaxPool", [res], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    b1 = op(g, "Relu", [conv(g, pooled, 16, 8, 1)])
    b2 = op(g, "Relu", [conv(g, pooled, 16, 8, 3, dilation=2)])
    p = op(g, "Relu", [conv(g, op(g, "GlobalAveragePool", [pooled]), 16, 8, 1)])
    p = op(g, "Resize", [p, "", "", g.const("sizes", np.asarray([1, 8, 8, 12], dtype=np.int64))],
           mode="linear", coordinate_transformation_mode="half_pixel")
    cat = op(g, "Concat", [b1, b2, p], "concat", axis=1)
    low = conv(g, cat, 24, 6, 1)
    logits = op(g, "Resize", [low, "", g.const("scales", np.asarray([1, 1, 2, 2], dtype=np.float32))], "logits",
                mode="linear", coordinate_transformation_mode="half_pixel")
    return [res, pooled, cat, logits], (
        "residual/concat/pool block on 1x3x32x48: conv s2 + Relu, two 3x3 convs + Add + Relu, MaxPool 3x3 s2 p1, "
        "ASPP-like Concat of 1x1, 3x3 dilation 2 and GlobalAveragePool -> 1x1 conv -> Resize(linear, half_pixel, "
        "sizes 8x12), 1x1 classifier (6 classes), Resize linear x2 (scales)"), ["logits"]


def float_islands(g: GraphBuilder):
    x = g.input("input", (1, 3, 24, 40))
    s = conv(g, x, 3, 16, 3)
    hard_swish = conv(g, op(g, "HardSwish", [s]), 16, 8, 3, name="hardswish_conv")
    hard_sigmoid = op(g, "HardSigmoid", [conv(g, s, 16, 8, 1)], "hardsigmoid", alpha=1 / 6, beta=0.5)
    e = op(g, "Relu", [s])
    p = op(g, "Relu", [conv(g, op(g, "GlobalAveragePool", [e]), 16, 4, 1)])
    p = op(g, "HardSigmoid", [conv(g, p, 4, 16, 1)], alpha=1 / 6, beta=0.5)
    outs = [hard_swish, hard_sigmoid,
            op(g, "Mul", [e, p], "squeeze_excite"),
            op(g, "Sigmoid", [conv(g, s, 16, 8, 1)], "sigmoid"),
            op(g, "LeakyRelu", [conv(g, s, 16, 8, 3)], "leakyrelu", alpha=0.1)]
    return outs, ("float islands on 1x3x24x40: conv -> HardSwish -> conv; conv 1x1 -> HardSigmoid (torch's 1/6, "
                  "0.5); squeeze-excitation (Relu -> GlobalAveragePool -> conv -> Relu -> conv -> HardSigmoid -> Mul "
                  "with the feature map); conv -> Sigmoid; conv -> LeakyRelu(0.1)"), None


def gate_head(g: GraphBuilder):
    x = g.input("input", (1, 3, 32, 48))
    f = op(g, "Relu", [conv(g, x, 3, 16, 3, stride=2)])
    flat = op(g, "Flatten", [op(g, "AveragePool", [f], kernel_shape=[4, 4], strides=[4, 4])])
    w1 = g.weight("fc1_w", (32, 16 * 4 * 6), 16 * 4 * 6)
    h = op(g, "Relu", [op(g, "Gemm", [flat, w1, g.weight("fc1_b", (32,), 1000)], transB=1)])
    w2 = g.weight("fc2_w", (3, 32), 32)
    gate = op(g, "Softmax", [op(g, "Gemm", [h, w2, g.weight("fc2_b", (3,), 1000)], transB=1)], "gate", axis=1)
    pooled = op(g, "Flatten", [op(g, "GlobalAveragePool", [f])])
    mm = op(g, "Add", [op(g, "MatMul", [pooled, g.weight("mm_w", (16, 5), 16)]), g.weight("mm_b", (5,), 1000)],
            "matmul")
    return [gate, mm], ("gate-like head on 1x3x32x48: conv s2 + Relu -> AveragePool 4x4 s4 -> Flatten -> Gemm "
                        "(transB) -> Relu -> Gemm -> Softmax (3 experts); GlobalAveragePool -> Flatten -> MatMul + "
                        "Add"), None


def matmul_head(g: GraphBuilder):
    x = g.input("input", (1, 3, 32, 48))
    f = op(g, "Relu", [conv(g, x, 3, 16, 3, stride=2)])
    pooled = op(g, "Flatten", [op(g, "GlobalAveragePool", [f])])
    mm = op(g, "MatMul", [pooled, g.weight("mm_w", (16, 5), 16)], "matmul")
    return [mm], ("MatMul head on 1x3x32x48: conv s2 + Relu -> GlobalAveragePool -> Flatten -> MatMul (16 -> 5), "
                  "so the QOperator form has QLinearMatMul without the ops moeseg lacks"), None


def helper_model(build: Callable) -> Callable[[str], tuple]:
    """A (float model, feeds, description, argmax_outputs) maker for a builder function."""
    def make(name: str):
        g = GraphBuilder(build.__name__, 17, np.random.default_rng(zlib.crc32(name.encode())))
        outputs, description, argmax_outputs = build(g)
        model = g.build(outputs)
        onnx.checker.check_model(model, full_check=True)
        (input_name, value), = g.feeds.items()
        g.feeds[input_name] = fixture_io.synthetic_image(value.shape, g.rng)
        return model, g.feeds, f"tools/quant_cases.py:{build.__name__} (onnx.helper, opset 17): {description}", \
            argmax_outputs
    return make


def engine_model(case: str, argmax_outputs: list[str]) -> Callable[[str], tuple]:
    """The committed engine fixture `case` (its model.onnx and input.npy) as a float source."""
    def make(name: str):
        model, feeds, description = fixture_io.load_case(ENGINE / case)
        return onnx.load(model), feeds, (f"tools/quant_cases.py:{name}: Tests/Fixtures/engine/{case} ("
                                         f"{description['source'].split(':')[0]})"), argmax_outputs
    return make


@dataclass
class Model:
    make: Callable[[str], tuple]
    variants: list[tuple[str, str]]   # (format, activation type)
    pre_process: bool = False


ALL4 = [("qdq", "u8"), ("qdq", "s8"), ("qoperator", "u8"), ("qoperator", "s8")]
MODELS = {
    "conv_shapes": Model(helper_model(conv_shapes), ALL4),
    "block": Model(helper_model(block), ALL4),
    "float_islands": Model(helper_model(float_islands), [("qdq", "u8")]),
    "gate_head": Model(helper_model(gate_head), [("qdq", "u8"), ("qoperator", "u8")]),
    "matmul_head": Model(helper_model(matmul_head), [("qoperator", "u8"), ("qoperator", "s8")]),
    "deeplabv3plus_dynamo_bn": Model(engine_model("deeplabv3plus_mobilenetv2_dynamo_bn", ["logits"]),
                                     [("qdq", "u8")]),
    "deeplabv3plus_dynamo_bn_pre": Model(engine_model("deeplabv3plus_mobilenetv2_dynamo_bn", ["logits"]),
                                         [("qdq", "u8")], pre_process=True),
    "lraspp_dynamo": Model(engine_model("lraspp_mobilenet_v3_large_dynamo", ["out"]), [("qdq", "u8")]),
}


def case_names() -> dict[str, tuple[str, str, str]]:
    """case name -> (model name, format, activation type)."""
    short = {"qdq": "qdq", "qoperator": "qop"}
    return {f"{m}_{short[f]}_{a}": (m, f, a) for m, spec in MODELS.items() for f, a in spec.variants}


# --- writing a case -----------------------------------------------------------------------------

def write(case: str, model_name: str, fmt: str, activation: str) -> None:
    spec = MODELS[model_name]
    model, feeds, source, argmax_outputs = spec.make(model_name)
    directory = OUT / case
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    float_path, quant_path = directory / "float_model.onnx", directory / "model.onnx"
    onnx.save_model(model, float_path)

    rng = np.random.default_rng(zlib.crc32(f"{model_name}/calibration".encode()))
    calibration = [{n: fixture_io.synthetic_image(v.shape, rng) for n, v in feeds.items()}
                   for _ in range(CALIBRATION_IMAGES)]
    quant_common.quantize(float_path, quant_path, calibration, fmt=fmt, activation=activation,
                          per_channel=True, pre_process=spec.pre_process)

    files = fixture_io.input_file_names(list(feeds))
    for name, value in feeds.items():
        np.save(directory / files[name], np.ascontiguousarray(value, dtype=np.float32))
    expected = fixture_io.run_reference(quant_path, feeds)
    expected_fp32 = fixture_io.run_reference(float_path, feeds)
    for folder, outputs in (("expected", expected), ("expected_fp32", expected_fp32)):
        (directory / folder).mkdir()
        for name, value in outputs.items():
            np.save(directory / folder / f"{fixture_io.sanitize(name)}.npy", value)

    description = {"source": f"{source}; quantize_static {fmt}, {activation} activations, per-channel s8 weights, "
                             f"MinMax on {CALIBRATION_IMAGES} synthetic images"
                             + (", after quant_pre_process" if spec.pre_process else ""),
                   "outputs": list(expected), "argmax_axis": 1 if argmax_outputs else None,
                   "format": fmt, "activation_type": activation, "weight_type": "s8", "per_channel": True}
    if argmax_outputs:
        description["argmax_outputs"] = argmax_outputs
    if len(feeds) > 1:
        description["inputs"] = list(feeds)
    (directory / "case.json").write_text(json.dumps(description, indent=2) + "\n")
    report(case, directory, onnx.load(quant_path), expected, expected_fp32, description)


def report(case: str, directory: Path, quantized: onnx.ModelProto, expected: dict, expected_fp32: dict,
           description: dict) -> None:
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    print(f"{case}: {size / 1024:.0f} KiB; ops: {quant_common.format_histogram(quant_common.op_histogram(quantized))}")
    scales = quant_common.output_scales(quantized)
    for name, value in expected.items():
        reference = expected_fp32[name]
        error = quant_common.max_abs(value, reference)
        line = (f"    {name}: {list(value.shape)} max|int8-fp32| {error:.3g} "
                f"({error / max(float(np.abs(reference).max()), 1e-30):.1%} of max|fp32|)")
        if name in scales:
            line += f", {error / scales[name]:.1f} output scales"
        if fixture_io.argmax_applies(description, name, reference):
            line += f", argmax agreement int8/fp32 {quant_common.argmax_agreement(value, reference):.2%}"
            summary = fixture_io.argmax_summary(value)
            line += f", {summary['classes_present']}/{value.shape[1]} classes present"
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="case names or shell patterns")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    args = parser.parse_args()
    names = case_names()
    chosen = [n for n in names if not args.only or any(fnmatch.fnmatch(n, p) for p in args.only)]
    if args.list:
        print("\n".join(chosen))
        return 0
    if not chosen:
        parser.error(f"no case matches {args.only}; --list names them")
    for name in chosen:
        write(name, *names[name])
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(chosen)} case(s); Tests/Fixtures/quant holds {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
