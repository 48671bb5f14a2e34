"""Shared helpers for the int8 tooling (quant_cases.py, check_quant.py, quantize_ort.py): run
onnxruntime's static quantizer on a float ONNX file, describe the result (op histogram by
(op_type, domain), the quantization scale of each graph output), and compare outputs.

Library only (numpy, onnx, onnxruntime); nothing to run."""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime import quantization as oq

ACTIVATION_TYPES = {"u8": oq.QuantType.QUInt8, "s8": oq.QuantType.QInt8}
FORMATS = {"qdq": oq.QuantFormat.QDQ, "qoperator": oq.QuantFormat.QOperator}
METHODS = {"minmax": oq.CalibrationMethod.MinMax, "percentile": oq.CalibrationMethod.Percentile,
           "entropy": oq.CalibrationMethod.Entropy}


class FeedReader(oq.CalibrationDataReader):
    """Calibration data from a list of feed dicts (input name -> float32 array), in order."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self.feeds = feeds
        self.position, self.end = 0, len(feeds)

    def get_next(self):
        if self.position >= self.end:
            return None
        self.position += 1
        return self.feeds[self.position - 1]

    def rewind(self):
        self.position, self.end = 0, len(self.feeds)

    def set_range(self, start_index: int, end_index: int):
        """Used by quantize_static's CalibStridedMinMax: calibrate on a slice at a time."""
        self.position, self.end = start_index, min(end_index, len(self.feeds))

    def __len__(self):
        return len(self.feeds)


def quantize(float_path: Path, out_path: Path, calibration: list[dict[str, np.ndarray]], *,
             fmt: str = "qdq", activation: str = "u8", per_channel: bool = True, method: str = "minmax",
             pre_process: bool = False) -> None:
    """onnxruntime.quantization.quantize_static with s8 weights (symmetric, ORT's default) and the
    given activation type, format and calibration method; optionally quant_pre_process first."""
    source = float_path
    with tempfile.TemporaryDirectory(prefix="quantize_") as scratch:
        if pre_process:
            source = Path(scratch) / "preprocessed.onnx"
            oq.shape_inference.quant_pre_process(str(float_path), str(source))
        # The histogram methods keep every intermediate tensor of every sample until they are
        # binned: feed them in slices of up to 4 samples (the slice size must divide the count).
        stride = next(s for s in (4, 3, 2, 1) if len(calibration) % s == 0)
        extra = {"CalibStridedMinMax": stride} if method != "minmax" and stride < len(calibration) else {}
        logging.getLogger().setLevel(logging.ERROR)  # the "consider pre-processing" warning on every call
        oq.quantize_static(str(source), str(out_path), FeedReader(calibration), quant_format=FORMATS[fmt],
                           per_channel=per_channel, activation_type=ACTIVATION_TYPES[activation],
                           weight_type=oq.QuantType.QInt8, calibrate_method=METHODS[method], extra_options=extra)


def op_histogram(model: onnx.ModelProto) -> dict[tuple[str, str], int]:
    """Count of nodes per (op_type, domain) in the main graph, sorted; domain "" is ai.onnx."""
    counts = Counter((node.op_type, node.domain or "") for node in model.graph.node)
    return dict(sorted(counts.items()))


def format_histogram(histogram: dict[tuple[str, str], int]) -> str:
    return ", ".join(f"{op}{'@' + domain if domain else ''} {n}" for (op, domain), n in histogram.items())


def output_scales(model: onnx.ModelProto) -> dict[str, float]:
    """Scale of each graph output that a per-tensor DequantizeLinear produces (QDQ and QOperator
    models both end that way), by output name; other outputs are absent."""
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute:
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    producers = {out: node for node in model.graph.node for out in node.output}
    scales = {}
    for output in model.graph.output:
        node = producers.get(output.name)
        if node is not None and node.op_type == "DequantizeLinear" and node.input[1] in constants:
            scale = np.asarray(constants[node.input[1]])
            if scale.size == 1:
                scales[output.name] = float(scale.reshape(()))
    return scales


def argmax_agreement(a: np.ndarray, b: np.ndarray, axis: int = 1) -> float:
    """Share of positions whose argmax along `axis` is the same in a and b."""
    return float((np.argmax(a, axis=axis) == np.argmax(b, axis=axis)).mean())


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean()) if a.size else 0.0


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).max()) if a.size else 0.0
