#!/usr/bin/env python3
"""Validates a moeseg model directory (moe.toml + ONNX files) by the rules of
docs/model-format.md; the Python reference for moeseg's own loader. Needs onnx (no torch).

    validate_moe.py MODEL_DIR [--root MODELS_FOLDER]
Prints "ok: <summary>" or one "error: ..." line per problem; exit status 1 on any error."""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import onnx

TOP = {"format", "format_version", "id", "version", "description", "input", "classes", "experts", "gate",
       "combine", "mc_dropout"}
TABLES = {
    "input": ({"width", "height", "color", "scale", "mean", "std"}, set()),
    "classes": ({"names", "colors"}, set()),
    "experts": ({"name", "file", "logits"}, {"features"}),
    "gate": ({"file", "kind", "inputs", "output"}, set()),
    "combine": (set(), {"rule", "conv"}),
    "mc_dropout": ({"passes", "rate"}, set()),
}
MASK_INPUT = "dropout_mask"


def _shape(value_info) -> list[int | str]:
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]


def _interface(path: Path) -> tuple[dict[str, list], dict[str, list]]:
    model = onnx.load(str(path), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    inputs = {i.name: _shape(i) for i in model.graph.input if i.name not in initializers}
    return inputs, {o.name: _shape(o) for o in model.graph.output}


def validate(folder: Path, root: Path | None = None) -> tuple[list[str], str]:
    """(errors, summary) for the model directory `folder`; files must stay inside `root`
    (default: the folder's parent, the models folder)."""
    errors: list[str] = []
    manifest_path = folder / "moe.toml"
    try:
        m = tomllib.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return [f"{manifest_path}: {error}"], ""
    root = (root or folder.parent).resolve()

    def fail(message: str) -> None:
        errors.append(f"{manifest_path}: {message}")

    for key in sorted(set(m) - TOP):
        fail(f"unknown key {key!r}")
    if m.get("format") != "moeseg.moe":
        fail('format must be "moeseg.moe"')
    if m.get("format_version") != 1:
        fail(f"format_version {m.get('format_version')!r} is not supported (1)")
    for key in ("id", "version"):
        if not isinstance(m.get(key), str) or not m.get(key):
            fail(f"{key} must be a non-empty string")
    for table, (required, optional) in TABLES.items():
        if table not in m:
            continue
        entries = m[table] if table == "experts" else [m[table]]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            fail(f"[{table}] has the wrong type")
            return errors, ""
        for entry in entries:
            for key in sorted(required - set(entry)):
                fail(f"[{table}] lacks {key!r}")
            for key in sorted(set(entry) - required - optional):
                fail(f"[{table}] has unknown key {key!r}")
    for table in ("input", "classes", "experts"):
        if table not in m:
            fail(f"[{table}] is missing")
    if errors:
        return errors, ""

    def resolve(relative: str) -> Path | None:
        path = (folder / relative).resolve()
        if not path.is_relative_to(root):
            fail(f"{relative} leaves the models folder {root}")
            return None
        if not path.is_file():
            fail(f"{relative} does not exist")
            return None
        return path

    inp = m["input"]
    width, height = inp["width"], inp["height"]
    if not all(isinstance(v, int) and v > 0 for v in (width, height)):
        fail("input width and height must be positive integers")
    if inp["color"] not in ("rgb", "bgr"):
        fail('input color must be "rgb" or "bgr"')
    if len(inp["mean"]) != 3 or len(inp["std"]) != 3 or min(inp["std"]) <= 0:
        fail("input mean and std need 3 values each, std > 0")

    experts = m["experts"]
    if not experts:
        fail("no experts")
    names = [e["name"] for e in experts]
    if len(set(names)) != len(names):
        fail("expert names are not unique")
    mc = "mc_dropout" in m
    classes, feature_shapes = set(), []
    for e in experts:
        path = resolve(e["file"])
        if path is None:
            continue
        inputs, outputs = _interface(path)
        images = {n: s for n, s in inputs.items() if n != MASK_INPUT}
        if len(images) != 1 or list(images.values())[0] != [1, 3, height, width]:
            fail(f"expert {e['name']}: needs one image input [1, 3, {height}, {width}], has {inputs}")
        if mc and MASK_INPUT not in inputs:
            fail(f"expert {e['name']}: an MC-dropout expert needs the input {MASK_INPUT!r}")
        logits = outputs.get(e["logits"])
        if logits is None or len(logits) != 4 or logits[0] != 1 or logits[2:] != [height, width] \
                or not isinstance(logits[1], int):
            fail(f"expert {e['name']}: logits output {e['logits']!r} must be [1, C, {height}, {width}], is {logits}")
        else:
            classes.add(logits[1])
        if "features" in e:
            shape = outputs.get(e["features"])
            if shape is None or len(shape) != 4 or not all(isinstance(d, int) and d > 0 for d in shape):
                fail(f"expert {e['name']}: features output {e['features']!r} must be a static [1, F, h, w], is {shape}")
            feature_shapes.append(shape)
    if len(classes) > 1:
        fail(f"experts disagree on the class count: {sorted(classes)}")
    num_classes = classes.pop() if len(classes) == 1 else None
    names_, colors = m["classes"]["names"], m["classes"]["colors"]
    if num_classes is not None and not (len(names_) == len(colors) == num_classes):
        fail(f"{len(names_)} class names and {len(colors)} colours for {num_classes} logit channels")
    if any(len(c) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colors):
        fail("class colours must be [r, g, b] with 0...255")

    gate = m.get("gate")
    if gate is not None:
        if len(experts) < 2:
            fail("a gate needs at least two experts")
        if len(feature_shapes) != len(experts):
            fail("with a gate every expert needs a features output")
        if gate["kind"] not in ("simple", "classwise"):
            fail('gate kind must be "simple" or "classwise"')
        if len(gate["inputs"]) != len(experts):
            fail(f"gate inputs name {len(gate['inputs'])} graph inputs for {len(experts)} experts")
        path = resolve(gate["file"])
        if path is not None and not errors:
            inputs, outputs = _interface(path)
            for name, shape in zip(gate["inputs"], feature_shapes):
                if inputs.get(name) != shape:
                    fail(f"gate input {name!r} is {inputs.get(name)}, the expert's features are {shape}")
            out = outputs.get(gate["output"])
            want = [1, len(experts)] if gate["kind"] == "simple" else [1, len(experts), num_classes]
            if out != want:
                fail(f"gate output {gate['output']!r} is {out}, a {gate['kind']} gate needs {want}")
    combine = m.get("combine", {})
    rule = combine.get("rule", "logits")
    if rule not in ("logits", "probabilities"):
        fail('combine rule must be "logits" or "probabilities"')
    if "conv" in combine:
        if rule != "logits" or gate is None:
            fail("a combine conv needs a gate and rule = \"logits\"")
        path = resolve(combine["conv"])
        if path is not None and num_classes is not None:
            inputs, outputs = _interface(path)
            want = [1, num_classes, height, width]
            if inputs != {"moe_logits": want} or outputs.get("logits") != want:
                fail(f"combine conv must map moe_logits {want} to logits {want}; has {inputs} -> {outputs}")
    if mc:
        if len(experts) != 1 or gate is not None:
            fail("MC dropout is exactly one expert and no gate")
        passes, rate = m["mc_dropout"]["passes"], m["mc_dropout"]["rate"]
        if not isinstance(passes, int) or passes < 2:
            fail("mc_dropout passes must be an integer >= 2")
        if not isinstance(rate, float) or not 0 < rate < 1:
            fail("mc_dropout rate must be in (0, 1)")
    kind = ("mc-dropout" if mc else f"moe ({gate['kind']} gate{', +conv' if 'conv' in combine else ''})"
            if gate else "ensemble" if len(experts) > 1 else "single model")
    return errors, f"{m['id']} {m['version']}: {kind}, {len(experts)} expert(s), {num_classes} classes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--root", type=Path, help="models folder the files must stay in (default: parent)")
    args = parser.parse_args()
    failed = False
    for folder in args.folders:
        errors, summary = validate(folder, args.root)
        for error in errors:
            print(f"error: {error}")
        if not errors:
            print(f"ok: {folder}: {summary}")
        failed |= bool(errors)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
