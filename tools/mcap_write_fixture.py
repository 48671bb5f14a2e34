#!/usr/bin/env python3
"""Writes a camera + label recording with the reference Python `mcap` writer.

Camera frames are foxglove.RawImage rgb8 on /camera/image, label maps foxglove.RawImage
mono8 on /camera/labels with the same log time (written before the camera frame on odd
frames, after it on even ones, so readers must pair by time, not by file order). The
schema is the FileDescriptorSet mcap-protobuf-support builds. Prints a JSON manifest of
what was written (per message: topic, times, sequence, geometry, CRC-32 of the pixels).

Usage: mcap_write_fixture.py OUT.mcap [--mode zstd|lz4|none|unchunked] [--frames N]
       [--width W] [--height H] [--chunk-size BYTES] [--seed S]
"""
import argparse
import json
import sys
import zlib

import numpy as np
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from mcap.writer import CompressionType, Writer
from mcap_protobuf.schema import register_schema

START_NS = 1_700_000_000_123_456_789
PERIOD_NS = 33_333_333


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--mode", choices=["zstd", "lz4", "none", "unchunked"], default="zstd")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--height", type=int, default=24)
    parser.add_argument("--chunk-size", type=int, default=16 * 1024)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    compression = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, "none": CompressionType.NONE,
                   "unchunked": CompressionType.NONE}[args.mode]
    manifest = {"mode": args.mode, "messages": [], "metadata": []}
    with open(args.out, "wb") as f:
        writer = Writer(f, chunk_size=args.chunk_size, compression=compression,
                        use_chunking=args.mode != "unchunked")
        writer.start(profile="", library="mcap_write_fixture.py")
        schema_id = register_schema(writer, RawImage)
        camera = writer.register_channel("/camera/image", "protobuf", schema_id)
        labels = writer.register_channel("/camera/labels", "protobuf", schema_id)
        info = {"domain": "fixture", "seed": str(args.seed), "generator_version": "mcap_write_fixture.py",
                "class_table": json.dumps({"0": "road", "1": "car"}), "fx": "20.0", "fy": "20.0",
                "cx": "16.0", "cy": "12.0"}
        writer.add_metadata("moeseg.fixture.other", {"note": "metadata before frames"})
        writer.add_metadata("moeseg.recording", info)
        manifest["metadata"] = [{"name": "moeseg.fixture.other", "data": {"note": "metadata before frames"}},
                                {"name": "moeseg.recording", "data": info}]
        w, h = args.width, args.height
        for i in range(args.frames):
            t = START_NS + i * PERIOD_NS
            pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8).tobytes()
            label = rng.integers(0, 4, size=(h, w), dtype=np.uint8)
            label[0, :] = 255
            label[1, : w // 2] = 254
            label = label.tobytes()
            frames = [
                ("/camera/image", camera, RawImage(width=w, height=h, encoding="rgb8", step=w * 3,
                                                   data=pixels, frame_id="cam0")),
                ("/camera/labels", labels, RawImage(width=w, height=h, encoding="mono8", step=w,
                                                    data=label, frame_id="cam0")),
            ]
            if i % 2 == 1:
                frames.reverse()
            for topic, channel, msg in frames:
                msg.timestamp.seconds = t // 1_000_000_000
                msg.timestamp.nanos = t % 1_000_000_000
                publish = t + 1_000_000
                writer.add_message(channel_id=channel, log_time=t, publish_time=publish, sequence=i,
                                   data=msg.SerializeToString())
                manifest["messages"].append({
                    "topic": topic, "log_time": t, "publish_time": publish, "sequence": i,
                    "width": msg.width, "height": msg.height, "encoding": msg.encoding, "step": msg.step,
                    "frame_id": msg.frame_id, "data_crc32": zlib.crc32(msg.data)})
        writer.finish()
    json.dump(manifest, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
