#!/usr/bin/env python3
"""Turns a PyTorch model-level mixture of experts into a moeseg model directory
(docs/model-format.md): one ONNX graph per expert with outputs `logits` and `features`, a gate
graph from the experts' features to gate logits, an optional "+conv" combine graph, and moe.toml.

Python API (any modules; needs torch, onnx, onnxruntime):

    from export_moe import Expert, export_experts, write_model
    exported = export_experts(folder / "experts", [Expert("day", day_net), Expert("night", night_net)],
                              input_size=(512, 256))
    write_model(folder / "moe", exported, classes=names, colors=colors, model_id="mine", version="1.0.0",
                gate=gate_module, gate_kind="simple", combine_conv=None)

An expert module's forward(x) returns (logits [1,C,H,W], features [1,F,h,w]); an MC-dropout expert's
forward(x, dropout_mask) does the same with the mask convention of docs/model-format.md. The gate's
forward(*features) returns gate LOGITS ([1,E] simple, [1,E,C] classwise). Every graph is checked
against PyTorch with onnxruntime (max |diff| <= 1e-4 x max|output|) before anything is written
into the manifest.

Command line, for the demo checkpoints of tools/train/:

    export_moe.py demo --train-dir out/train --out out/models/demo
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

OPSET = 17
TOLERANCE = 1e-4  # relative to max|output|


@dataclass
class Expert:
    """An expert to export: forward(x) -> (logits, features); with `dropout_rate`, forward(x, mask)."""

    name: str
    module: nn.Module
    dropout_rate: float | None = None
    mask_shape: tuple[int, ...] | None = None


@dataclass
class ExportedExpert:
    """What the manifest needs to know about an exported expert graph."""

    name: str
    path: Path
    num_classes: int
    feature_shape: tuple[int, ...]
    dropout_rate: float | None = None
    checks: dict = field(default_factory=dict)


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, input_names: list[str],
            output_names: list[str]) -> dict[str, float]:
    """TorchScript export (opset 17, static shapes) + onnxruntime check; returns max|diff|/max|out| per output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    with torch.no_grad():
        expected = module(*args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    actual = session.run(output_names, {n: a.numpy() for n, a in zip(input_names, args)})
    errors = {}
    for name, want, got in zip(output_names, expected, actual):
        want = want.numpy()
        if want.shape != got.shape:
            raise RuntimeError(f"{path}: output {name} has shape {got.shape} in ONNX, {want.shape} in PyTorch")
        scale = max(float(np.abs(want).max()), 1e-12)
        errors[name] = float(np.abs(want - got).max()) / scale
        if errors[name] > TOLERANCE:
            raise RuntimeError(f"{path}: onnxruntime differs from PyTorch on {name} by {errors[name]:.2e} x max|out|")
    return errors


def _sample(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def export_experts(folder: Path, experts: list[Expert], input_size: tuple[int, int]) -> list[ExportedExpert]:
    """Exports each expert once, as folder/<name>.onnx with input `image` [1,3,H,W] (and `dropout_mask`)
    and outputs `logits`, `features`, from one graph (the ASPP is not duplicated)."""
    width, height = input_size
    x = _sample((1, 3, height, width), 0)
    result = []
    for expert in experts:
        args, inputs = (x,), ["image"]
        if expert.dropout_rate is not None:
            if expert.mask_shape is None:
                raise ValueError(f"expert {expert.name}: an MC-dropout expert needs mask_shape")
            mask = torch.from_numpy((np.random.default_rng(1).random(expert.mask_shape) >= expert.dropout_rate)
                                    .astype(np.float32))
            args, inputs = (x, mask), ["image", "dropout_mask"]
        path = folder / f"{expert.name}.onnx"
        checks = _export(expert.module, args, path, inputs, ["logits", "features"])
        with torch.no_grad():
            logits, features = expert.module(*args)
        if tuple(logits.shape) != (1, logits.shape[1], height, width):
            raise ValueError(f"expert {expert.name}: logits shape {tuple(logits.shape)} is not [1, C, {height}, {width}]")
        result.append(ExportedExpert(expert.name, path, int(logits.shape[1]), tuple(features.shape),
                                     expert.dropout_rate, checks))
        print(f"expert {expert.name}: {path} ({path.stat().st_size / 1e6:.2f} MB), ORT vs torch "
              + ", ".join(f"{k} {v:.1e}" for k, v in checks.items()) + " x max|out|")
    return result


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string with escapes is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _table(name: str | None, entries: dict, array: bool = False) -> str:
    header = "" if name is None else (f"[[{name}]]\n" if array else f"[{name}]\n")
    return header + "".join(f"{k} = {_toml_value(v)}\n" for k, v in entries.items() if v is not None)


def write_model(folder: Path, experts: list[ExportedExpert], *, classes: list[str], colors: list[list[int]],
                model_id: str, version: str, description: str = "", input_size: tuple[int, int] = (512, 256),
                scale: float = 1 / 255, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                gate: nn.Module | None = None, gate_kind: str | None = None, combine_rule: str = "logits",
                combine_conv: nn.Module | None = None, mc_passes: int = 8) -> Path:
    """Exports the gate/combine graphs into `folder` and writes folder/moe.toml over the given
    (already exported) experts; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    num_classes = experts[0].num_classes
    if any(e.num_classes != num_classes for e in experts):
        raise ValueError("experts disagree on the class count")
    if len(classes) != num_classes or len(colors) != num_classes:
        raise ValueError(f"{len(classes)} class names / {len(colors)} colours for {num_classes} logit channels")
    if combine_conv is not None and (gate is None or combine_rule != "logits"):
        raise ValueError("a combine conv needs a gate and combine rule 'logits'")
    mc = [e for e in experts if e.dropout_rate is not None]
    if mc and (len(experts) != 1 or gate is not None):
        raise ValueError("an MC-dropout model is exactly one expert and no gate")

    width, height = input_size
    text = _table(None, {"format": "moeseg.moe", "format_version": 1, "id": model_id, "version": version,
                         "description": description}) + "\n"
    text += _table("input", {"width": width, "height": height, "color": "rgb", "scale": float(scale),
                             "mean": [float(v) for v in mean], "std": [float(v) for v in std]}) + "\n"
    text += _table("classes", {"names": list(classes), "colors": [[int(c) for c in rgb] for rgb in colors]}) + "\n"
    for e in experts:
        text += _table("experts", {"name": e.name, "file": Path(os.path.relpath(e.path, folder)).as_posix(),
                                   "logits": "logits", "features": "features"}, array=True) + "\n"
    if gate is not None:
        if gate_kind not in ("simple", "classwise"):
            raise ValueError(f"gate_kind must be simple or classwise, got {gate_kind!r}")
        names = [f"features_{i}" for i in range(len(experts))]
        file = f"gate_{gate_kind}.onnx"
        features = tuple(_sample(e.feature_shape, 10 + i) for i, e in enumerate(experts))
        checks = _export(gate, features, folder / file, names, ["gate_logits"])
        with torch.no_grad():
            out = gate(*features)
        want = (1, len(experts)) if gate_kind == "simple" else (1, len(experts), num_classes)
        if tuple(out.shape) != want:
            raise ValueError(f"gate output shape {tuple(out.shape)}, {gate_kind} needs {want}")
        print(f"gate {gate_kind}: {folder / file}, ORT vs torch {checks['gate_logits']:.1e} x max|out|")
        text += _table("gate", {"file": file, "kind": gate_kind, "inputs": names, "output": "gate_logits"}) + "\n"
    conv_file = None
    if combine_conv is not None:
        conv_file = "combine_conv.onnx"
        checks = _export(combine_conv, (_sample((1, num_classes, height, width), 20),), folder / conv_file,
                         ["moe_logits"], ["logits"])
        print(f"combine conv: {folder / conv_file}, ORT vs torch {checks['logits']:.1e} x max|out|")
    if len(experts) > 1 or gate is not None:
        text += _table("combine", {"rule": combine_rule, "conv": conv_file}) + "\n"
    if mc:
        text += _table("mc_dropout", {"passes": mc_passes, "rate": float(mc[0].dropout_rate)}) + "\n"
    manifest = folder / "moe.toml"
    manifest.write_text(text.rstrip("\n") + "\n")
    import tomllib  # the manifest must parse back as TOML
    tomllib.loads(manifest.read_text())
    return manifest


# ---- demo checkpoints (tools/train/) ----

def _demo(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent / "train"))
    from demo_model import ExpertWithDropoutMask, NUM_CLASSES, PooledGate, load_expert  # noqa: E402

    torch.set_num_threads(2)
    classes, colors = _class_table()
    train, out = args.train_dir, args.out
    common = dict(classes=classes, colors=colors, model_id=args.model_id, version=args.version)
    experts = export_experts(out / "experts", [Expert(n, load_expert(train / n / "expert.pt"))
                                                for n in ("highway", "urban")], (512, 256))
    write_model(out / "ensemble", experts, description="ensemble of the highway and urban experts", **common)
    for kind in ("simple", "classwise"):
        for conv in (False, True):
            name = f"gate_{kind}{'_conv' if conv else ''}"
            checkpoint_path = train / name / "gate.pt"
            if not checkpoint_path.exists():
                print(f"skip {name}: no {checkpoint_path}")
                continue
            checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
            gate = PooledGate(len(experts), checkpoint["feature_channels"], tuple(checkpoint["feature_size"]),
                              num_classes=NUM_CLASSES if kind == "classwise" else None)
            gate.load_state_dict(checkpoint["gate"])
            combine = None
            if conv:
                combine = nn.Conv2d(NUM_CLASSES, NUM_CLASSES, 3, padding=1, bias=False)
                combine.load_state_dict(checkpoint["combine_conv"])
            write_model(out / f"moe-{kind}{'-conv' if conv else ''}", experts,
                        description=f"highway + urban experts, {kind} gate{' + conv' if conv else ''}",
                        gate=gate.eval(), gate_kind=kind, combine_conv=combine, **common)
    baseline_path = train / "baseline" / "expert.pt"
    if baseline_path.exists():
        checkpoint = torch.load(baseline_path, map_location="cpu", weights_only=False)
        model = ExpertWithDropoutMask(load_expert(baseline_path), checkpoint["dropout"]).eval()
        baseline = export_experts(out / "experts", [Expert("baseline_mc", model, checkpoint["dropout"],
                                                           model.mask_shape(256, 512))], (512, 256))
        write_model(out / "baseline-mc", baseline, description="one network on highway + urban, MC dropout",
                    **common)


def _class_table() -> tuple[list[str], list[list[int]]]:
    """Class names and colours of docs/classes.md (ids 0..13)."""
    names = ["road", "lane marking", "sidewalk", "curb", "building", "vegetation", "terrain", "sky", "pole",
             "traffic sign", "guard rail", "car", "truck", "person"]
    colors = [[128, 64, 128], [255, 255, 255], [244, 35, 232], [196, 196, 0], [70, 70, 70], [107, 142, 35],
              [152, 251, 152], [70, 130, 180], [153, 153, 153], [220, 220, 0], [180, 165, 180], [0, 0, 142],
              [0, 0, 70], [220, 20, 60]]
    return names, colors


def main() -> None:
    parser = argparse.ArgumentParser(description="Export a PyTorch MoE to a moeseg model directory.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="export the demo checkpoints written by tools/train/")
    demo.add_argument("--train-dir", type=Path, default=Path("out/train"))
    demo.add_argument("--out", type=Path, default=Path("out/models/demo"))
    demo.add_argument("--model-id", default="demo-synthetic")
    demo.add_argument("--version", default="0.1.0")
    args = parser.parse_args()
    if args.command == "demo":
        _demo(args)


if __name__ == "__main__":
    main()
