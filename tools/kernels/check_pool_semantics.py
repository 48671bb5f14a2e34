"""Checks the pooling rules the kernel tests use as their reference against onnxruntime.

The Swift reference (Tests/EngineTests/Kernels/PoolingKernelTests.swift, referencePool) encodes
ONNX Runtime's conventions: max ignores padding and gives -FLT_MAX for a window without an
in-image tap; average divides by the in-image taps, or with count_include_pad by the taps inside
the padded extent (so ceil-mode windows running past the padding are clipped). This script
implements the same rule in numpy and compares it with onnxruntime on random geometries.
Run: /work/main/.venv/bin/python tools/kernels/check_pool_semantics.py
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper


def ort_pool(op, x, k, s, d, pads, ceil, cip):
    attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), pads=list(pads), ceil_mode=ceil)
    if op == "AveragePool":
        attrs["count_include_pad"] = cip
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    opts = ort.SessionOptions()
    # ONNX shape inference omits the ceil-mode "last window starts inside" rule that the kernel
    # applies, so ORT warns about the declared output shape; the actual shape is what counts.
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def out_len(size, k, s, d, pb, pe, ceil):
    span = size + pb + pe - ((k - 1) * d + 1)
    if span < 0:
        return None
    n = (-(-span // s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= size + pb:
        n -= 1
    return n


def reference(op, x, k, s, d, pads, ceil, cip):
    _, c, h, w = x.shape
    pt, pl, pb, pr = pads
    oh, ow = out_len(h, k[0], s[0], d[0], pt, pb, ceil), out_len(w, k[1], s[1], d[1], pl, pr, ceil)
    y = np.zeros((1, c, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - pt, j * s[1] - pl
            rows = [hs + a * d[0] for a in range(k[0])]
            cols = [ws + b * d[1] for b in range(k[1])]
            rin = [r for r in rows if 0 <= r < h]
            cin = [q for q in cols if 0 <= q < w]
            taps = x[0][:, rin][:, :, cin].reshape(c, -1).astype(np.float64)
            if op == "MaxPool":
                y[0, :, i, j] = taps.max(axis=1) if taps.shape[1] else -np.finfo(np.float32).max
            else:
                div = (sum(r < h + pb for r in rows) * sum(q < w + pr for q in cols)) if cip else taps.shape[1]
                y[0, :, i, j] = taps.sum(axis=1) / div if div else 0.0
    return y


def main():
    rng = np.random.default_rng(5)
    checked = 0
    while checked < 300:
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 4, 2))
        # ONNX order: begin h, begin w, end h, end w; ORT requires every pad < its kernel.
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        h, w = (int(v) for v in rng.integers(1, 12, 2))
        ceil = int(rng.integers(0, 2))
        if out_len(h, k[0], s[0], d[0], pads[0], pads[2], ceil) is None or \
                out_len(w, k[1], s[1], d[1], pads[1], pads[3], ceil) is None:
            continue
        x = rng.uniform(-5, 5, (1, 2, h, w)).astype(np.float32)
        for op, cip in (("MaxPool", 0), ("AveragePool", 0), ("AveragePool", 1)):
            got = ort_pool(op, x, k, s, d, pads, ceil, cip)
            want = reference(op, x, k, s, d, pads, ceil, cip)
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-5):
                print(f"MISMATCH {op} cip={cip} k={k} s={s} d={d} pads={pads} ceil={ceil} hw={h}x{w}")
                print(" ort ", got.shape, got.ravel()[:8])
                print(" rule", want.shape, want.ravel()[:8])
                return 1
        checked += 1
    print(f"onnxruntime {ort.__version__}: pooling rule matches on {checked} random geometries (x3 ops)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
