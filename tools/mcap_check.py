#!/usr/bin/env python3
"""Validates an MCAP file with the reference Python `mcap` reader and prints a JSON summary.

Checks: magic; every record parses; chunk CRCs and the data-section CRC (mcap's
StreamReader with validate_crcs); the summary CRC; that Statistics, ChunkIndex,
MessageIndex, MetadataIndex and SummaryOffset records agree with what the file really
holds; that the indexed reader (SeekingReader) returns the same messages as the
streaming one; and that foxglove.RawImage messages decode both with the schema stored in
the file (mcap-protobuf-support) and with foxglove_schemas_protobuf, with consistent
geometry.

Usage: mcap_check.py FILE [--expect-messages N] [--expect-pixel-digest CRC] [--no-messages]
Exit status 0 when no error was found, 1 otherwise; the JSON goes to stdout either way.
"""
import argparse
import io
import json
import struct
import sys
import zlib
from collections import Counter, defaultdict

from mcap.data_stream import ReadDataStream
from mcap.reader import make_reader
from mcap.records import (
    Channel,
    Chunk,
    ChunkIndex,
    DataEnd,
    Footer,
    Message,
    MessageIndex,
    Metadata,
    MetadataIndex,
    Schema,
    Statistics,
    SummaryOffset,
)
from mcap.stream_reader import StreamReader, breakup_chunk
from mcap_protobuf.decoder import DecoderFactory
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf.descriptor_pb2 import FileDescriptorSet

MAGIC = b"\x89MCAP0\r\n"
BYTES_PER_PIXEL = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "8UC1": 1, "mono16": 2}
RECORD_CLASSES = {
    0x03: Schema, 0x04: Channel, 0x06: Chunk, 0x07: MessageIndex, 0x08: ChunkIndex,
    0x0B: Statistics, 0x0C: Metadata, 0x0D: MetadataIndex, 0x0E: SummaryOffset,
    0x0F: DataEnd, 0x02: Footer,
}


def parse_record(opcode: int, body: bytes):
    cls = RECORD_CLASSES.get(opcode)
    if cls is None:
        return None
    stream = ReadDataStream(io.BytesIO(body))
    if cls is Message:
        return Message.read(stream, len(body))
    return cls.read(stream)


def walk_records(data: bytes, start: int, end: int, errors: list, where: str):
    """Top-level records between start and end as (offset, opcode, length, body)."""
    out = []
    pos = start
    while pos < end:
        if end - pos < 9:
            errors.append(f"{where}: {end - pos} stray bytes at {pos}")
            break
        opcode, length = struct.unpack_from("<BQ", data, pos)
        if length > end - pos - 9:
            errors.append(f"{where}: record 0x{opcode:02x} at {pos} overruns (length {length})")
            break
        out.append((pos, opcode, length, data[pos + 9: pos + 9 + length]))
        pos += 9 + length
    return out


