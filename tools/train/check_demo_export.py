#!/usr/bin/env python3
"""Checks an exported model directory tree (export_moe.py) against moeseg's engine: for every
moe.toml it writes fixture-layout cases (tools/README.md) with REAL inputs - a test frame for each
expert, those experts' onnxruntime features for the gate, their gate-mixed logits for the combine
conv, a seeded Bernoulli mask for an MC-dropout expert - then runs tools/check_engine.py on them
(moeseg infer vs onnxruntime: max|diff| <= 1e-4 x max|out|, argmax agreement on logits).

    check_demo_export.py out/models/demo [--frame out/data/test_urban_22000.mcap:0] [--cases out/check]
Needs numpy, onnx, onnxruntime, mcap (no torch)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fixture_io  # noqa: E402
import dataset  # noqa: E402
from normalisation import to_input  # noqa: E402
from onnx_sessions import softmax  # noqa: E402


def recording_classes(path: str) -> tuple[list[str], list[list[int]]]:
    """Class names and colours from a recording's moeseg.recording metadata (the scene's class table)."""
    import json

    from mcap.reader import make_reader

    with open(path, "rb") as stream:
        for record in make_reader(stream).iter_metadata():
            if record.name == "moeseg.recording":
                table = json.loads(record.metadata["class_table"])["classes"]
                return [c["name"] for c in table], [list(c["color"]) for c in table]
    raise SystemExit(f"{path}: no moeseg.recording metadata")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--frame", default="out/data/test_urban_22000.mcap:0", help="RECORDING:INDEX of the input frame")
    parser.add_argument("--cases", type=Path, default=Path("out/check"))
    parser.add_argument("--moeseg", default=".build/release/moeseg")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    recording, index = args.frame.rsplit(":", 1)
    images, _ = dataset.load(recording)
    image = to_input(images[int(index)])[None]
    names, colors = recording_classes(recording)
    done: dict[Path, dict[str, np.ndarray]] = {}
    for manifest_path in sorted(args.models.rglob("moe.toml")):
        folder = manifest_path.parent
        manifest = tomllib.loads(manifest_path.read_text())
        if manifest["classes"]["names"] != names or manifest["classes"]["colors"] != colors:
            raise SystemExit(f"{manifest_path}: class table differs from the recording's")
        outputs = []
        for expert in manifest["experts"]:
            path = (folder / expert["file"]).resolve()
            if path not in done:
                feeds = {"image": image}
                if "mc_dropout" in manifest:
                    model = onnx.load(str(path))
                    shape = [d.dim_value for d in next(i for i in model.graph.input if i.name == "dropout_mask")
                             .type.tensor_type.shape.dim]
                    rate = manifest["mc_dropout"]["rate"]
                    feeds["dropout_mask"] = (np.random.default_rng(7).random(shape) >= rate).astype(np.float32)
                done[path] = fixture_io.write_case(args.cases / path.stem, onnx.load(str(path)), feeds,
                                                   f"{path} on {args.frame}", 1, argmax_outputs=["logits"])
            outputs.append(done[path])
        if "gate" in manifest:
            gate = manifest["gate"]
            feeds = {name: out["features"] for name, out in zip(gate["inputs"], outputs)}
            case = args.cases / f"{folder.name}_gate"
            gate_logits = fixture_io.write_case(case, onnx.load(str(folder / gate["file"])), feeds,
                                                f"{folder / gate['file']} on the experts' features", None)
            weights = softmax(gate_logits[gate["output"]], 1)
            print(f"{folder.name}: gate weights on {args.frame}: {np.round(weights.reshape(len(outputs), -1).mean(1), 3)}")
            conv = manifest.get("combine", {}).get("conv")
            if conv:
                stacked = np.stack([o["logits"] for o in outputs], 1)
                w = weights[:, :, None, None, None] if weights.ndim == 2 else weights[:, :, :, None, None]
                mixed = (w * stacked).sum(1).astype(np.float32)
                fixture_io.write_case(args.cases / f"{folder.name}_conv", onnx.load(str(folder / conv)),
                                      {"moe_logits": mixed}, f"{folder / conv} on the mixed logits", 1)
    command = [sys.executable, str(Path(__file__).resolve().parents[1] / "check_engine.py"), str(args.cases),
               "--moeseg", args.moeseg, "--threads", str(args.threads)]
    sys.exit(subprocess.call(command))


if __name__ == "__main__":
    main()
