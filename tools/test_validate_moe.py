#!/usr/bin/env python3
"""Checks of validate_moe.py on hand-built model directories (tiny ONNX graphs from onnx.helper).
No torch (CI-capable). Plain python: `python tools/test_validate_moe.py`; exits non-zero on the
first failure. Each broken manifest must be rejected with the expected message; the good ones pass."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_moe import validate  # noqa: E402

W, H, C, F, FH, FW = 8, 4, 3, 5, 1, 2


def graph(path: Path, inputs: dict[str, list[int]], outputs: dict[str, list[int]]) -> None:
    """A graph whose outputs are constants of the given shapes (only the interface matters here)."""
    nodes = [helper.make_node("ConstantOfShape", [], [name],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]))
             for name in outputs]
    for node, shape in zip(nodes, outputs.values()):
        node.input.append(f"{node.output[0]}_shape")
    initializers = [helper.make_tensor(f"{n}_shape", TensorProto.INT64, [len(s)], s) for n, s in outputs.items()]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
                          initializers)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


HEADER = f'''format = "moeseg.moe"
format_version = 1
id = "t"
version = "1"

[input]
width = {W}
height = {H}
color = "rgb"
scale = 0.00392156862745098
mean = [0.5, 0.5, 0.5]
std = [0.2, 0.2, 0.2]

[classes]
names = ["a", "b", "c"]
colors = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
'''
EXPERT = '''
[[experts]]
name = "{name}"
file = "../experts/{name}.onnx"
logits = "logits"
features = "features"
'''
GATE = '''
[gate]
file = "gate.onnx"
kind = "{kind}"
inputs = ["f0", "f1"]
output = "gate_logits"
'''


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="validate_moe_test_"))
    try:
        image = {"image": [1, 3, H, W]}
        expert_out = {"logits": [1, C, H, W], "features": [1, F, FH, FW]}
        graph(root / "experts/a.onnx", image, expert_out)
        graph(root / "experts/b.onnx", image, expert_out)
        graph(root / "experts/wide.onnx", image, {"logits": [1, C + 1, H, W], "features": [1, F, FH, FW]})
        graph(root / "experts/mc.onnx", {**image, "dropout_mask": [1, 4, 1, 2]}, expert_out)
        features = {"f0": [1, F, FH, FW], "f1": [1, F, FH, FW]}
        graph(root / "moe/gate.onnx", features, {"gate_logits": [1, 2]})
        graph(root / "cw/gate.onnx", features, {"gate_logits": [1, 2, C]})
        graph(root / "cw/conv.onnx", {"moe_logits": [1, C, H, W]}, {"logits": [1, C, H, W]})
        two = EXPERT.format(name="a") + EXPERT.format(name="b")
        cases = {  # folder name: (manifest, expected error fragment or None)
            "moe": (HEADER + two + GATE.format(kind="simple"), None),
            "cw": (HEADER + two + GATE.format(kind="classwise") + '\n[combine]\nrule = "logits"\nconv = "conv.onnx"\n', None),
            "ens": (HEADER + two, None),
            "mc": (HEADER + EXPERT.format(name="mc") + "\n[mc_dropout]\npasses = 4\nrate = 0.1\n", None),
            "bad_kind": (HEADER + two + GATE.format(kind="classwise").replace("gate.onnx", "../moe/gate.onnx"),
                         "a classwise gate needs [1, 2, 3]"),
            "bad_escape": (HEADER + two.replace("../experts/b.onnx", "../../b.onnx"), "leaves the models folder"),
            "bad_missing": (HEADER + two.replace("b.onnx", "c.onnx"), "does not exist"),
            "bad_classes": (HEADER + two.replace('"b"', '"wide"', 1).replace("experts/b", "experts/wide"),
                            "disagree on the class count"),
            "bad_names": (HEADER.replace('"c"]', '"c", "d"]') + two, "4 class names"),
            "bad_version": (HEADER.replace("format_version = 1", "format_version = 2") + two, "not supported"),
            "bad_key": (HEADER + "colour = 1\n" + two, "unknown key"),
            "bad_mc_gate": (HEADER + two + "\n[mc_dropout]\npasses = 4\nrate = 0.1\n", "exactly one expert"),
            "bad_mc_mask": (HEADER + EXPERT.format(name="a") + "\n[mc_dropout]\npasses = 4\nrate = 0.1\n",
                            "needs the input 'dropout_mask'"),
            "bad_rate": (HEADER + EXPERT.format(name="mc") + "\n[mc_dropout]\npasses = 4\nrate = 1.5\n", "rate"),
            "bad_gate_one": (HEADER + EXPERT.format(name="a") + GATE.format(kind="simple"), "at least two experts"),
            "bad_conv_rule": (HEADER + two + GATE.format(kind="classwise").replace("gate.onnx", "../cw/gate.onnx")
                              + '\n[combine]\nrule = "probabilities"\nconv = "../cw/conv.onnx"\n', "needs a gate and rule"),
            "bad_toml": (HEADER + "[[experts]\n", "moe.toml"),
        }
        for name, (text, expected) in cases.items():
            folder = root / name
            folder.mkdir(exist_ok=True)
            (folder / "moe.toml").write_text(text)
            errors, summary = validate(folder, root)
            if expected is None:
                assert not errors, f"{name}: {errors}"
                print(f"ok {name}: {summary}")
            else:
                assert any(expected in e for e in errors), f"{name}: expected {expected!r}, got {errors}"
                print(f"ok {name} rejected: {next(e for e in errors if expected in e).split(': ', 1)[1]}")
    finally:
        shutil.rmtree(root)
    print("all validate_moe checks passed")


if __name__ == "__main__":
    main()
