#!/usr/bin/env python3
"""Randomly initialised moeseg model directories and their full-model reference outputs.

numpy + onnx + onnxruntime only (no torch: CI has none). Each case is a model directory
(moe.toml + tiny ONNX experts, gate and optional "+conv", made with onnx.helper) plus an
input.npy, and reference/<name>.npy for every file `moeseg infer` writes: the graphs run in
onnxruntime, the mixture maths in numpy float64 (tools/reference/uncertainty_ref.py, written
from UNCERTAINTY.md, not from the Swift code).

    random_mixtures.py OUT_DIR            # builds every case in CASES under OUT_DIR
    random_mixtures.py --reference MODEL_DIR INPUT.npy OUT_DIR [--routing-samples K] [--masks DIR]
        [--temperature T] [--seed S] [--routing-form F]   # reference outputs for any model dir
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uncertainty_ref as ref  # noqa: E402

OPSET = 17
WIDTH, HEIGHT = 64, 32
FEATURES = 6

# name: (experts, classes, gate kind or None, combine rule, conv, routing samples)
CASES = {
    "moe2-simple": (2, 5, "simple", "logits", False, 4),
    "moe3-classwise": (3, 4, "classwise", "logits", False, 3),
    "moe5-simple": (5, 6, "simple", "logits", False, 2),
    "moe3-simple-prob": (3, 3, "simple", "probabilities", False, 0),
    "moe2-classwise-conv": (2, 2, "classwise", "logits", True, 3),
    "moe5-classwise-prob": (5, 3, "classwise", "probabilities", False, 2),
    "ensemble3": (3, 4, None, "logits", False, 0),
}


def _tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def _save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def make_expert(path, rng, classes, features=FEATURES, scale=1.0):
    """image [1,3,H,W] -> conv3x3 -> relu -> conv3x3 -> logits [1,C,H,W]; stride-2 conv -> features."""
    hidden = 8
    inits = [
        _tensor("w1", rng.normal(0, 0.5, (hidden, 3, 3, 3))), _tensor("b1", rng.normal(0, 0.1, hidden)),
        _tensor("w2", rng.normal(0, scale * 0.6, (classes, hidden, 3, 3))), _tensor("b2", rng.normal(0, 0.5, classes)),
        _tensor("wf", rng.normal(0, 0.4, (features, hidden, 3, 3))), _tensor("bf", rng.normal(0, 0.1, features)),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["h1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["logits"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a1", "wf", "bf"], ["hf"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["hf"], ["features"]),
    ]
    graph = helper.make_graph(
        nodes, "expert",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, HEIGHT, WIDTH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes, HEIGHT, WIDTH]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, features, HEIGHT // 2, WIDTH // 2])],
        inits)
    _save(graph, path)


def make_gate(path, rng, experts, classes, kind, features=FEATURES, outputs=None, feature_hw=None):
    """E feature maps -> concat -> global average pool -> flatten -> gemm -> [1,E] or [1,E,C]."""
    out = outputs or (experts if kind == "simple" else experts * classes)
    names = [f"features_{e}" for e in range(experts)]
    inits = [_tensor("wg", rng.normal(0, 2.0, (out, experts * features))), _tensor("bg", rng.normal(0, 0.5, out))]
    nodes = [
        helper.make_node("Concat", names, ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
    ]
    if kind == "simple" or outputs is not None:
        nodes.append(helper.make_node("Gemm", ["flat", "wg", "bg"], ["gate_logits"], transB=1))
        shape = [1, out]
    else:
        inits.append(numpy_helper.from_array(np.array([1, experts, classes], dtype=np.int64), "shape"))
        nodes += [helper.make_node("Gemm", ["flat", "wg", "bg"], ["g2"], transB=1),
                  helper.make_node("Reshape", ["g2", "shape"], ["gate_logits"])]
        shape = [1, experts, classes]
    graph = helper.make_graph(
        nodes, "gate",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, features] + list(feature_hw or (HEIGHT // 2, WIDTH // 2)))
         for n in names],
        [helper.make_tensor_value_info("gate_logits", TensorProto.FLOAT, shape)], inits)
    _save(graph, path)


def make_conv(path, rng, classes):
    """The "+conv": moe_logits [1,C,H,W] -> 3x3 conv C->C without bias -> logits."""
    weight = rng.normal(0, 0.3, (classes, classes, 3, 3))
    weight[:, :, 1, 1] += np.eye(classes)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["moe_logits", "wc"], ["logits"], pads=[1, 1, 1, 1])], "combine",
        [helper.make_tensor_value_info("moe_logits", TensorProto.FLOAT, [1, classes, HEIGHT, WIDTH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes, HEIGHT, WIDTH])],
        [_tensor("wc", weight)])
    _save(graph, path)


def make_bench_expert(path, rng, classes, width, height):
    """A demo-sized expert (~0.45 GFLOP at 512x256): three stride-2 3x3 convs, two 3x3 convs at
    1/8 resolution (the "ASPP" features), a 1x1 classifier and an 8x bilinear upsample."""
    def conv(name, cin, cout, k=3):
        return [_tensor(name + "_w", rng.normal(0, math.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))),
                _tensor(name + "_b", rng.normal(0, 0.05, cout))]
    inits = conv("c1", 3, 16) + conv("c2", 16, 32) + conv("c3", 32, 64) + conv("c4", 64, 64) + conv("c5", 64, 64) \
        + conv("cls", 64, classes, 1)
    inits.append(numpy_helper.from_array(np.array([1, 1, 8, 8], dtype=np.float32), "scales"))
    nodes, x = [], "image"
    for name, stride in (("c1", 2), ("c2", 2), ("c3", 2), ("c4", 1), ("c5", 1)):
        nodes += [helper.make_node("Conv", [x, name + "_w", name + "_b"], [name], pads=[1, 1, 1, 1], strides=[stride, stride]),
                  helper.make_node("Relu", [name], [name + "_r"])]
        x = name + "_r"
    nodes += [helper.make_node("Identity", [x], ["features"]),
              helper.make_node("Conv", [x, "cls_w", "cls_b"], ["low"]),
              helper.make_node("Resize", ["low", "", "scales"], ["logits"], mode="linear",
                               coordinate_transformation_mode="half_pixel")]
    graph = helper.make_graph(
        nodes, "bench_expert",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes, height, width]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 64, height // 8, width // 8])], inits)
    _save(graph, path)


def build_bench(directory, experts=2, classes=12, width=512, height=256, gate="simple"):
    """A randomly initialised mixture with the demo model's shape, for `moeseg bench`."""
    global WIDTH, HEIGHT, FEATURES
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(99)
    saved = (WIDTH, HEIGHT, FEATURES)
    WIDTH, HEIGHT, FEATURES = width, height, 64
    try:
        for e in range(experts):
            make_bench_expert(os.path.join(directory, f"expert_{e}.onnx"), rng, classes, width, height)
        make_gate(os.path.join(directory, "gate.onnx"), rng, experts, classes, gate, features=64,
                  feature_hw=(height // 8, width // 8))
        write_manifest(directory, experts, classes, gate, "logits", False)
    finally:
        WIDTH, HEIGHT, FEATURES = saved


def write_manifest(directory, experts, classes, gate, rule, conv, extra=""):
    names = ", ".join(f'"class {c}"' for c in range(classes))
    colors = ", ".join(f"[{(37 * c) % 256}, {(91 * c) % 256}, {(53 * c) % 256}]" for c in range(classes))
    lines = [
        'format = "moeseg.moe"', "format_version = 1", f'id = "random-{os.path.basename(directory)}"',
        'version = "0.0.1"', 'description = "randomly initialised test mixture"', "",
        "[input]", f"width = {WIDTH}", f"height = {HEIGHT}", 'color = "rgb"', "scale = 0.00392156862745098",
        "mean = [0.485, 0.456, 0.406]", "std = [0.229, 0.224, 0.225]", "",
        "[classes]", f"names = [{names}]", f"colors = [{colors}]", "",
    ]
    for e in range(experts):
        lines += ["[[experts]]", f'name = "expert{e}"', f'file = "expert_{e}.onnx"', 'logits = "logits"',
                  'features = "features"', ""]
    if gate:
        inputs = ", ".join(f'"features_{e}"' for e in range(experts))
        lines += ["[gate]", 'file = "gate.onnx"', f'kind = "{gate}"', f"inputs = [{inputs}]", 'output = "gate_logits"', ""]
    lines += ["[combine]", f'rule = "{rule}"'] + (['conv = "combine_conv.onnx"'] if conv else []) + [""]
    with open(os.path.join(directory, "moe.toml"), "w") as f:
        f.write("\n".join(lines) + extra)


def build_case(directory, seed, experts, classes, gate, rule, conv):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    for e in range(experts):
        make_expert(os.path.join(directory, f"expert_{e}.onnx"), rng, classes, scale=1.0 + e)
    if gate:
        make_gate(os.path.join(directory, "gate.onnx"), rng, experts, classes, gate)
    if conv:
        make_conv(os.path.join(directory, "combine_conv.onnx"), rng, classes)
    write_manifest(directory, experts, classes, gate, rule, conv)
    image = rng.normal(0, 1.0, (1, 3, HEIGHT, WIDTH)).astype(np.float32)
    np.save(os.path.join(directory, "input.npy"), image)


# ---------------------------------------------------------------- full-model reference

def _run(path, feeds):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def mc_dropout_reference(directory, manifest, image, masks):
    """MC dropout: each pass is the expert run with the mask `moeseg infer` wrote for it
    (dropout_mask_<s>.npy in `masks`), then the maps of the S equally weighted passes."""
    if masks is None:
        raise ValueError("MC-dropout models have random masks: give --masks DIR with the masks infer wrote")
    expert = manifest["experts"][0]
    session = ort.InferenceSession(os.path.join(directory, expert["file"]), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    image_name = next(i.name for i in session.get_inputs() if i.name != "dropout_mask")
    out, logits = {}, []
    for s in range(manifest["mc_dropout"]["passes"]):
        mask = np.load(os.path.join(masks, f"dropout_mask_{s}.npy")).astype(np.float32)
        outputs = dict(zip(names, session.run(None, {image_name: image, "dropout_mask": mask})))
        logits.append(outputs[expert["logits"]][0].astype(np.float64))
        out[f"dropout_mask_{s}"] = mask
    z = np.stack(logits)
    maps = ref.sample_maps(z)
    out.update({f"expert_{s}_logits": z[s] for s in range(len(z))})
    out.update(prediction=maps["prediction"], probabilities=maps["mean"], pe_ensemble=maps["pe"], mi_ensemble=maps["mi"])
    return out


def reference(directory, image, routing, masks=None):
    """Every output `moeseg infer` writes, by file stem, computed with onnxruntime + numpy."""
    with open(os.path.join(directory, "moe.toml"), "rb") as f:
        manifest = tomllib.load(f)
    if "mc_dropout" in manifest:
        return mc_dropout_reference(directory, manifest, image, masks)
    experts = manifest["experts"]
    logits, features = [], []
    for expert in experts:
        path = os.path.join(directory, expert["file"])
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        outputs = dict(zip([o.name for o in session.get_outputs()],
                           session.run(None, {session.get_inputs()[0].name: image})))
        logits.append(outputs[expert["logits"]][0].astype(np.float64))
        if "features" in expert:
            features.append(outputs[expert["features"]])
    z = np.stack(logits)
    classes = z.shape[1]
    out = {f"expert_{e}_logits": z[e] for e in range(len(experts))}
    gate = manifest.get("gate")
    combine = manifest.get("combine", {})
    if gate is None:
        maps = ref.sample_maps(z)
        out.update(prediction=maps["prediction"], probabilities=maps["mean"])
        if len(experts) > 1:
            out.update(pe_ensemble=maps["pe"], mi_ensemble=maps["mi"])
        return out
    a = _run(os.path.join(directory, gate["file"]), dict(zip(gate["inputs"], features)))[gate["output"]][0]
    a = a.astype(np.float64)
    transform = None
    if "conv" in combine:
        conv_path = os.path.join(directory, combine["conv"])
        transform = lambda z_moe: _run(conv_path, {"moe_logits": z_moe[None].astype(np.float32)})["logits"][0].astype(np.float64)  # noqa: E731
    sets = ("stacked", "ensemble") + (("weighted",) if gate["kind"] == "simple" else ())
    maps = ref.mixture_maps(z, a, gate=gate["kind"], combine=combine.get("rule", "logits"), member_sets=sets,
                            routing=routing, frame_index=0, moe_transform=transform)
    out.update(gate_logits=a, gate_weights=maps["gate_weights"], prediction=maps["prediction"],
               probabilities=maps["probabilities"], ev=maps["expert_variance"])
    if "moe_logits" in maps:
        out["moe_logits"] = maps["moe_logits"]
    for name in ("pe_stacked", "mi_stacked", "pe_weighted", "mi_weighted", "pe_ensemble", "mi_ensemble",
                 "routing_pe", "routing_mi"):
        if name in maps:
            out[name] = maps[name]
    h, w = z.shape[2:]
    out["gate_entropy"] = maps["gate_entropy_map"] if gate["kind"] == "classwise" else np.full((h, w), float(maps["gate_entropy"]))
    return out


def write_reference(directory, image, routing, target, masks=None):
    os.makedirs(target, exist_ok=True)
    for name, value in reference(directory, image, routing, masks).items():
        np.save(os.path.join(target, name + ".npy"), np.asarray(value, dtype=np.float64))


# Malformed model directories: name -> (what to break, a phrase the one-line error must contain).
MALFORMED = {
    "missing-file": "does not exist",
    "class-mismatch": "disagree on the class count",
    "feature-shape": "features are",
    "gate-outputs": "needs [1, 2]",
    "bad-toml": "not valid TOML",
    "unknown-key": "unknown key",
    "bad-version": "format_version",
    "class-names": "class names",
    "escape": "leaves the models folder",
    "no-moe-toml": "moe.toml",
    "repeated-gate-input": "twice",
}


def build_malformed(root):
    """One broken directory per MALFORMED entry, each otherwise a valid 2-expert simple mixture."""
    for index, name in enumerate(MALFORMED):
        directory = os.path.join(root, name)
        build_case(directory, 2000 + index, 2, 3, "simple", "logits", False)
        rng = np.random.default_rng(index)
        manifest = os.path.join(directory, "moe.toml")
        text = open(manifest).read()
        if name == "missing-file":
            os.remove(os.path.join(directory, "expert_1.onnx"))
        elif name == "class-mismatch":
            make_expert(os.path.join(directory, "expert_1.onnx"), rng, 4)
        elif name == "feature-shape":
            make_expert(os.path.join(directory, "expert_1.onnx"), rng, 3, features=FEATURES + 1)
        elif name == "gate-outputs":
            make_gate(os.path.join(directory, "gate.onnx"), rng, 2, 3, "simple", outputs=3)
        elif name == "bad-toml":
            open(manifest, "w").write(text.replace('kind = "simple"', 'kind = "simple'))
        elif name == "unknown-key":
            open(manifest, "w").write(text.replace('output = "gate_logits"', 'output = "gate_logits"\ntemprature = 2'))
        elif name == "bad-version":
            open(manifest, "w").write(text.replace("format_version = 1", "format_version = 2"))
        elif name == "class-names":
            open(manifest, "w").write(text.replace('names = ["class 0", ', 'names = ['))
        elif name == "escape":
            open(manifest, "w").write(text.replace('file = "gate.onnx"', 'file = "../../../etc/passwd"'))
        elif name == "no-moe-toml":
            os.remove(manifest)
        elif name == "repeated-gate-input":
            open(manifest, "w").write(text.replace('inputs = ["features_0", "features_1"]', 'inputs = ["features_0", "features_0"]'))
    with open(os.path.join(root, "malformed.json"), "w") as f:
        json.dump(MALFORMED, f, indent=1)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--bench", action="store_true", help="build a demo-sized 512x256, 12-class, 2-expert mixture in OUT_DIR")
    parser.add_argument("--experts", type=int, default=2, help="with --bench")
    parser.add_argument("--gate", default="simple", help="with --bench")
    parser.add_argument("--malformed", action="store_true", help="build the MALFORMED directories in OUT_DIR instead")
    parser.add_argument("--reference", nargs=3, metavar=("MODEL_DIR", "INPUT", "OUT_DIR"))
    parser.add_argument("--routing-samples", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--routing-form", default="scaled_noise")
    parser.add_argument("--masks", help="with --reference on an MC-dropout model: the directory of infer's dropout_mask_<s>.npy")
    args = parser.parse_args(argv[1:])
    if args.reference:
        model, image, target = args.reference
        routing = {"samples": args.routing_samples or 0, "temperature": args.temperature, "seed": args.seed,
                   "form": args.routing_form}
        write_reference(model, np.load(image).astype(np.float32), routing, target, args.masks)
        return 0
    if not args.out:
        parser.error("give OUT_DIR or --reference")
    if args.bench:
        build_bench(args.out, experts=args.experts, gate=args.gate)
        print(f"bench mixture in {args.out}")
        return 0
    if args.malformed:
        build_malformed(args.out)
        print(f"{len(MALFORMED)} malformed directories in {args.out}")
        return 0
    summary = {}
    for index, (name, (experts, classes, gate, rule, conv, samples)) in enumerate(CASES.items()):
        directory = os.path.join(args.out, name)
        build_case(directory, 1000 + index, experts, classes, gate, rule, conv)
        routing = {"samples": samples, "temperature": 0.8, "seed": 7 + index, "form": "scaled_noise"}
        image = np.load(os.path.join(directory, "input.npy"))
        write_reference(directory, image, routing if gate else None, os.path.join(directory, "reference"))
        summary[name] = routing if gate else {"samples": 0, "temperature": 1.0, "seed": 0, "form": "scaled_noise"}
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"{len(CASES)} cases in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
