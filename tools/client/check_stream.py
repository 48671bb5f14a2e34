"""Subscribes to a moeseg stream with tools/client/moeseg_client.py and prints one JSON summary:
counts per topic, decoded array shapes and ranges, whether sequences increase, how long meta took
after connecting. Exit 0 only if every expectation given on the command line held.

    check_stream.py (--endpoint E | --stream S) [--count N] [--expect-topics seg,unc,ood,status,meta]
                    [--timeout S] [--meta-within-ms MS] [--server-key-file F]
"""
import argparse, json, sys, time
import zmq
from moeseg_client import subscribe, uncertainty_pb2

ENCODINGS = {v: k for k, v in uncertainty_pb2.MapEncoding.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint"), ap.add_argument("--stream", default="cam0")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--expect-topics", default="")
    ap.add_argument("--timeout", type=float, default=10.0, help="give up after this many seconds in all")
    ap.add_argument("--meta-within-ms", type=float)
    ap.add_argument("--server-key-file")
    a = ap.parse_args()
    endpoint = a.endpoint or f"ipc:///run/moeseg/{a.stream}.sock"
    key = open(a.server_key_file).read().strip() if a.server_key_file else None
    counts, maps, seg, last, errors = {}, {}, None, {}, []
    meta_ms, monotonic, n, start = None, True, 0, time.monotonic()
    stream = subscribe(endpoint, server_key=key, timeout_ms=200)
    while n < a.count and time.monotonic() - start < a.timeout:
        item = next(stream)
        if item is None:  # 200 ms of silence
            continue
        topic, msg, arr = item
        n += 1
        kind = topic.rsplit("/", 1)[1]
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "meta" and meta_ms is None:
            meta_ms = (time.monotonic() - start) * 1000
        key_ = (kind, getattr(msg, "map", ""))
        seq = msg.header.sequence
        if key_ in last and (seq < last[key_] if kind in ("meta", "status") else seq <= last[key_]):
            monotonic = False
        last[key_] = seq
        if kind == "seg":
            seg = {"shape": list(arr.shape), "classes": sorted(int(c) for c in set(arr.flat))[:32]}
        elif kind == "unc":
            maps[msg.map] = {"shape": list(arr.shape), "encoding": ENCODINGS[msg.encoding],
                             "min": float(arr.min()), "max": float(arr.max()), "mean": float(arr.mean())}
    missing = [t for t in a.expect_topics.split(",") if t and t not in counts]
    if missing:
        errors.append(f"no message on {','.join(missing)}")
    if n < a.count:
        errors.append(f"received {n} of {a.count} messages within {a.timeout} s")
    if not monotonic:
        errors.append("sequence went backwards")
    if a.meta_within_ms is not None and (meta_ms is None or meta_ms > a.meta_within_ms):
        errors.append(f"meta after {meta_ms} ms, wanted within {a.meta_within_ms} ms")
    print(json.dumps({"endpoint": endpoint, "messages": n, "topics": counts, "maps": maps, "seg": seg,
                      "monotonic": monotonic, "meta_ms": meta_ms, "errors": errors}, sort_keys=True))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
