#!/usr/bin/env python3
"""Quantizes a float ONNX model to int8 with onnxruntime's quantize_static, calibrated on frames
of moeseg MCAP recordings preprocessed exactly as moeseg does, for moeseg to run.

Calibration data, one of:
  --calibration A.mcap[,B.mcap]  camera frames (foxglove.RawImage rgb8/bgr8/mono8/yuyv; topic
                                 --topic, else /camera/image, else the first non-mono8 RawImage
                                 channel), --frames N of them (default 32) evenly spaced over all
                                 the files' frames, each resized and normalised like moeseg's
                                 Preprocessor: bilinear with half-pixel centres (edge clamped) to
                                 [input] width x height, x = (pixel * scale - mean) / std, NCHW in
                                 [input] color order, from --moe-toml (default: the model's input
                                 size, RGB, scale 1/255, ImageNet mean/std as models/demo);
  --random N                     N deterministic synthetic normalised images (tests only).
Quantization: s8 symmetric weights, per channel unless --no-per-channel; --activation u8 (default)
or s8; --format qdq (default, what moeseg imports) or qoperator; --method minmax (default),
percentile or entropy; --pre-process auto (default: onnxruntime's quant_pre_process only when the
graph has BatchNormalization, which it then folds into Conv; it also splits HardSwish into
HardSigmoid x Mul) | on | off.
Prints the op histogram and, on the first calibration frame, max|int8 - fp32| per output and the
argmax agreement of 4-D outputs.

    .build/release/moeseg synth --domain urban --frames 8 --seed 1 --size 512x256 --out /tmp/u.mcap
    .venv/bin/python tools/quantize_ort.py models/demo/experts/highway.onnx /tmp/highway_int8.onnx \\
        --calibration /tmp/u.mcap --moe-toml models/demo/moe-simple/moe.toml"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

import fixture_io
import quant_common

DEMO_NORMALISATION = {"color": "rgb", "scale": 1.0 / 255.0, "mean": [0.485, 0.456, 0.406],
                      "std": [0.229, 0.224, 0.225]}


@dataclass
class InputSpec:
    width: int
    height: int
    color: str
    scale: float
    mean: list[float]
    std: list[float]


def taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half-pixel-centre bilinear taps, edge clamped (moeseg Preprocessor.taps)."""
    position = np.maximum(0.0, (np.arange(target) + 0.5) * (source / target) - 0.5)
    low = np.minimum(position.astype(np.int64), source - 1)
    return low, np.minimum(low + 1, source - 1), (position - low).astype(np.float32)


def preprocess(rgb: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 [H, W, 3] RGB frame -> float32 [1, 3, height, width] model input."""
    x0, x1, wx = taps(rgb.shape[1], spec.width)
    y0, y1, wy = taps(rgb.shape[0], spec.height)
    pixels = rgb.astype(np.float32)
    a, b = pixels[y0], pixels[y1]                                   # rows, then columns as moeseg
    top = a[:, x0] + (a[:, x1] - a[:, x0]) * wx[None, :, None]
    bottom = b[:, x0] + (b[:, x1] - b[:, x0]) * wx[None, :, None]
    resized = top + (bottom - top) * wy[:, None, None]
    gain = np.float32(spec.scale) / np.asarray(spec.std, np.float32)
    offset = -np.asarray(spec.mean, np.float32) / np.asarray(spec.std, np.float32)
    x = resized * gain + offset
    if spec.color == "bgr":
        x = x[:, :, ::-1]
    return np.ascontiguousarray(np.moveaxis(x, -1, 0)[None], dtype=np.float32)


def decode_rgb(message: bytes) -> np.ndarray:
    """A foxglove.RawImage (rgb8, bgr8, mono8, yuyv) as uint8 [H, W, 3] RGB."""
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage

    raw = RawImage()
    raw.ParseFromString(message)
    channels = {"rgb8": 3, "bgr8": 3, "mono8": 1, "8UC1": 1, "yuyv": 2, "yuv422_yuy2": 2}.get(raw.encoding)
    if channels is None:
        raise ValueError(f"unsupported RawImage encoding {raw.encoding!r}")
    if raw.step < raw.width * channels or len(raw.data) < raw.step * raw.height:
        raise ValueError("RawImage data shorter than its geometry")
    rows = np.frombuffer(raw.data, np.uint8, raw.step * raw.height).reshape(raw.height, raw.step)
    pixels = rows[:, : raw.width * channels].reshape(raw.height, raw.width, channels)
    if raw.encoding == "bgr8":
        return pixels[:, :, ::-1]
    if channels == 1:
        return np.repeat(pixels, 3, axis=2)
    if channels == 2:  # BT.601 limited range, as moeseg's Preprocessor
        pairs = pixels.reshape(raw.height, raw.width // 2, 4).astype(np.float32)
        y = 1.164383 * (pixels[:, :, 0].astype(np.float32) - 16)
        u = np.repeat(pairs[:, :, 1] - 128, 2, axis=1)
        v = np.repeat(pairs[:, :, 3] - 128, 2, axis=1)
        rgb = np.stack([y + 1.596027 * v, y - 0.391762 * u - 0.812968 * v, y + 2.017232 * u], axis=2)
        return np.clip(rgb, 0, 255)
    return pixels


def camera_topic(reader, wanted: str | None) -> str:
    channels = [c for c in reader.get_summary().channels.values()
                if reader.get_summary().schemas[c.schema_id].name == "foxglove.RawImage"]
    topics = [c.topic for c in channels]
    if wanted is not None:
        if wanted not in topics:
            raise SystemExit(f"error: no foxglove.RawImage channel {wanted}; there are {topics}")
        return wanted
    if "/camera/image" in topics:
        return "/camera/image"
    for topic in topics:
        for _, _, message in reader.iter_messages(topics=[topic]):
            from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
            raw = RawImage()
            raw.ParseFromString(message.data)
            if raw.encoding not in ("mono8", "8UC1"):
                return topic
            break
    raise SystemExit(f"error: no camera (non-mono8 foxglove.RawImage) channel among {topics}")


def recording_frames(paths: list[Path], count: int, spec: InputSpec, topic: str | None) -> list[np.ndarray]:
    """`count` frames evenly spaced over all the recordings' camera frames, preprocessed."""
    from mcap.reader import make_reader

    totals = []
    for path in paths:
        with open(path, "rb") as stream:
            reader = make_reader(stream)
            name = camera_topic(reader, topic)
            totals.append((name, sum(1 for _ in reader.iter_messages(topics=[name]))))
    total = sum(n for _, n in totals)
    if total == 0:
        raise SystemExit("error: the recordings hold no camera frames")
    wanted = sorted(set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()))
    frames, first = [], 0
    for path, (name, n) in zip(paths, totals):
        mine = {i - first for i in wanted if first <= i < first + n}
        with open(path, "rb") as stream:
            for index, (_, _, message) in enumerate(make_reader(stream).iter_messages(topics=[name])):
                if index in mine:
                    frames.append(preprocess(decode_rgb(message.data), spec))
        first += n
    return frames


