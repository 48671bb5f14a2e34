"""Times onnxruntime (1 thread) on the single layers tools/bench/kernel_bench.c measures, so the
C kernels' figures have a reference. Run: /work/main/.venv/bin/python tools/bench/ort_depthwise.py
"""
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def session(nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, "bench", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def best_ms(sess, feeds, reps=30):
    sess.run(None, feeds)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def depthwise(name, c, h, w, k, s, d, act=None):
    pad = (k - 1) // 2 * d
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.uniform(-1, 1, (c, 1, k, k)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.uniform(-1, 1, (c,)).astype(np.float32), "b")
    conv_out = "y" if act is None else "t"
    nodes = [helper.make_node("Conv", ["x", "w", "b"], [conv_out], group=c, kernel_shape=[k, k],
                              strides=[s, s], pads=[pad] * 4, dilations=[d, d])]
    if act == "relu6":
        lo = numpy_helper.from_array(np.array(0, np.float32), "lo")
        hi = numpy_helper.from_array(np.array(6, np.float32), "hi")
        nodes.append(helper.make_node("Clip", ["t", "lo", "hi"], ["y"]))
        inits = [weight, bias, lo, hi]
    elif act == "hardswish":
        nodes.append(helper.make_node("HardSwish", ["t"], ["y"]))
        inits = [weight, bias]
    else:
        inits = [weight, bias]
    sess = session(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    x = rng.uniform(-1, 1, (1, c, h, w)).astype(np.float32)
    ms = best_ms(sess, {"x": x})
    oh = (h + 2 * pad - (k - 1) * d - 1) // s + 1
    ow = (w + 2 * pad - (k - 1) * d - 1) // s + 1
    flops = 2.0 * c * oh * ow * k * k
    print(f"ORT {name:<40} {ms:7.3f} ms {flops / ms * 1e-6:6.1f} GFLOP/s")


def resize(c, h, w, oh, ow):
    scales = numpy_helper.from_array(np.array([1, 1, oh / h, ow / w], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear",
                            coordinate_transformation_mode="half_pixel")
    sess = session([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [scales])
    x = np.random.default_rng(0).uniform(-1, 1, (1, c, h, w)).astype(np.float32)
    print(f"ORT bilinear {c}ch {h}x{w} -> {oh}x{ow}{'':<16} {best_ms(sess, {'x': x}):7.3f} ms")


def unary(name, op, n=1 << 20):
    sess = session([helper.make_node(op, ["x"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [])
    x = np.random.default_rng(0).uniform(-1, 1, (n,)).astype(np.float32)
    print(f"ORT {name:<40} {best_ms(sess, {'x': x}):7.3f} ms")


if __name__ == "__main__":
    print("onnxruntime", ort.__version__)
    depthwise("dw 3x3 s1 144ch 64x128", 144, 64, 128, 3, 1, 1)
    depthwise("dw 3x3 s1 144ch 64x128 +ReLU6", 144, 64, 128, 3, 1, 1, "relu6")
    depthwise("dw 3x3 s2 96ch 128x256 -> 64x128", 96, 128, 256, 3, 2, 1)
    depthwise("dw 5x5 s1 120ch 32x64 +hardswish", 120, 32, 64, 5, 1, 1, "hardswish")
    depthwise("dw 5x5 s2 72ch 64x128 -> 32x64", 72, 64, 128, 5, 2, 1)
    depthwise("dw 5x5 s1 d2 960ch 16x32 +hardswish", 960, 16, 32, 5, 1, 2, "hardswish")
    depthwise("dw 3x3 s1 d4 960ch 16x32 +ReLU6", 960, 16, 32, 3, 1, 4, "relu6")
    resize(19, 32, 64, 256, 512)
    resize(21, 64, 128, 256, 512)
    unary("sigmoid 1M values", "Sigmoid")
    unary("hardswish 1M values", "HardSwish")
