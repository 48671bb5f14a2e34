#!/usr/bin/env python3
"""Independent check of PNGs written by `moeseg synth --png-dir` (or any PNG from PNGWriter).

Parses every chunk, verifies chunk CRCs with binascii.crc32, inflates the image data with
Python's zlib (the reference implementation, which also checks the Adler-32 trailer),
undoes the row filters, and for *_labels.png files checks that every index is a valid label
id (0..13, 254, 255) and that the palette matches docs/classes.md.

Usage: tools/check_scene_pngs.py DIR_OR_FILES...
"""
import binascii
import re
import struct
import sys
import zlib
from pathlib import Path


def read_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: bad signature"
    pos, idat, palette, header = 8, b"", None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert binascii.crc32(kind + body) == crc, f"{path}: CRC mismatch in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            assert pos + 12 + length == len(data), f"{path}: data after IEND"
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and interlace == 0, f"{path}: unexpected depth/interlace"
    channels = {0: 1, 2: 3, 3: 1}[color_type]
    raw = zlib.decompress(idat)
    stride = width * channels
    assert len(raw) == height * (stride + 1), f"{path}: wrong amount of image data"
    pixels = bytearray(height * stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        for i in range(stride):
            a = pixels[y * stride + i - channels] if i >= channels else 0
            b = pixels[(y - 1) * stride + i] if y > 0 else 0
            c = pixels[(y - 1) * stride + i - channels] if i >= channels and y > 0 else 0
            if kind == 0:
                p = 0
            elif kind == 1:
                p = a
            elif kind == 2:
                p = b
            elif kind == 3:
                p = (a + b) // 2
            elif kind == 4:
                q = a + b - c
                pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                raise AssertionError(f"{path}: filter {kind}")
            pixels[y * stride + i] = (line[i] + p) & 0xFF
    return width, height, color_type, palette, bytes(pixels)


def documented_palette():
    table = (Path(__file__).resolve().parent.parent / "docs" / "classes.md").read_text()
    colours = {}
    for ident, r, g, b in re.findall(r"^\| (\d+) \| [^|]+ \| \((\d+), (\d+), (\d+)\)", table, re.M):
        colours[int(ident)] = (int(r), int(g), int(b))
    return colours


def main(arguments):
    paths = []
    for argument in arguments:
        p = Path(argument)
        paths += sorted(p.glob("*.png")) if p.is_dir() else [p]
    if not paths:
        sys.exit("no PNG files given")
    colours = documented_palette()
    valid = set(range(14)) | {254, 255}
    for path in paths:
        width, height, color_type, palette, pixels = read_png(path)
        if path.name.endswith("_labels.png"):
            assert color_type == 3, f"{path}: labels must be a palette PNG"
            ids = set(pixels)
            assert ids <= valid, f"{path}: invalid label ids {sorted(ids - valid)}"
            for ident, rgb in colours.items():
                if ident < 255:
                    assert tuple(palette[3 * ident:3 * ident + 3]) == rgb, f"{path}: palette entry {ident}"
            print(f"{path.name}: {width}x{height} labels {sorted(ids)}")
        else:
            assert color_type == 2, f"{path}: images must be RGB"
            mean = sum(pixels) / len(pixels)
            print(f"{path.name}: {width}x{height} RGB mean {mean:.1f}")
    print(f"ok: {len(paths)} files")


if __name__ == "__main__":
    main(sys.argv[1:])
