"""Hand-built single-op and small-graph ONNX models (onnx.helper) for edge cases the PyTorch
exporters rarely or never emit: asymmetric and automatic padding, grouped convolutions, pooling
corner cases, every Resize mode, Gemm flags, shape arithmetic, broadcasting, opsets 13-18.

Each case is a function returning an OpCase; CASES maps case name -> function. numpy/onnx only."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


@dataclass
class OpCase:
    """A model plus the inputs to feed it; `source` is the sentence that goes into case.json."""
    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    source: str
    argmax_axis: int | None = None
    external_data: bool = False


@dataclass
class GraphBuilder:
    """Collects nodes and initializers for one graph; inputs are float32 with fixed shapes."""
    name: str
    opset: int
    rng: np.random.Generator
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    inputs: list[onnx.ValueInfoProto] = field(default_factory=list)
    feeds: dict[str, np.ndarray] = field(default_factory=dict)

    def input(self, name: str, shape: tuple[int, ...], scale: float = 1.0) -> str:
        """Declares a graph input and draws its test value from N(0, scale^2)."""
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        self.feeds[name] = (scale * self.rng.standard_normal(shape)).astype(np.float32)
        return name

    def const(self, name: str, value: np.ndarray) -> str:
        """Adds an initializer (dtype kept: float32 weights, int64 shapes/axes)."""
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int | None = None) -> str:
        """A random float32 initializer, He-scaled by `fan_in` when given."""
        scale = (2.0 / fan_in) ** 0.5 if fan_in else 1.0
        return self.const(name, (scale * self.rng.standard_normal(shape)).astype(np.float32))

    def node(self, op_type: str, inputs: list[str], outputs: list[str] | str, **attributes) -> str:
        """Appends a node; returns its (first) output name."""
        outputs = [outputs] if isinstance(outputs, str) else outputs
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_{len(self.nodes)}",
                                           **attributes))
        return outputs[0]

    def build(self, outputs: list[str]) -> onnx.ModelProto:
        """The model with every graph output declared float32 and shaped by ONNX shape inference."""
        graph = helper.make_graph(self.nodes, self.name, self.inputs,
                                  [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                                  self.initializers)
        opset = helper.make_opsetid("", self.opset)
        model = helper.make_model(graph, opset_imports=[opset], producer_name="moeseg-tools",
                                  ir_version=helper.find_min_ir_version_for([opset]))
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        for declared, known in zip(model.graph.output, inferred.graph.output):
            declared.CopyFrom(known)
        return model


CASES: dict[str, Callable[[], OpCase]] = {}


def case(opset: int):
    """Registers `function(builder) -> (outputs, source[, argmax_axis])` as case `op_<name>`."""

    def register(function):
        name = "op_" + function.__name__

        def make() -> OpCase:
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            builder = GraphBuilder(name, opset, rng)
            result = function(builder)
            outputs, source = result[0], result[1]
            argmax_axis = result[2] if len(result) > 2 else None
            return OpCase(builder.build(outputs), builder.feeds,
                          f"tools/op_cases.py:{function.__name__} (onnx.helper, opset {opset}): {source}",
                          argmax_axis)

        CASES[name] = make
        return function

    return register


# --- Convolution -------------------------------------------------------------------------------

@case(opset=13)
def conv_pads_asymmetric(g: GraphBuilder):
    x = g.input("x", (1, 4, 9, 11))
    y = g.node("Conv", [x, g.weight("w", (6, 4, 3, 3), 36), g.weight("b", (6,))], "y",
               kernel_shape=[3, 3], pads=[0, 1, 2, 1])
    z = g.node("Conv", [x, g.weight("w2", (5, 4, 2, 3), 24)], "y_no_bias_stride",
               kernel_shape=[2, 3], pads=[1, 0, 0, 2], strides=[2, 3])
    return [y, z], "Conv 3x3 with pads [t0,l1,b2,r1] + bias; Conv 2x3 stride (2,3) pads [1,0,0,2], no bias"


@case(opset=13)
def conv_auto_pad(g: GraphBuilder):
    x = g.input("x", (1, 3, 9, 10))
    upper = g.node("Conv", [x, g.weight("w", (4, 3, 4, 4), 48), g.weight("b", (4,))], "same_upper",
                   auto_pad="SAME_UPPER", strides=[2, 2])
    lower = g.node("Conv", [x, g.weight("w2", (4, 3, 4, 3), 36)], "same_lower",
                   auto_pad="SAME_LOWER", strides=[2, 1])
    valid = g.node("Conv", [x, g.weight("w3", (2, 3, 3, 3), 27)], "valid", auto_pad="VALID", strides=[2, 2])
    return [upper, lower, valid], ("Conv auto_pad SAME_UPPER (4x4 stride 2: odd total padding, extra at end), "
                                   "SAME_LOWER (4x3, stride (2,1)), VALID (stride 2); no kernel_shape attribute")


@case(opset=14)
def conv_groups(g: GraphBuilder):
    x = g.input("x", (1, 8, 7, 9))
    grouped = g.node("Conv", [x, g.weight("w", (6, 4, 3, 3), 36), g.weight("b", (6,))], "grouped",
                     kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)
    four = g.node("Conv", [x, g.weight("w2", (4, 2, 3, 3), 18)], "four_groups",
                  kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], group=4)
    multiplier = g.node("Conv", [x, g.weight("w3", (16, 1, 3, 3), 9), g.weight("b3", (16,))],
                        "depthwise_multiplier2", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8)
    return [grouped, four, multiplier], ("Conv group=2 (8->6), group=4 stride 2 (8->4), depthwise with "
                                         "channel multiplier 2 (group=8, 8->16)")


@case(opset=15)
def conv_dilation(g: GraphBuilder):
    x = g.input("x", (1, 5, 12, 13))
    a = g.node("Conv", [x, g.weight("w", (4, 5, 3, 3), 45), g.weight("b", (4,))], "dilation_2_3",
               kernel_shape=[3, 3], dilations=[2, 3], pads=[2, 3, 2, 3])
    b = g.node("Conv", [x, g.weight("w2", (4, 5, 3, 3), 45)], "dilation2_stride2",
               kernel_shape=[3, 3], dilations=[2, 2], strides=[2, 2], pads=[2, 2, 2, 2])
    c = g.node("Conv", [x, g.weight("w3", (5, 1, 3, 3), 9)], "depthwise_dilation4",
               kernel_shape=[3, 3], dilations=[4, 4], pads=[4, 4, 4, 4], group=5)
    d = g.node("Conv", [x, g.weight("w4", (3, 5, 3, 3), 45)], "dilation5_mostly_padding",
               kernel_shape=[3, 3], dilations=[5, 5], pads=[5, 5, 5, 5])
    return [a, b, c, d], ("Conv dilations (2,3); dilation 2 + stride 2; depthwise dilation 4; "
                          "dilation 5 on a 12x13 map (most taps in the padding)")


@case(opset=16)
def conv_shapes(g: GraphBuilder):
    x = g.input("x", (1, 6, 10, 14))
    a = g.node("Conv", [x, g.weight("w", (5, 6, 1, 1), 6)], "pointwise_stride2", kernel_shape=[1, 1],
               strides=[2, 2])
    b = g.node("Conv", [x, g.weight("w2", (4, 6, 1, 5), 30), g.weight("b2", (4,))], "kernel_1x5",
               kernel_shape=[1, 5], pads=[0, 2, 0, 2])
    c = g.node("Conv", [x, g.weight("w3", (6, 1, 5, 5), 25)], "depthwise_5x5_stride2",
               kernel_shape=[5, 5], strides=[2, 2], pads=[2, 2, 2, 2], group=6)
    d = g.node("Conv", [x, g.weight("w4", (3, 6, 7, 7), 294), g.weight("b4", (3,))], "kernel_7x7_stride2",
               kernel_shape=[7, 7], strides=[2, 2], pads=[3, 3, 3, 3])
    return [a, b, c, d], "Conv 1x1 stride 2; 1x5 kernel; depthwise 5x5 stride 2; 7x7 stride 2 (ResNet stem)"


# --- Pooling -----------------------------------------------------------------------------------

@case(opset=13)
def maxpool(g: GraphBuilder):
    x = g.input("x", (1, 3, 10, 13))
    a = g.node("MaxPool", [x], "k3_s2_p1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    b = g.node("MaxPool", [x], "k3_s2_ceil", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    c = g.node("MaxPool", [x], "k2_s2_pads_asym", kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])
    d = g.node("MaxPool", [x], "k3_s1_same_upper", kernel_shape=[3, 3], auto_pad="SAME_UPPER")
    return [a, b, c, d], ("MaxPool 3x3/2 pads 1 (ResNet stem); 3x3/2 ceil_mode on 10x13; 2x2/2 pads [0,0,1,1]; "
                          "3x3/1 auto_pad SAME_UPPER")


@case(opset=13)
def averagepool(g: GraphBuilder):
    x = g.input("x", (1, 3, 10, 13))
    a = g.node("AveragePool", [x], "pads_exclude", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=0)
    b = g.node("AveragePool", [x], "pads_include", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=1)
    c = g.node("AveragePool", [x], "ceil_exclude", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    d = g.node("AveragePool", [x], "k2_s2", kernel_shape=[2, 2], strides=[2, 2])
    e = g.node("AveragePool", [x], "k5_s3_asym_pads_include", kernel_shape=[5, 5], strides=[3, 3],
               pads=[2, 1, 0, 2], count_include_pad=1)
    return [a, b, c, d, e], ("AveragePool 3x3/2 pads 1 count_include_pad 0 and 1; ceil_mode on 10x13; 2x2/2; "
                             "5x5/3 asymmetric pads count_include_pad 1")


@case(opset=13)
def global_average_pool(g: GraphBuilder):
    x = g.input("x", (1, 5, 7, 9))
    return [g.node("GlobalAveragePool", [x], "y")], "GlobalAveragePool on 1x5x7x9"


# --- Resize ------------------------------------------------------------------------------------

def _resize(g: GraphBuilder, x: str, out: str, *, scales=None, sizes=None, **attributes) -> str:
    inputs = [x, ""]
    if scales is not None:
        inputs.append(g.const(out + "_scales", np.asarray(scales, dtype=np.float32)))
    else:
        inputs += ["", g.const(out + "_sizes", np.asarray(sizes, dtype=np.int64))]
    return g.node("Resize", inputs, out, **attributes)


@case(opset=13)
def resize_linear(g: GraphBuilder):
    x = g.input("x", (1, 3, 5, 7))
    outs = [
        _resize(g, x, "half_pixel_scales_x2", scales=[1, 1, 2, 2], mode="linear",
                coordinate_transformation_mode="half_pixel"),
        _resize(g, x, "half_pixel_sizes_13x19", sizes=[1, 3, 13, 19], mode="linear",
                coordinate_transformation_mode="half_pixel"),
        _resize(g, x, "pytorch_half_pixel_sizes_9x1", sizes=[1, 3, 9, 1], mode="linear",
                coordinate_transformation_mode="pytorch_half_pixel"),
        _resize(g, x, "pytorch_half_pixel_sizes_11x16", sizes=[1, 3, 11, 16], mode="linear",
                coordinate_transformation_mode="pytorch_half_pixel"),
        _resize(g, x, "align_corners_sizes_11x17", sizes=[1, 3, 11, 17], mode="linear",
                coordinate_transformation_mode="align_corners"),
        _resize(g, x, "asymmetric_scales_1.5x2.5", scales=[1, 1, 1.5, 2.5], mode="linear",
                coordinate_transformation_mode="asymmetric"),
        _resize(g, x, "half_pixel_scales_x8", scales=[1, 1, 8, 8], mode="linear",
                coordinate_transformation_mode="half_pixel"),
    ]
    return outs, ("Resize linear upsampling: half_pixel by scales x2, x8 and by sizes 13x19; pytorch_half_pixel "
                  "sizes 9x1 (length-1 rule) and 11x16; align_corners sizes 11x17; asymmetric scales 1.5x2.5")


@case(opset=13)
def resize_linear_down(g: GraphBuilder):
    x = g.input("x", (1, 2, 10, 14))
    outs = [
        _resize(g, x, "half_pixel_scales_half", scales=[1, 1, 0.5, 0.5], mode="linear",
                coordinate_transformation_mode="half_pixel"),
        _resize(g, x, "half_pixel_sizes_4x5", sizes=[1, 2, 4, 5], mode="linear",
                coordinate_transformation_mode="half_pixel"),
        _resize(g, x, "align_corners_sizes_3x6", sizes=[1, 2, 3, 6], mode="linear",
                coordinate_transformation_mode="align_corners"),
        _resize(g, x, "asymmetric_scales_0.6x0.3", scales=[1, 1, 0.6, 0.3], mode="linear",
                coordinate_transformation_mode="asymmetric"),
    ]
    return outs, ("Resize linear downsampling (no antialias): half_pixel by scales 0.5 and sizes 4x5; "
                  "align_corners sizes 3x6; asymmetric scales 0.6x0.3")


@case(opset=13)
def resize_nearest(g: GraphBuilder):
    x = g.input("x", (1, 3, 6, 7))
    outs = [
        _resize(g, x, "asymmetric_floor_scales_x2", scales=[1, 1, 2, 2], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        _resize(g, x, "half_pixel_round_prefer_floor_sizes_9x11", sizes=[1, 3, 9, 11], mode="nearest",
                coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_floor"),
        _resize(g, x, "half_pixel_round_prefer_ceil_sizes_10x15", sizes=[1, 3, 10, 15], mode="nearest",
                coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil"),
        _resize(g, x, "align_corners_round_prefer_floor_sizes_11x13", sizes=[1, 3, 11, 13], mode="nearest",
                coordinate_transformation_mode="align_corners", nearest_mode="round_prefer_floor"),
        _resize(g, x, "asymmetric_ceil_scales_half", scales=[1, 1, 0.5, 0.5], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="ceil"),
        _resize(g, x, "pytorch_half_pixel_floor_sizes_4x3", sizes=[1, 3, 4, 3], mode="nearest",
                coordinate_transformation_mode="pytorch_half_pixel", nearest_mode="floor"),
    ]
    return outs, ("Resize nearest: asymmetric+floor x2 (torch's nearest); half_pixel round_prefer_floor / "
                  "round_prefer_ceil by sizes; align_corners round_prefer_floor; asymmetric ceil downsampling; "
                  "pytorch_half_pixel floor downsampling")


@case(opset=18)
def resize_opset18_axes(g: GraphBuilder):
    x = g.input("x", (1, 3, 5, 6))
    a = g.node("Resize", [x, "", g.const("scales", np.asarray([2.0, 1.5], dtype=np.float32))], "axes_scales",
               mode="linear", coordinate_transformation_mode="half_pixel", axes=[2, 3])
    # Negative axes would be legal ONNX, but onnxruntime 1.32 rejects them for Resize.
    b = g.node("Resize", [x, "", "", g.const("sizes", np.asarray([12, 9], dtype=np.int64))], "axes_sizes",
               mode="linear", coordinate_transformation_mode="half_pixel", axes=[2, 3])
    c = g.node("Resize", [x, "", "", "sizes"], "axes_sizes_nearest", mode="nearest", axes=[2, 3])
    return [a, b, c], ("Resize opset 18 with axes=[2,3]: linear by 2 scales, linear by 2 sizes, nearest by sizes "
                       "(default half_pixel + round_prefer_floor)")


@case(opset=17)
def resize_size_chain(g: GraphBuilder):
    # The older torch exporters' pattern: the target size is computed at run time from a shape.
    x = g.input("x", (1, 4, 12, 16))
    y = g.node("Conv", [x, g.weight("w", (3, 4, 3, 3), 36), g.weight("b", (3,))], "y", kernel_shape=[3, 3],
               strides=[2, 2], pads=[1, 1, 1, 1])
    shape = g.node("Shape", [x], "x_shape")
    height = g.node("Gather", [shape, g.const("i2", np.asarray(2, dtype=np.int64))], "h", axis=0)
    width = g.node("Gather", [shape, g.const("i3", np.asarray(3, dtype=np.int64))], "w_", axis=0)
    h1 = g.node("Unsqueeze", [height, g.const("ax0", np.asarray([0], dtype=np.int64))], "h1")
    w1 = g.node("Unsqueeze", [width, "ax0"], "w1")
    y_shape = g.node("Shape", [y], "y_shape")
    batch_channels = g.node("Slice", [y_shape, g.const("s0", np.asarray([0], dtype=np.int64)),
                                      g.const("s2", np.asarray([2], dtype=np.int64))], "nc")
    sizes = g.node("Concat", [batch_channels, h1, w1], "sizes", axis=0)
    up = g.node("Resize", [y, "", "", sizes], "upsampled", mode="linear",
                coordinate_transformation_mode="half_pixel")
    # Scale-based variant: half of the input size, via Cast to float, Mul, Floor, Cast back.
    hw = g.node("Slice", [shape, "s2", g.const("s4", np.asarray([4], dtype=np.int64))], "hw")
    hw_float = g.node("Cast", [hw], "hw_float", to=TensorProto.FLOAT)
    half = g.node("Floor", [g.node("Mul", [hw_float, g.const("half", np.asarray(0.5, dtype=np.float32))],
                                   "hw_half")], "hw_half_floor")
    x_batch_channels = g.node("Slice", [shape, "s0", "s2"], "x_nc")
    half_sizes = g.node("Concat", [x_batch_channels, g.node("Cast", [half], "hw_half_int", to=TensorProto.INT64)],
                        "half_sizes", axis=0)
    down = g.node("Resize", [x, "", "", half_sizes], "downsampled", mode="linear",
                  coordinate_transformation_mode="pytorch_half_pixel")
    return [up, down], ("Resize whose sizes come from Shape->Gather->Unsqueeze->Concat and "
                        "Shape->Slice->Cast->Mul->Floor->Cast->Concat chains (constant for a fixed input)")


# --- Dense algebra and shapes --------------------------------------------------------------------

@case(opset=13)
def gemm(g: GraphBuilder):
    a = g.input("a", (2, 6))
    plain = g.node("Gemm", [a, g.weight("b_t", (4, 6)), g.weight("c", (4,))], "transB_bias_vector", transB=1)
    a_t = g.node("Transpose", [a], "a_t", perm=[1, 0])
    scaled = g.node("Gemm", [a_t, g.weight("b", (6, 5)), g.weight("c_row", (1, 5))], "transA_alpha_beta",
                    transA=1, alpha=0.5, beta=2.0)
    both = g.node("Gemm", [a_t, g.weight("b_t2", (3, 6)), g.weight("c_full", (2, 3))], "transA_transB_full_c",
                  transA=1, transB=1, alpha=1.5, beta=-0.5)
    no_c = g.node("Gemm", [a, g.weight("b2", (6, 3))], "no_c")
    scalar_c = g.node("Gemm", [a, "b2", g.const("c_scalar", np.asarray([0.75], dtype=np.float32))], "scalar_c")
    return [plain, scaled, both, no_c, scalar_c], ("Gemm transB + bias [N]; transA alpha 0.5 beta 2 bias [1,N]; "
                                                   "transA+transB bias [M,N]; no C; C of shape [1]")


@case(opset=13)
def matmul(g: GraphBuilder):
    x = g.input("x", (2, 3, 5))
    a = g.node("MatMul", [x, g.weight("w", (5, 4))], "batched_by_matrix")
    b = g.node("MatMul", [g.node("Reshape", [x, g.const("flat", np.asarray([6, 5], dtype=np.int64))], "x2d"),
                          "w"], "matrix_by_matrix")
    c = g.node("MatMul", [x, g.weight("w3", (2, 5, 3))], "batched_by_batched")
    d = g.node("MatMul", [g.weight("left", (4, 2)), g.node("Transpose", [x], "xt", perm=[1, 0, 2])],
               "matrix_by_batched")
    return [a, b, c, d], "MatMul [2,3,5]x[5,4], [6,5]x[5,4], [2,3,5]x[2,5,3], [4,2]x[3,2,5] (broadcast batch)"


@case(opset=14)
def transpose_reshape_flatten(g: GraphBuilder):
    x = g.input("x", (1, 3, 4, 5))
    outs = [
        g.node("Transpose", [x], "nhwc", perm=[0, 2, 3, 1]),
        g.node("Transpose", [x], "reversed"),
        g.node("Reshape", [x, g.const("zero_minus1", np.asarray([0, -1], dtype=np.int64))], "reshape_0_m1"),
        g.node("Reshape", [x, g.const("zero_zero_minus1", np.asarray([0, 0, -1], dtype=np.int64))],
               "reshape_0_0_m1"),
        g.node("Reshape", [x, g.const("m1_5_2", np.asarray([-1, 5, 2], dtype=np.int64))], "reshape_m1_5_2"),
        g.node("Flatten", [x], "flatten_default"),
        g.node("Flatten", [x], "flatten_axis0", axis=0),
        g.node("Flatten", [x], "flatten_axis2", axis=2),
        g.node("Flatten", [x], "flatten_axis_m1", axis=-1),
    ]
    return outs, ("Transpose NCHW->NHWC and default (reversed) perm; Reshape [0,-1], [0,0,-1], [-1,5,2] "
                  "(opset 14); Flatten axis 1 (default), 0, 2, -1")


@case(opset=13)
def softmax(g: GraphBuilder):
    x = g.input("x", (1, 5, 4, 6), scale=3.0)
    return [g.node("Softmax", [x], "axis1", axis=1), g.node("Softmax", [x], "axis_m1", axis=-1),
            g.node("Softmax", [g.node("Reshape", [x, g.const("s", np.asarray([4, 30], dtype=np.int64))], "x2")],
                   "axis_default_2d")], "Softmax (opset 13 semantics) on axis 1, axis -1, default axis of a 2-D tensor"


@case(opset=13)
def reducemean_opset13(g: GraphBuilder):
    x = g.input("x", (1, 4, 5, 6))
    return [g.node("ReduceMean", [x], "hw_keepdims", axes=[2, 3], keepdims=1),
            g.node("ReduceMean", [x], "c_no_keepdims", axes=[1], keepdims=0),
            g.node("ReduceMean", [x], "negative_axes", axes=[-1], keepdims=1),
            g.node("ReduceMean", [x], "all_axes")], \
        "ReduceMean opset 13 (axes attribute): [2,3] keepdims 1; [1] keepdims 0; [-1]; no axes (all)"


@case(opset=18)
def reducemean_opset18(g: GraphBuilder):
    x = g.input("x", (1, 4, 5, 6))
    return [g.node("ReduceMean", [x, g.const("hw", np.asarray([-1, -2], dtype=np.int64))], "hw_keepdims",
                   keepdims=1),
            g.node("ReduceMean", [x, g.const("c", np.asarray([1], dtype=np.int64))], "c_no_keepdims", keepdims=0),
            g.node("ReduceMean", [x], "no_axes_input")], \
        "ReduceMean opset 18 (axes as input): [-1,-2] keepdims 1; [1] keepdims 0; no axes input (all)"


# --- Elementwise ---------------------------------------------------------------------------------

@case(opset=13)
def clip(g: GraphBuilder):
    x = g.input("x", (1, 3, 4, 5), scale=4.0)
    zero = g.const("zero", np.asarray(0.0, dtype=np.float32))
    six = g.const("six", np.asarray(6.0, dtype=np.float32))
    return [g.node("Clip", [x, zero, six], "relu6"),
            g.node("Clip", [x, g.const("lo", np.asarray(-1.5, dtype=np.float32))], "min_only"),
            g.node("Clip", [x, "", g.const("hi", np.asarray(0.5, dtype=np.float32))], "max_only"),
            g.node("Clip", [x], "no_bounds")], \
        "Clip with min/max inputs (0,6), min only, max only (empty min name), neither"


@case(opset=14)
def binary_broadcast(g: GraphBuilder):
    x = g.input("x", (1, 4, 5, 6))
    positive = (0.5 + g.rng.random((1, 4, 5, 6))).astype(np.float32)
    outs = [
        g.node("Add", [x, g.const("scalar", np.asarray(1.25, dtype=np.float32))], "add_scalar"),
        g.node("Mul", [x, g.weight("per_channel_4d", (1, 4, 1, 1))], "mul_per_channel_1c11"),
        g.node("Sub", [x, g.weight("per_channel_3d", (4, 1, 1))], "sub_per_channel_c11"),
        g.node("Div", [x, g.const("full", positive)], "div_full"),
        g.node("Add", [x, g.weight("last_axis", (6,))], "add_last_axis"),
        g.node("Sub", [g.weight("row", (1, 1, 5, 1)), x], "sub_constant_minus_x"),
        g.node("Div", [g.const("numerator", np.asarray([2.0], dtype=np.float32)),
                       g.node("Add", [g.node("Mul", [x, x], "x_squared"), g.const("one", np.asarray(1.0, np.float32))],
                              "x_squared_plus_1")], "div_scalar_by_x"),
        g.node("Mul", [g.node("ReduceMean", [x], "gap", axes=[2, 3], keepdims=1), x], "mul_gap_times_x"),
    ]
    return outs, ("Add/Sub/Mul/Div broadcasting: scalar, [1,C,1,1], [C,1,1], full, [W], constant on the left, "
                  "scalar / tensor, runtime [1,C,1,1] x [1,C,H,W]")


@case(opset=13)
def binary_two_inputs(g: GraphBuilder):
    a = g.input("a", (1, 4, 5, 6))
    b = g.input("b", (1, 4, 1, 1))
    c = g.input("c", (1, 1, 5, 6))
    return [g.node("Mul", [a, g.node("Sigmoid", [b], "gate")], "a_times_sigmoid_b"),
            g.node("Add", [b, c], "b_plus_c_outer"),
            g.node("Sub", [a, c], "a_minus_c")], \
        "Three graph inputs broadcast against each other: [1,C,H,W] x [1,C,1,1], [1,C,1,1] + [1,1,H,W], ..."


@case(opset=13)
def concat(g: GraphBuilder):
    x = g.input("x", (1, 3, 4, 5))
    relu = g.node("Relu", [x], "relu")
    return [g.node("Concat", [x, relu, g.weight("extra", (1, 2, 4, 5))], "axis1", axis=1),
            g.node("Concat", [x, relu], "axis_m1", axis=-1),
            g.node("Concat", [x, x], "axis2_same_input_twice", axis=2)], \
        "Concat on axis 1 (input, computed, constant), axis -1, axis 2 with the same tensor twice"


@case(opset=14)
def activations(g: GraphBuilder):
    x = g.input("x", (1, 4, 6, 7), scale=3.0)
    outs = [
        g.node("HardSwish", [x], "hardswish:0"),
        g.node("HardSigmoid", [x], "hardsigmoid/torch", alpha=1.0 / 6.0, beta=0.5),
        g.node("HardSigmoid", [x], "hardsigmoid/default"),
        g.node("Sigmoid", [x], "sigmoid"),
        g.node("Relu", [x], "relu"),
        g.node("Identity", [x], "identity"),
        g.node("Dropout", [x, g.const("ratio", np.asarray(0.5, dtype=np.float32))], "dropout"),
        g.node("Mul", [x, g.node("HardSigmoid", [x], "hs_inner", alpha=1.0 / 6.0, beta=0.5)], "x_times_hardsigmoid"),
    ]
    return outs, ("HardSwish, HardSigmoid (alpha 1/6 beta 0.5 and defaults 0.2/0.5), Sigmoid, Relu, Identity, "
                  "Dropout with ratio input (inference = identity), x*HardSigmoid(x); inputs span about +-9 to hit "
                  "saturation; output names with ':' and '/' to test file-name sanitising")


@case(opset=13)
def constant_cast(g: GraphBuilder):
    x = g.input("x", (1, 3, 4, 5), scale=2.0)
    offsets = g.node("Constant", [], "offsets_int",
                     value=numpy_helper.from_array(np.asarray([[[1]], [[-2]], [[3]]], dtype=np.int32), "o"))
    bias = g.node("Cast", [offsets], "offsets_float", to=TensorProto.FLOAT)
    scale = g.node("Constant", [], "scale_float", value_float=0.25)
    truncated = g.node("Cast", [g.node("Cast", [g.node("Mul", [x, g.const("three", np.asarray(3.0, np.float32))],
                                                        "x3")], "x3_int", to=TensorProto.INT64)],
                       "truncated", to=TensorProto.FLOAT)
    return [g.node("Add", [x, bias], "x_plus_cast_constant"),
            g.node("Mul", [x, scale], "x_times_constant_scalar"),
            truncated], \
        "Constant nodes (int32 tensor, value_float scalar), Cast int32->float, Cast float->int64->float (truncation)"


@case(opset=15)
def batchnorm(g: GraphBuilder):
    x = g.input("x", (1, 4, 5, 6))
    channels = 4
    scale = g.const("scale", (0.5 + g.rng.random(channels)).astype(np.float32))
    bias = g.weight("bias", (channels,))
    mean = g.weight("mean", (channels,))
    var = g.const("var", (0.2 + g.rng.random(channels)).astype(np.float32))
    direct = g.node("BatchNormalization", [x, scale, bias, mean, var], "on_input", epsilon=1e-3)
    summed = g.node("Add", [x, g.node("Relu", [x], "relu")], "sum")
    after_add = g.node("BatchNormalization", [summed, scale, bias, mean, var], "after_add")
    return [direct, after_add], ("BatchNormalization (opset 15, inference) applied to the graph input (epsilon 1e-3) "
                                 "and after an Add (nothing to fold it into)")


def external_data_case() -> OpCase:
    """A small conv net whose every initializer lives in weights.bin next to model.onnx."""
    name = "external_data"
    g = GraphBuilder(name, 15, np.random.default_rng(zlib.crc32(name.encode())))
    x = g.input("input", (1, 3, 16, 20))
    y = g.node("Conv", [x, g.weight("conv1.weight", (8, 3, 3, 3), 27)], "c1", kernel_shape=[3, 3],
               pads=[1, 1, 1, 1], strides=[2, 2])
    y = g.node("BatchNormalization", [y, g.const("bn.scale", (0.5 + g.rng.random(8)).astype(np.float32)),
                                      g.weight("bn.bias", (8,)), g.weight("bn.mean", (8,)),
                                      g.const("bn.var", (0.5 + g.rng.random(8)).astype(np.float32))], "bn")
    y = g.node("Relu", [y], "r1")
    y = g.node("Conv", [y, g.weight("classifier.weight", (4, 8, 1, 1), 8), g.weight("classifier.bias", (4,))],
               "logits_low", kernel_shape=[1, 1])
    # The scales stay a Constant node: onnxruntime needs them while loading the graph, before it
    # reads external data (as exporters do, which externalise only large weights).
    scales = g.node("Constant", [], "up", value=numpy_helper.from_array(np.asarray([1, 1, 2, 2], np.float32), "up"))
    out = g.node("Resize", [y, "", scales], "logits", mode="linear", coordinate_transformation_mode="half_pixel")
    return OpCase(g.build([out]), g.feeds,
                  "tools/op_cases.py:external_data_case (onnx.helper, opset 15): Conv/BN/Relu/Conv/Resize with all "
                  "initializers in weights.bin (onnx.save_model save_as_external_data, size_threshold=0)",
                  argmax_axis=1, external_data=True)


CASES["external_data"] = external_data_case
