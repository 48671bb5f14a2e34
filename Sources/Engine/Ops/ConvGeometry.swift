import CKernels

/// Spatial geometry shared by Conv and the pooling operators: kernel, strides, dilations and
/// the resolved padding (auto_pad included) for one fixed input size.
struct ConvGeometry: Equatable {
    var kernel: (h: Int, w: Int)
    var stride: (h: Int, w: Int)
    var dilation: (h: Int, w: Int)
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    var inH: Int, inW: Int
    var outH: Int, outW: Int

    static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.padTop == b.padTop
            && a.padLeft == b.padLeft && a.padBottom == b.padBottom && a.padRight == b.padRight
            && a.inH == b.inH && a.inW == b.inW && a.outH == b.outH && a.outW == b.outW
    }

    /// Resolves the ONNX attributes for an input of `inH`×`inW`.
    init(_ ctx: OpContext, inH: Int, inW: Int, kernel: (Int, Int), ceilMode: Bool = false,
         allowDilation: Bool = true) throws {
        let strides = try ctx.ints("strides", [1, 1])
        let dilations = allowDilation ? try ctx.ints("dilations", [1, 1]) : [1, 1]
        let pads = try ctx.ints("pads", [0, 0, 0, 0])
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw ctx.fail("only 2-D windows are supported (strides \(strides), dilations \(dilations), pads \(pads))")
        }
        guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }),
              kernel.0 >= 1, kernel.1 >= 1 else {
            throw ctx.fail("strides, dilations and kernel must be positive and pads non-negative")
        }
        self.kernel = kernel
        stride = (strides[0], strides[1])
        dilation = (dilations[0], dilations[1])
        self.inH = inH
        self.inW = inW
        let autoPad = try ctx.string("auto_pad", "NOTSET")
        let extentH = (kernel.0 - 1) * dilation.h + 1, extentW = (kernel.1 - 1) * dilation.w + 1
        switch autoPad {
        case "NOTSET":
            padTop = pads[0]; padLeft = pads[1]; padBottom = pads[2]; padRight = pads[3]
            outH = ConvGeometry.outSize(inH, padTop + padBottom, extentH, stride.h, ceilMode, padTop)
            outW = ConvGeometry.outSize(inW, padLeft + padRight, extentW, stride.w, ceilMode, padLeft)
        case "VALID":
            padTop = 0; padLeft = 0; padBottom = 0; padRight = 0
            outH = ConvGeometry.outSize(inH, 0, extentH, stride.h, ceilMode, 0)
            outW = ConvGeometry.outSize(inW, 0, extentW, stride.w, ceilMode, 0)
        case "SAME_UPPER", "SAME_LOWER":
            outH = (inH + stride.h - 1) / stride.h
            outW = (inW + stride.w - 1) / stride.w
            let totalH = max(0, (outH - 1) * stride.h + extentH - inH)
            let totalW = max(0, (outW - 1) * stride.w + extentW - inW)
            let upper = autoPad == "SAME_UPPER"
            padTop = upper ? totalH / 2 : totalH - totalH / 2
            padLeft = upper ? totalW / 2 : totalW - totalW / 2
            padBottom = totalH - padTop
            padRight = totalW - padLeft
        default:
            throw ctx.fail("unknown auto_pad \(autoPad)")
        }
        guard outH >= 1, outW >= 1 else {
            throw EngineError.shapeMismatch("node \(ctx.label): window larger than the padded \(inH)x\(inW) input")
        }
    }

    private static func outSize(_ n: Int, _ pads: Int, _ extent: Int, _ stride: Int, _ ceil: Bool, _ padBegin: Int) -> Int {
        let span = n + pads - extent
        guard span >= 0 else { return 0 }
        var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        // A window may not start inside the trailing padding (PyTorch and onnxruntime agree).
        if ceil && (out - 1) * stride >= n + padBegin { out -= 1 }
        return out
    }

    /// How a convolution of this geometry runs: one filter per channel, a GEMM straight on the
    /// input (1×1, stride 1, no padding), or im2col tiles and a GEMM.
    enum Mode { case depthwise, pointwise, im2col }

    /// The mode of a convolution from `inChannels` to `filters` channels in `group` groups.
    func mode(inChannels: Int, filters: Int, group: Int) -> Mode {
        if group == inChannels && filters == inChannels && group > 1 { return .depthwise }
        if kernel == (1, 1) && stride == (1, 1) && padTop == 0 && padLeft == 0 && outH == inH && outW == inW {
            return .pointwise
        }
        return .im2col
    }

    /// The window as the C kernels take it, for `channels` channels.
    func window(channels: Int) -> ck_window {
        ck_window(channels: Int32(channels), in_h: Int32(inH), in_w: Int32(inW), out_h: Int32(outH),
                  out_w: Int32(outW), kernel_h: Int32(kernel.h), kernel_w: Int32(kernel.w),
                  stride_h: Int32(stride.h), stride_w: Int32(stride.w), pad_top: Int32(padTop),
                  pad_left: Int32(padLeft), dilation_h: Int32(dilation.h), dilation_w: Int32(dilation.w))
    }
}
