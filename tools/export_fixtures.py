#!/usr/bin/env python3
"""Writes the engine conformance fixtures into Tests/Fixtures/engine/<case>/ (see fixture_io.py for
the layout): narrow PyTorch exports of every supported segmentation architecture (TorchScript and
dynamo exporters) plus hand-built ONNX edge cases (op_cases.py). Deterministic: fixed seeds.

Offline only (torch, torchvision, onnxscript): python tools/export_fixtures.py [--only NAME ...]"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

import fixture_io
import narrow_models
import op_cases
import torch_export
from moeseg_models import MoEGate, deeplabv3plus_mobilenetv2, deeplabv3plus_resnet

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "Fixtures" / "engine"
SIZE_LIMIT_BYTES = int(4.5 * 1024 * 1024)


@dataclass
class TorchCase:
    """A PyTorch model exported for one fixture; `inputs` are (name, shape, kind) with kind
    "image" (synthetic_image) or "features" (non-negative, like post-ReLU ASPP features)."""
    build: Callable[[], nn.Module]
    inputs: list[tuple[str, tuple[int, ...], str]]
    outputs: list[str]
    description: str
    argmax_axis: int | None = 1
    # Outputs that are class logits, when not all 4-D outputs are (None: all of them).
    argmax_outputs: list[str] | None = None
    dynamo: bool = False
    keep_batchnorm: bool = False
    # The dynamo exporter annotates every node with metadata_props (module paths, stack traces):
    # kept in the small gate case so parsers meet them, dropped in big ones to save fixture space.
    strip_metadata: bool = False


def _image(shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...], str]]:
    return [("input", shape, "image")]


def _tv(builder: Callable[[], nn.Module], keys: list[str]) -> Callable[[], nn.Module]:
    return lambda: torch_export.OutputTuple(builder(), keys)


def _dlv3plus_mbv2() -> nn.Module:
    return deeplabv3plus_mobilenetv2(4, width_mult=0.15, output_stride=16, block_counts=[1, 1, 2, 2, 1, 2, 1],
                                     atrous_rates=(6, 12, 18), aspp_channels=8, low_level_channels=8,
                                     decoder_channels=16, separable=True, return_features=True)


def _dlv3plus_mbv2_small() -> nn.Module:
    return deeplabv3plus_mobilenetv2(4, width_mult=0.15, output_stride=16, block_counts=[1, 1, 1, 2, 1, 1, 1],
                                     atrous_rates=(6, 12, 18), aspp_channels=8, low_level_channels=8,
                                     decoder_channels=8, decoder_convs=1, return_features=True)


def _dlv3plus_resnet() -> nn.Module:
    return deeplabv3plus_resnet(4, depths=[1, 2, 1, 1], base_width=3, output_stride=8, atrous_rates=(3, 6, 9),
                                aspp_channels=8, low_level_channels=8, decoder_channels=16, return_features=True)


TORCH_CASES: dict[str, TorchCase] = {
    "lraspp_mobilenet_v3_large": TorchCase(
        _tv(lambda: narrow_models.lraspp_mobilenet_v3_large(5, width_mult=0.2), ["out"]), _image((1, 3, 64, 96)),
        ["out"], "torchvision LR-ASPP on MobileNetV3-Large (width 0.2, 3 repeat blocks dropped, dilated tail, "
                 "SE + hardswish), 5 classes"),
    "deeplabv3_mobilenet_v3_large": TorchCase(
        _tv(lambda: narrow_models.deeplabv3_mobilenet_v3_large(5, width_mult=0.2, head_channels=8), ["out"]),
        _image((1, 3, 50, 74)), ["out"],
        "torchvision DeepLabV3 on MobileNetV3-Large (width 0.2, ASPP rates 12/24/36 with 8 channels), "
        "5 classes, odd input size 50x74 (non-integer resize ratios)"),
    "deeplabv3_resnet50": TorchCase(
        _tv(lambda: narrow_models.deeplabv3_resnet50(4, divisor=32, head_channels=12), ["out"]),
        _image((1, 3, 48, 80)), ["out"],
        "torchvision DeepLabV3 on torchvision's ResNet Bottleneck (planes / 32, layers [1,2,1,1], output "
        "stride 8 by dilation), ASPP rates 12/24/36 with 12 channels, 4 classes"),
    "fcn_resnet50": TorchCase(
        _tv(lambda: narrow_models.fcn_resnet50(4, divisor=32), ["out", "aux"]), _image((1, 3, 48, 80)),
        ["out", "aux"], "torchvision FCN with aux head (two outputs) on the same narrow ResNet, 4 classes"),
    "deeplabv3plus_mobilenetv2": TorchCase(
        _dlv3plus_mbv2, _image((1, 3, 64, 96)), ["logits", "features"],
        "moeseg_models DeepLabv3+ on MobileNetV2 (width 0.15, fewer blocks, output stride 16, atrous separable "
        "ASPP 6/12/18 with 8 channels + image pooling, decoder with stride-4 features and two separable 3x3 "
        "convs), 4 classes; outputs logits and ASPP features",
        argmax_outputs=["logits"]),
    "deeplabv3plus_resnet": TorchCase(
        _dlv3plus_resnet, _image((1, 3, 48, 80)), ["logits", "features"],
        "moeseg_models DeepLabv3+ on a bottleneck ResNet (base width 3, depths [1,2,1,1], output stride 8, "
        "ASPP 3/6/9 with 8 channels), 4 classes; outputs logits and ASPP features", argmax_outputs=["logits"]),
    "gate_simple": TorchCase(
        lambda: MoEGate(2, 16, (4, 6), conv_channels=8, hidden=16),
        [("features_0", (1, 16, 4, 6), "features"), ("features_1", (1, 16, 4, 6), "features")],
        ["gate_weights"], "moeseg_models MoEGate, simple: 2 experts' 16-channel 4x6 ASPP features -> "
                          "concat, conv 3x3/2, flatten, FC, FC, softmax over experts -> [1,2]",
        argmax_axis=None),
    "gate_classwise": TorchCase(
        lambda: MoEGate(3, 16, (4, 6), num_classes=5, conv_channels=8, hidden=16),
        [(f"features_{e}", (1, 16, 4, 6), "features") for e in range(3)],
        ["gate_weights"], "moeseg_models MoEGate, classwise: 3 experts, 5 classes -> reshape [1,3,5], softmax "
                          "over experts (axis 1)", argmax_axis=None),
    "lraspp_mobilenet_v3_large_dynamo": TorchCase(
        _tv(lambda: narrow_models.lraspp_mobilenet_v3_large(5, width_mult=0.15), ["out"]), _image((1, 3, 48, 80)),
        ["out"], "as lraspp_mobilenet_v3_large but width 0.15, exported with the dynamo exporter (opset 18, default "
                 "optimisation: onnxscript fuses BatchNorm into Conv)", dynamo=True, strip_metadata=True),
    "deeplabv3plus_mobilenetv2_dynamo_bn": TorchCase(
        _dlv3plus_mbv2_small, _image((1, 3, 48, 80)), ["logits", "features"],
        "as deeplabv3plus_mobilenetv2 but one block per stage (two in stage 3), dense ASPP, one dense 3x3 8-channel "
        "decoder conv, dynamo exporter (opset 18) with onnxscript's BatchNorm fusion disabled, "
        "so BatchNormalization nodes stay (as older onnxscript versions emitted)", argmax_outputs=["logits"],
        dynamo=True, keep_batchnorm=True, strip_metadata=True),
    "gate_classwise_dynamo": TorchCase(
        lambda: MoEGate(3, 16, (4, 6), num_classes=5, conv_channels=8, hidden=16),
        [(f"features_{e}", (1, 16, 4, 6), "features") for e in range(3)],
        ["gate_weights"], "as gate_classwise, dynamo exporter (opset 18)", argmax_axis=None, dynamo=True),
}


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def export_torch_case(name: str, spec: TorchCase, out_dir: Path) -> onnx.ModelProto:
    """Builds, randomises, exports and references one PyTorch case; checks the export against torch."""
    torch.manual_seed(_seed(name))
    rng = np.random.default_rng(_seed(name))
    feeds = {}
    for input_name, shape, kind in spec.inputs:
        value = fixture_io.synthetic_image(shape, rng) if kind == "image" else \
            np.abs(rng.standard_normal(shape)).astype(np.float32)
        feeds[input_name] = value
    inputs = tuple(torch.from_numpy(feeds[n]) for n, _, _ in spec.inputs)
    model = spec.build()
    torch_export.randomize(model, inputs, _seed(name))
    if spec.argmax_axis is not None:
        torch_export.centre_class_logits(model, inputs, _seed(name))
    proto = torch_export.export(model, inputs, [n for n, _, _ in spec.inputs], spec.outputs,
                                dynamo=spec.dynamo, keep_batchnorm=spec.keep_batchnorm)
    if spec.strip_metadata:
        for node in proto.graph.node:
            del node.metadata_props[:]
    exporter = "dynamo=True" if spec.dynamo else "dynamo=False (TorchScript)"
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    source = (f"tools/export_fixtures.py case {name}: {spec.description}; random init with randomised BatchNorm "
              f"statistics (seed {_seed(name)}); torch {torch.__version__} torch.onnx.export {exporter}, opset {opset}"
              + ("; node metadata_props removed" if spec.strip_metadata else ""))
    reference = fixture_io.write_case(out_dir / name, proto, feeds, source, spec.argmax_axis,
                                      argmax_outputs=spec.argmax_outputs)
    description = json.loads((out_dir / name / "case.json").read_text())

    for (output_name, ort_value), torch_value in zip(reference.items(), torch_export.torch_outputs(model, inputs)):
        scale = float(np.abs(ort_value).max())
        error = float(np.abs(ort_value - torch_value).max())
        print(f"    {output_name}: shape {list(ort_value.shape)} max|ort| {scale:.3g} "
              f"max|ort-torch| {error:.2e} ({error / max(scale, 1e-30):.1e} relative)")
        if error > 1e-4 * scale:
            raise RuntimeError(f"{name}: onnxruntime disagrees with PyTorch on {output_name}")
        if fixture_io.argmax_applies(description, output_name, ort_value):
            summary = fixture_io.argmax_summary(ort_value, spec.argmax_axis)
            print(f"    {output_name}: argmax classes present {summary['classes_present']}/{ort_value.shape[1]}, "
                  f"dominant {summary['dominant_share']:.0%}, near-ties {summary['near_tie_share']:.3%}")
            if summary["classes_present"] < 2 or summary["dominant_share"] > 0.9:
                raise RuntimeError(f"{name}: argmax of {output_name} is (nearly) constant")
    return proto


def export_op_case(name: str, out_dir: Path) -> onnx.ModelProto:
    spec = op_cases.CASES[name]()
    fixture_io.write_case(out_dir / name, spec.model, spec.feeds, spec.source, spec.argmax_axis,
                          external_data=spec.external_data)
    return spec.model


def directory_size(path: Path) -> tuple[int, int]:
    """(sum of file sizes, disk usage as `du` counts it: allocated blocks of files and directories)."""
    entries = [path, *path.rglob("*")]
    files = sum(p.stat().st_size for p in entries if p.is_file())
    usage = sum(p.stat().st_blocks * 512 for p in entries)
    return files, usage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture root (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="PATTERN", help="case names or shell patterns to (re)write")
    parser.add_argument("--list", action="store_true", help="list the case names and exit")
    args = parser.parse_args()

    names = list(TORCH_CASES) + list(op_cases.CASES)
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        selected = [n for n in names if any(fnmatch.fnmatch(n, p) for p in args.only)]
        if not selected:
            parser.error(f"no case matches {args.only}")
        names = selected

    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        started = time.perf_counter()
        print(f"{name}:", flush=True)
        proto = export_torch_case(name, TORCH_CASES[name], args.out) if name in TORCH_CASES else \
            export_op_case(name, args.out)
        histogram = " ".join(f"{op}x{count}" for op, count in fixture_io.op_histogram(proto).items())
        print(f"    ops: {histogram}")
        print(f"    {directory_size(args.out / name)[0] / 1024:.0f} KiB, {time.perf_counter() - started:.1f} s",
              flush=True)

    files, usage = directory_size(args.out)
    print(f"total fixture size: files {files / 2**20:.2f} MiB, disk usage (du) {usage / 2**20:.2f} MiB "
          f"(limit {SIZE_LIMIT_BYTES / 2**20:.1f} MiB)")
    if usage > SIZE_LIMIT_BYTES:
        print("error: fixtures exceed the size limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