def input_spec(moe_toml: Path | None, shape: list[int]) -> InputSpec:
    if moe_toml is None:
        return InputSpec(width=shape[3], height=shape[2], **DEMO_NORMALISATION)
    section = tomllib.loads(moe_toml.read_text())["input"]
    spec = InputSpec(section["width"], section["height"], section["color"], float(section["scale"]),
                     [float(v) for v in section["mean"]], [float(v) for v in section["std"]])
    if [spec.height, spec.width] != shape[2:]:
        raise SystemExit(f"error: {moe_toml} [input] is {spec.width}x{spec.height}, the model wants "
                         f"{shape[3]}x{shape[2]}")
    return spec


def image_input(model: onnx.ModelProto) -> tuple[str, list[int]]:
    names = fixture_io.graph_inputs(model)
    if len(names) != 1:
        raise SystemExit(f"error: the model has inputs {names}; calibration handles one image input")
    value = next(i for i in model.graph.input if i.name == names[0])
    shape = [d.dim_value if d.HasField("dim_value") else 0 for d in value.type.tensor_type.shape.dim]
    if len(shape) != 4 or shape[0] != 1 or shape[1] != 3 or min(shape) <= 0:
        raise SystemExit(f"error: input '{names[0]}' is {shape}, expected a fixed [1, 3, H, W]")
    return names[0], shape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("float_model", type=Path, metavar="FLOAT.onnx")
    parser.add_argument("output", type=Path, metavar="OUT.onnx")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--calibration", help="comma-separated MCAP recordings")
    source.add_argument("--random", type=int, metavar="N", help="N synthetic images instead (tests only)")
    parser.add_argument("--frames", type=int, default=32, help="calibration frames from the recordings (%(default)s)")
    parser.add_argument("--topic", help="camera topic of the recordings")
    parser.add_argument("--moe-toml", type=Path, help="moe.toml whose [input] says how to preprocess")
    parser.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                        help="per-channel weight scales (default: on)")
    parser.add_argument("--activation", choices=list(quant_common.ACTIVATION_TYPES), default="u8")
    parser.add_argument("--format", choices=list(quant_common.FORMATS), default="qdq")
    parser.add_argument("--method", choices=list(quant_common.METHODS), default="minmax")
    parser.add_argument("--pre-process", choices=["auto", "on", "off"], default="auto")
    args = parser.parse_args()

    model = onnx.load(str(args.float_model))
    name, shape = image_input(model)
    if args.calibration:
        paths = [Path(p) for p in args.calibration.split(",") if p]
        for path in paths:
            if not path.is_file():
                raise SystemExit(f"error: no recording {path}")
        images = recording_frames(paths, args.frames, input_spec(args.moe_toml, shape), args.topic)
        print(f"calibration: {len(images)} frames from {len(paths)} recording(s)")
    else:
        rng = np.random.default_rng(0)
        images = [fixture_io.synthetic_image(tuple(shape), rng) for _ in range(args.random)]
        print(f"calibration: {len(images)} synthetic images")
    if not images:
        raise SystemExit("error: no calibration data")
    pre_process = args.pre_process == "on" or (
        args.pre_process == "auto" and any(n.op_type == "BatchNormalization" for n in model.graph.node))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    quant_common.quantize(args.float_model, args.output, [{name: x} for x in images], fmt=args.format,
                          activation=args.activation, per_channel=args.per_channel, method=args.method,
                          pre_process=pre_process)

    quantized = onnx.load(str(args.output))
    print(f"{args.output}: {args.output.stat().st_size / 2**20:.2f} MiB"
          f"{', after quant_pre_process' if pre_process else ''}; ops: "
          f"{quant_common.format_histogram(quant_common.op_histogram(quantized))}")
    int8 = fixture_io.run_reference(args.output, {name: images[0]})
    fp32 = fixture_io.run_reference(args.float_model, {name: images[0]})
    for output, value in int8.items():
        reference = fp32[output]
        error = quant_common.max_abs(value, reference)
        line = f"    {output}: {list(value.shape)} max|int8-fp32| {error:.3g} " \
               f"({error / max(float(np.abs(reference).max()), 1e-30):.1%} of max|fp32|)"
        if value.ndim == 4 and value.shape[1] > 1:
            line += f", argmax agreement {quant_common.argmax_agreement(value, reference):.2%}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
