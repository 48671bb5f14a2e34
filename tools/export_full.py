#!/usr/bin/env python3
"""Exports full-size segmentation models at 1x3x256x512 into out/models/<name>/ in the fixture
layout (model.onnx, input.npy, expected/*.npy from onnxruntime, case.json), for checking moeseg's
engine on real sizes (tools/check_engine.py) and benchmarking it (tools/bench/compare_ort.py).

No pretrained weights can be downloaded here: random init with randomised BatchNorm statistics,
as in the fixtures. Offline only (torch, torchvision).

    python tools/export_full.py                      # every model
    python tools/export_full.py lraspp_mobilenet_v3_large deeplabv3plus_mobilenetv2"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.models import segmentation

import fixture_io
import torch_export
from moeseg_models import deeplabv3plus_mobilenetv2, deeplabv3plus_resnet

REPO = Path(__file__).resolve().parent.parent
INPUT_SHAPE = (1, 3, 256, 512)


@dataclass
class FullModel:
    build: Callable[[], nn.Module]
    outputs: list[str]
    description: str


def _tv(builder: Callable[..., nn.Module], num_classes: int) -> Callable[[], nn.Module]:
    return lambda: torch_export.OutputTuple(
        builder(weights=None, weights_backbone=None, num_classes=num_classes), ["out"])


MODELS: dict[str, FullModel] = {
    "lraspp_mobilenet_v3_large": FullModel(
        _tv(segmentation.lraspp_mobilenet_v3_large, 19), ["out"],
        "torchvision lraspp_mobilenet_v3_large, 19 classes"),
    # One dense 3x3 decoder conv (as common PyTorch DeepLabv3+ ports do): the variant behind the
    # onnxruntime reference timings in the design notes.
    "deeplabv3plus_mobilenetv2": FullModel(
        lambda: deeplabv3plus_mobilenetv2(12, width_mult=1.0, output_stride=16, decoder_convs=1,
                                          return_features=True),
        ["logits", "features"],
        "moeseg_models DeepLabv3+ on MobileNetV2 (width 1.0), output stride 16, ASPP 6/12/18 + image pooling, "
        "256 channels, decoder with one dense 3x3 conv, 12 classes; outputs logits and ASPP features (a mixture "
        "expert)"),
    "deeplabv3plus_mobilenetv2_separable": FullModel(
        lambda: deeplabv3plus_mobilenetv2(12, width_mult=1.0, output_stride=16, separable=True,
                                          return_features=True),
        ["logits", "features"],
        "moeseg_models DeepLabv3+ on MobileNetV2 (width 1.0), output stride 16, atrous separable ASPP 6/12/18 + "
        "image pooling, decoder with two separable 3x3 convs (the paper's design), 12 classes; logits and "
        "features"),
    "deeplabv3_mobilenet_v3_large": FullModel(
        _tv(segmentation.deeplabv3_mobilenet_v3_large, 19), ["out"],
        "torchvision deeplabv3_mobilenet_v3_large, 19 classes, no aux head"),
    "fcn_resnet50": FullModel(
        _tv(segmentation.fcn_resnet50, 19), ["out"], "torchvision fcn_resnet50, 19 classes, no aux head"),
    "deeplabv3_resnet50": FullModel(
        _tv(segmentation.deeplabv3_resnet50, 19), ["out"],
        "torchvision deeplabv3_resnet50 (output stride 8), 19 classes, no aux head"),
    "deeplabv3plus_resnet50": FullModel(
        lambda: deeplabv3plus_resnet(12, output_stride=16, return_features=True), ["logits", "features"],
        "moeseg_models DeepLabv3+ on ResNet-50, output stride 16, ASPP 6/12/18, 12 classes; outputs logits "
        "and ASPP features"),
}


def export_one(name: str, spec: FullModel, out_root: Path, opset: int) -> None:
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    image = fixture_io.synthetic_image(INPUT_SHAPE, np.random.default_rng(seed))
    inputs = (torch.from_numpy(image),)

    started = time.perf_counter()
    model = spec.build()
    torch_export.randomize(model, inputs, seed)
    torch_export.centre_class_logits(model, inputs, seed)
    prepared = time.perf_counter()
    proto = torch_export.export(model, inputs, ["input"], spec.outputs, opset=opset)
    exported = time.perf_counter()
    source = (f"tools/export_full.py {name}: {spec.description}; random init with randomised BatchNorm statistics "
              f"(seed {seed}); torch {torch.__version__} torch.onnx.export dynamo=False, opset {opset}")
    logits = spec.outputs[:1]
    reference = fixture_io.write_case(out_root / name, proto, {"input": image}, source, argmax_axis=1,
                                      argmax_outputs=logits)
    referenced = time.perf_counter()

    parameters = sum(p.numel() for p in model.parameters())
    print(f"{name}: {parameters / 1e6:.1f} M parameters, "
          f"{(out_root / name / 'model.onnx').stat().st_size / 2**20:.1f} MiB; init {prepared - started:.1f} s, "
          f"export {exported - prepared:.1f} s, onnxruntime reference {referenced - exported:.1f} s")
    for (output_name, ort_value), torch_value in zip(reference.items(), torch_export.torch_outputs(model, inputs)):
        scale = float(np.abs(ort_value).max())
        error = float(np.abs(ort_value - torch_value).max())
        line = (f"    {output_name}: {list(ort_value.shape)} max|ort| {scale:.3g}, max|ort-torch| {error:.2e} "
                f"({error / max(scale, 1e-30):.1e} relative)")
        if output_name in logits:
            summary = fixture_io.argmax_summary(ort_value)
            line += (f", argmax classes {summary['classes_present']}/{ort_value.shape[1]}, dominant "
                     f"{summary['dominant_share']:.0%}")
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"models to export (default: all): {', '.join(MODELS)}")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "models", help="output root (default: %(default)s)")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    torch.set_num_threads(2)
    total = time.perf_counter()
    for name in args.names or list(MODELS):
        export_one(name, MODELS[name], args.out, args.opset)
    print(f"done in {time.perf_counter() - total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
