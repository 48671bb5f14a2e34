"""The engine fixture layout, shared by the export and check scripts (numpy/onnx/onnxruntime only,
no torch, so it also runs in CI).

A case directory holds model.onnx, input.npy (or input_<name>.npy per graph input), expected/
<sanitised output name>.npy (onnxruntime's outputs) and case.json."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def sanitize(name: str) -> str:
    """File-name form of a tensor name: every character outside [A-Za-z0-9._-] becomes '_'."""
    return _UNSAFE.sub("_", name)


def make_session(model_path: str | Path, threads: int = 1, *, spinning: bool = True,
                 optimization=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.InferenceSession:
    """An onnxruntime CPU session configured the way every comparison in moeseg uses it."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = optimization
    options.log_severity_level = 3
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def run_reference(model_path: str | Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's outputs (ORT_ENABLE_ALL, 1 thread), keyed by original output name, in graph order."""
    session = make_session(model_path, threads=1)
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, feeds)
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in zip(names, values)}


def input_file_names(input_names: list[str]) -> dict[str, str]:
    """File name of each graph input: input.npy for a single input, else input_<sanitised>.npy."""
    if len(input_names) == 1:
        return {input_names[0]: "input.npy"}
    return {name: f"input_{sanitize(name)}.npy" for name in input_names}


def graph_inputs(model: onnx.ModelProto) -> list[str]:
    """Names of the graph's real inputs (initializers listed as inputs in old IR versions excluded)."""
    initializers = {init.name for init in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in initializers]


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    """Count of each node op type, including nodes inside subgraphs, sorted by name."""
    counts: Counter[str] = Counter()

    def visit(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            counts[node.op_type] += 1
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    visit(attribute.g)
                for subgraph in attribute.graphs:
                    visit(subgraph)

    visit(model.graph)
    return dict(sorted(counts.items()))


def write_case(case_dir: Path, model: onnx.ModelProto, feeds: dict[str, np.ndarray], source: str,
               argmax_axis: int | None, *, argmax_outputs: list[str] | None = None,
               external_data: bool = False) -> dict[str, np.ndarray]:
    """Writes one case directory (replacing any old one) and returns the reference outputs.

    `argmax_outputs` names the outputs that are class logits when not every 4-D output is (a
    DeepLabv3+ expert's ASPP features are not: an argmax over them means nothing)."""
    if case_dir.exists():
        shutil.rmtree(case_dir)
    (case_dir / "expected").mkdir(parents=True)
    onnx.checker.check_model(model, full_check=True)
    model_path = case_dir / "model.onnx"
    if external_data:
        onnx.save_model(model, model_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
    else:
        onnx.save_model(model, model_path)

    input_names = graph_inputs(model)
    if sorted(input_names) != sorted(feeds):
        raise ValueError(f"{case_dir.name}: graph inputs {input_names} but feeds for {sorted(feeds)}")
    files = input_file_names(input_names)
    for name in input_names:
        np.save(case_dir / files[name], np.ascontiguousarray(feeds[name], dtype=np.float32))

    outputs = run_reference(model_path, feeds)
    for name, value in outputs.items():
        np.save(case_dir / "expected" / f"{sanitize(name)}.npy", value)

    description = {"source": source, "outputs": list(outputs), "argmax_axis": argmax_axis}
    if argmax_axis is not None and argmax_outputs is not None:
        description["argmax_outputs"] = argmax_outputs
    if len(input_names) > 1:
        description["inputs"] = input_names
    (case_dir / "case.json").write_text(json.dumps(description, indent=2) + "\n")
    return outputs


def load_case(case_dir: Path) -> tuple[Path, dict[str, np.ndarray], dict]:
    """(model path, feeds by input name, case.json) of a fixture-layout directory."""
    description = json.loads((case_dir / "case.json").read_text())
    model_path = case_dir / "model.onnx"
    input_names = description.get("inputs") or graph_inputs(onnx.load(model_path, load_external_data=False))
    files = input_file_names(input_names)
    feeds = {name: np.load(case_dir / files[name]) for name in input_names}
    return model_path, feeds, description


def synthetic_image(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A normalised NCHW float32 "image": smooth random blobs plus fine noise, zero mean and unit
    variance per channel, so segmentation nets produce spatially coherent, varied class maps."""
    n, c, h, w = shape
    coarse = rng.standard_normal((n, c, max(2, h // 8), max(2, w // 8)))
    rows = np.linspace(0, coarse.shape[2] - 1, h)
    cols = np.linspace(0, coarse.shape[3] - 1, w)
    r0 = np.floor(rows).astype(int).clip(0, coarse.shape[2] - 2)
    c0 = np.floor(cols).astype(int).clip(0, coarse.shape[3] - 2)
    fr = (rows - r0)[:, None]
    fc = (cols - c0)[None, :]
    top = coarse[:, :, r0][:, :, :, c0] * (1 - fc) + coarse[:, :, r0][:, :, :, c0 + 1] * fc
    bottom = coarse[:, :, r0 + 1][:, :, :, c0] * (1 - fc) + coarse[:, :, r0 + 1][:, :, :, c0 + 1] * fc
    image = top * (1 - fr) + bottom * fr + 0.3 * rng.standard_normal((n, c, h, w))
    image = (image - image.mean(axis=(2, 3), keepdims=True)) / image.std(axis=(2, 3), keepdims=True)
    return image.astype(np.float32)


def argmax_applies(description: dict, output_name: str, output: np.ndarray) -> bool:
    """Whether the per-pixel argmax check applies to this output of a case: the case has an
    argmax axis, the output is 4-D with more than one class, and it is listed in "argmax_outputs"
    when the case.json has that key."""
    axis = description.get("argmax_axis")
    if axis is None or output.ndim != 4 or output.shape[axis] < 2:
        return False
    listed = description.get("argmax_outputs")
    return listed is None or output_name in listed


def argmax_summary(logits: np.ndarray, axis: int = 1) -> dict[str, float]:
    """How usable a logit map is for an argmax-agreement test: distinct winning classes, the
    share of the most common one, and the share of pixels whose top-2 gap is within 1e-4 x max|logits|
    (those may legitimately flip between correct implementations)."""
    winners = np.argmax(logits, axis=axis)
    counts = np.bincount(winners.ravel(), minlength=logits.shape[axis])
    top2 = np.sort(logits, axis=axis)
    gap = np.take(top2, -1, axis=axis) - np.take(top2, -2, axis=axis)
    tolerance = 1e-4 * float(np.abs(logits).max())
    return {
        "classes_present": int((counts > 0).sum()),
        "dominant_share": float(counts.max() / winners.size),
        "near_tie_share": float((gap <= tolerance).mean()),
    }