def check(path: str, include_messages: bool):
    errors = []
    with open(path, "rb") as f:
        data = f.read()
    result = {"file": path, "size": len(data), "errors": errors}
    if data[:8] != MAGIC or data[-8:] != MAGIC:
        errors.append("bad magic at start or end")
        return result

    # 1. Reference streaming reader with CRC validation (chunk CRCs, data section CRC).
    stream_messages = []
    header = None
    try:
        for record in StreamReader(io.BytesIO(data), validate_crcs=True).records:
            if isinstance(record, Message):
                stream_messages.append(record)
            elif type(record).__name__ == "Header":
                header = record
    except Exception as exc:  # noqa: BLE001 - any failure is a finding
        errors.append(f"StreamReader(validate_crcs=True): {type(exc).__name__}: {exc}")
    result["header"] = {"profile": header.profile, "library": header.library} if header else None

    # 2. Our own walk of the top-level records, to check what the indexes claim.
    footer_off = len(data) - 8 - 29
    opcode, length = struct.unpack_from("<BQ", data, footer_off)
    if opcode != 0x02 or length != 20:
        errors.append("no Footer record before the closing magic")
        return result
    footer = parse_record(0x02, data[footer_off + 9: footer_off + 29])
    summary_start = footer.summary_start or footer_off
    top = walk_records(data, 8, summary_start, errors, "data section")
    if not top or top[0][1] != 0x01:
        errors.append("first record is not a Header")
    if not top or top[-1][1] != 0x0F:
        errors.append("data section does not end with DataEnd")
    by_offset = {off: (op, ln, body) for off, op, ln, body in top}

    chunks = []
    schemas, channels, metadata_records = {}, {}, []
    message_index_records = {}
    loose_messages = []
    for off, op, ln, body in top:
        rec = parse_record(op, body) if op != 0x05 else Message.read(ReadDataStream(io.BytesIO(body)), ln)
        if isinstance(rec, Chunk):
            try:
                inner = breakup_chunk(rec, validate_crc=True)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"chunk at {off}: {type(exc).__name__}: {exc}")
                inner = []
            decompressed = None
            try:
                import zstandard
                decompressed = zstandard.decompress(rec.data, rec.uncompressed_size) if rec.compression == "zstd" else rec.data
            except Exception as exc:  # noqa: BLE001
                errors.append(f"chunk at {off}: cannot decompress: {exc}")
            msgs = [r for r in inner if isinstance(r, Message)]
            for r in inner:
                if isinstance(r, Schema):
                    schemas[r.id] = r
                elif isinstance(r, Channel):
                    channels[r.id] = r
            times = [m.log_time for m in msgs]
            if msgs and (rec.message_start_time != min(times) or rec.message_end_time != max(times)):
                errors.append(f"chunk at {off}: time range {rec.message_start_time}..{rec.message_end_time} "
                              f"but messages span {min(times)}..{max(times)}")
            chunks.append({"offset": off, "length": 9 + ln, "rec": rec, "messages": msgs, "raw": decompressed})
        elif isinstance(rec, Schema):
            schemas[rec.id] = rec
        elif isinstance(rec, Channel):
            channels[rec.id] = rec
        elif isinstance(rec, Metadata):
            metadata_records.append((off, 9 + ln, rec))
        elif isinstance(rec, MessageIndex):
            message_index_records[off] = rec
        elif isinstance(rec, Message):
            loose_messages.append(rec)
    all_walk_messages = [m for c in chunks for m in c["messages"]] + loose_messages

    # 3. Summary: CRC, statistics, chunk/message/metadata indexes, summary offsets.
    if footer.summary_start:
        summary_bytes = data[footer.summary_start:footer_off]
        crc = zlib.crc32(summary_bytes + data[footer_off:footer_off + 25])
        if footer.summary_crc not in (0, crc):
            errors.append(f"summary CRC 0x{footer.summary_crc:08x} != computed 0x{crc:08x}")
        srecs = walk_records(data, footer.summary_start, footer_off, errors, "summary")
        chunk_indexes = [parse_record(op, b) for _, op, _, b in srecs if op == 0x08]
        stats = [parse_record(op, b) for _, op, _, b in srecs if op == 0x0B]
        meta_indexes = [parse_record(op, b) for _, op, _, b in srecs if op == 0x0D]
        sum_schemas = {r.id: r for r in (parse_record(op, b) for _, op, _, b in srecs if op == 0x03)}
        sum_channels = {r.id: r for r in (parse_record(op, b) for _, op, _, b in srecs if op == 0x04)}
        offsets = [parse_record(op, b) for _, op, _, b in srecs if op == 0x0E]
        if footer.summary_offset_start:
            first_offset = min((o for o, op, _, _ in srecs if op == 0x0E), default=None)
            if first_offset != footer.summary_offset_start:
                errors.append("footer summary_offset_start does not point at the first SummaryOffset")
        for so in offsets:
            group = [op for o, op, _, _ in srecs if so.group_start <= o < so.group_start + so.group_length]
            if (so.group_length and not group) or any(op != so.group_opcode for op in group):
                errors.append(f"SummaryOffset for opcode 0x{so.group_opcode:02x} covers records {group}")
        for sid, s in sum_schemas.items():
            if sid not in schemas or schemas[sid] != s:
                errors.append(f"summary schema {sid} differs from the data section")
        for cid, c in sum_channels.items():
            if cid not in channels or channels[cid] != c:
                errors.append(f"summary channel {cid} differs from the data section")
        if len(stats) != 1:
            errors.append(f"{len(stats)} Statistics records in the summary")
        else:
            st = stats[0]
            counts = Counter(m.channel_id for m in all_walk_messages)
            times = [m.log_time for m in all_walk_messages]
            expect = {
                "message_count": len(all_walk_messages), "chunk_count": len(chunks),
                "channel_count": len(channels), "schema_count": len(schemas),
                "metadata_count": len(metadata_records),
                "message_start_time": min(times) if times else 0, "message_end_time": max(times) if times else 0,
            }
            for key, value in expect.items():
                if getattr(st, key) != value:
                    errors.append(f"Statistics.{key} = {getattr(st, key)}, the file holds {value}")
            if dict(st.channel_message_counts) != dict(counts):
                errors.append(f"Statistics.channel_message_counts {dict(st.channel_message_counts)} != {dict(counts)}")
        if len(chunk_indexes) != len(chunks):
            errors.append(f"{len(chunk_indexes)} chunk indexes for {len(chunks)} chunks")
        for ci, chunk in zip(sorted(chunk_indexes, key=lambda c: c.chunk_start_offset), chunks):
            rec = chunk["rec"]
            if (ci.chunk_start_offset, ci.chunk_length) != (chunk["offset"], chunk["length"]):
                errors.append(f"chunk index ({ci.chunk_start_offset}, {ci.chunk_length}) != chunk ({chunk['offset']}, {chunk['length']})")
                continue
            if (ci.message_start_time, ci.message_end_time, ci.compression, ci.compressed_size, ci.uncompressed_size) != (
                    rec.message_start_time, rec.message_end_time, rec.compression, len(rec.data), rec.uncompressed_size):
                errors.append(f"chunk index at {ci.chunk_start_offset} disagrees with its chunk")
            index_total = 0
            per_channel = Counter(m.channel_id for m in chunk["messages"])
            for cid, mi_off in ci.message_index_offsets.items():
                mi = message_index_records.get(mi_off)
                if mi is None or mi.channel_id != cid:
                    errors.append(f"message index offset {mi_off} for channel {cid} is not its MessageIndex")
                    continue
                index_total += by_offset[mi_off][1] + 9
                if len(mi.records) != per_channel[cid]:
                    errors.append(f"MessageIndex channel {cid}: {len(mi.records)} entries, chunk has {per_channel[cid]}")
                raw = chunk["raw"] or b""
                for log_time, moff in mi.records:
                    if moff + 9 + 22 > len(raw) or raw[moff] != 0x05:
                        errors.append(f"MessageIndex entry offset {moff} is not a message")
                        break
                    ch, _seq, lt = struct.unpack_from("<HIQ", raw, moff + 9)
                    if (ch, lt) != (cid, log_time):
                        errors.append(f"MessageIndex entry at {moff}: ({ch},{lt}) != ({cid},{log_time})")
                        break
            if ci.message_index_offsets and index_total != ci.message_index_length:
                errors.append(f"chunk index message_index_length {ci.message_index_length} != {index_total}")
            if set(ci.message_index_offsets) != set(per_channel):
                errors.append("chunk index does not list exactly the chunk's channels")
        if len(meta_indexes) != len(metadata_records):
            errors.append(f"{len(meta_indexes)} metadata indexes for {len(metadata_records)} metadata records")
        for mi, (off, ln, rec) in zip(meta_indexes, metadata_records):
            if (mi.offset, mi.length, mi.name) != (off, ln, rec.name):
                errors.append(f"metadata index {(mi.offset, mi.length, mi.name)} != {(off, ln, rec.name)}")
    result["has_summary"] = bool(footer.summary_start)

    # 4. The indexed reader must return the same messages as the stream, in log-time order.
    indexed = []
    decoded_by_schema = {}
    try:
        reader = make_reader(io.BytesIO(data), decoder_factories=[DecoderFactory()])
        for schema, channel, message in reader.iter_messages(log_time_order=True):
            indexed.append(message)
        if [m.log_time for m in indexed] != sorted(m.log_time for m in indexed):
            errors.append("indexed reader returned messages out of log-time order")
        key = lambda m: (m.log_time, m.channel_id, m.sequence, m.publish_time, bytes(m.data))  # noqa: E731
        if sorted(map(key, indexed)) != sorted(map(key, stream_messages)):
            errors.append(f"indexed reader found {len(indexed)} messages, streaming reader {len(stream_messages)}")
        image_topics = [c.topic for c in channels.values()
                        if c.schema_id in schemas and schemas[c.schema_id].name == "foxglove.RawImage"]
        for schema, channel, message, decoded in (
                reader.iter_decoded_messages(topics=image_topics, log_time_order=True) if image_topics else []):
            decoded_by_schema[(channel.id, message.log_time, message.sequence)] = decoded
        metadata = [{"name": m.name, "data": dict(m.metadata)} for m in reader.iter_metadata()]
    except Exception as exc:  # noqa: BLE001
        errors.append(f"indexed reader: {type(exc).__name__}: {exc}")
        metadata = []

    # 5. Schemas, channels and messages as seen by the reference reader.
    result["schemas"] = []
    for s in sorted(schemas.values(), key=lambda s: s.id):
        entry = {"id": s.id, "name": s.name, "encoding": s.encoding}
        if s.encoding == "protobuf":
            try:
                fds = FileDescriptorSet.FromString(s.data)
                entry["files"] = [f.name for f in fds.file]
            except Exception as exc:  # noqa: BLE001
                errors.append(f"schema {s.id}: not a FileDescriptorSet: {exc}")
        result["schemas"].append(entry)
    counts = Counter(m.channel_id for m in stream_messages)
    result["channels"] = [
        {"id": c.id, "topic": c.topic, "message_encoding": c.message_encoding,
         "schema_name": schemas[c.schema_id].name if c.schema_id in schemas else "",
         "schema_encoding": schemas[c.schema_id].encoding if c.schema_id in schemas else "",
         "metadata": dict(c.metadata), "count": counts[c.id]}
        for c in sorted(channels.values(), key=lambda c: c.id)]
    result["message_count"] = len(stream_messages)
    result["chunk_count"] = len(chunks)
    result["compression"] = dict(Counter(c["rec"].compression for c in chunks))
    times = [m.log_time for m in stream_messages]
    result["start_time"] = min(times) if times else 0
    result["end_time"] = max(times) if times else 0
    result["metadata"] = metadata
    result["chunks"] = [
        {"offset": c["offset"], "length": c["length"], "compression": c["rec"].compression,
         "messages": [[m.channel_id, m.sequence, m.log_time] for m in c["messages"]]}
        for c in chunks]

    messages = []
    pixel_digest = 0
    ordered = sorted(stream_messages, key=lambda m: m.log_time)
    for m in ordered:
        channel = channels.get(m.channel_id)
        entry = {"channel_id": m.channel_id, "topic": channel.topic if channel else None,
                 "sequence": m.sequence, "log_time": m.log_time, "publish_time": m.publish_time,
                 "size": len(m.data), "crc32": zlib.crc32(m.data)}
        schema = schemas.get(channel.schema_id) if channel else None
        if schema is not None and schema.name == "foxglove.RawImage":
            img = RawImage.FromString(m.data)
            via_file_schema = decoded_by_schema.get((m.channel_id, m.log_time, m.sequence))
            if via_file_schema is None or via_file_schema.SerializeToString() != img.SerializeToString():
                errors.append(f"RawImage at {m.log_time} decodes differently with the file's own schema")
            bpp = BYTES_PER_PIXEL.get(img.encoding)
            if len(img.data) != img.step * img.height or (bpp and img.step < img.width * bpp):
                errors.append(f"RawImage at {m.log_time}: {img.width}x{img.height} {img.encoding} "
                              f"step {img.step} with {len(img.data)} bytes")
            entry["image"] = {"width": img.width, "height": img.height, "encoding": img.encoding,
                              "step": img.step, "frame_id": img.frame_id,
                              "ts_sec": img.timestamp.seconds, "ts_nsec": img.timestamp.nanos,
                              "data_len": len(img.data), "data_crc32": zlib.crc32(img.data)}
            pixel_digest = zlib.crc32(img.data, pixel_digest)
        messages.append(entry)
    result["pixel_digest"] = pixel_digest
    if include_messages:
        result["messages"] = messages
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--expect-messages", type=int)
    parser.add_argument("--expect-pixel-digest", type=int,
                        help="CRC-32 (zlib) over all RawImage data in log-time order")
    parser.add_argument("--no-messages", action="store_true", help="leave the per-message list out")
    args = parser.parse_args()
    try:
        result = check(args.file, include_messages=not args.no_messages)
    except Exception as exc:  # noqa: BLE001
        result = {"file": args.file, "errors": [f"{type(exc).__name__}: {exc}"]}
    errors = result["errors"]
    if args.expect_messages is not None and result.get("message_count") != args.expect_messages:
        errors.append(f"expected {args.expect_messages} messages, found {result.get('message_count')}")
    if args.expect_pixel_digest is not None and result.get("pixel_digest") != args.expect_pixel_digest:
        errors.append(f"pixel digest {result.get('pixel_digest')} != expected {args.expect_pixel_digest}")
    result["ok"] = not errors
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
