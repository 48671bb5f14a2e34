import CKernels
import Testing

// The int8 kernels (CKQuant.h) on every dispatch path must equal the scalar reference bit for bit.
// The reference is the same public entry point under ck_set_dispatch(0); the other modes reach the
// AVX-512 VNNI (1), AVX-VNNI (2) and plain AVX2 (3) paths where the CPU has them. The full sweep
// (many more shapes, guard bytes, scratch overruns) is tools/kernels/qkernel_check.c.

/// Runs `body` under the scalar path first, then under every other dispatch mode, and records an
/// issue for each mode whose bytes differ from the scalar ones.
func expectQuantPathsAgree(_ context: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () -> [UInt8]) {
    defer { ck_set_dispatch(1) }
    ck_set_dispatch(0)
    let want = body()
    for mode: Int32 in [1, 2, 3] {
        ck_set_dispatch(mode)
        let path = String(cString: ck_qgemm_path())
        let got = body()
        guard got != want else { continue }
        let common = min(got.count, want.count)
        let first = (0..<common).first { got[$0] != want[$0] } ?? common
        let bad = zip(got, want).filter { $0 != $1 }.count
        let detail = first < common ? "got \(got[first]) want \(want[first])" : "lengths differ"
        Issue.record("mode \(mode) (\(path)) \(context()): \(bad) of \(want.count) bytes differ; first at \(first): \(detail)",
                     sourceLocation: sourceLocation)
    }
}

/// Allocates `count` bytes aligned to 64 (at least 64), runs body, frees them.
func withAligned<R>(_ count: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 64), alignment: 64)
    defer { p.deallocate() }
    return body(p)
}

/// One ck_qgemm problem.
struct QGemmCase: CustomStringConvertible {
    var m, n, k, ldb, ldc: Int
    var rows: Range<Int>, cols: Range<Int>
    var bSigned, outSigned: Bool
    var a: [Int8]           // m x k
    var b: [UInt8]          // k x ldb
    var bias: [Int32]
    var scale: [Float]
    var zeroPoint, qmin, qmax: Int32

    var description: String {
        "M\(m) N\(n) K\(k) ldb \(ldb) ldc \(ldc) rows \(rows) cols \(cols) b_signed \(bSigned) out_signed \(outSigned) " +
            "zp \(zeroPoint) q[\(qmin), \(qmax)]"
    }

    static func random(_ rng: inout KernelRNG, m: Int, n: Int, k: Int, subRange: Bool, narrow: Bool) -> QGemmCase {
        let outSigned = rng.int(0...1) == 1
        let lo: Int32 = outSigned ? -128 : 0, hi: Int32 = outSigned ? 127 : 255
        let zp = Int32(rng.int(Int(lo)...Int(hi)))
        var rows = 0..<m, cols = 0..<n
        if subRange {
            let r0 = rng.int(0...(m - 1)), c0 = rng.int(0...(n - 1))
            rows = r0..<rng.int((r0 + 1)...m)
            cols = c0..<rng.int((c0 + 1)...n)
        }
        let ldb = n + rng.int(0...3), ldc = n + rng.int(0...3)
        // Spreads the typical |acc| (~ sqrt(k) * 128 * 74) over the output range, some saturating.
        let typical = Float(k).squareRoot() * 128 * 74
        return QGemmCase(m: m, n: n, k: k, ldb: ldb, ldc: ldc, rows: rows, cols: cols,
                         bSigned: rng.int(0...1) == 1, outSigned: outSigned,
                         a: (0..<(m * k)).map { _ in Int8(truncatingIfNeeded: rng.int(-128...127)) },
                         b: (0..<(k * ldb)).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) },
                         bias: (0..<m).map { _ in Int32(rng.int(-(1 << 20)...(1 << 20))) },
                         scale: (0..<m).map { _ in rng.float(20, 300) / typical },
                         zeroPoint: zp, qmin: narrow ? zp : lo, qmax: narrow ? min(hi, zp + 60) : hi)
    }

    /// C (m x ldc bytes, 0xA5 outside what the calls write) after ck_qgemm over `blocks`.
    func run(blocks: [(Range<Int>, Range<Int>)]? = nil) -> [UInt8] {
        var c = [UInt8](repeating: 0xA5, count: m * ldc)
        withAligned(ck_qgemm_packed_a_size(Int32(m), Int32(k))) { packed in
            withAligned(ck_qgemm_scratch_size(Int32(k))) { scratch in
                ck_qgemm_pack_a(Int32(m), Int32(k), a, Int32(k), packed)
                bias.withUnsafeBufferPointer { biasBuffer in
                    scale.withUnsafeBufferPointer { scaleBuffer in
                        var rq = ck_requant(bias: biasBuffer.baseAddress, scale: scaleBuffer.baseAddress,
                                            zero_point: zeroPoint, qmin: qmin, qmax: qmax, out_signed: outSigned ? 1 : 0)
                        c.withUnsafeMutableBytes { cBytes in
                            for (r, cl) in blocks ?? [(rows, cols)] {
                                ck_qgemm(Int32(m), Int32(n), Int32(k), packed, b, Int32(ldb), bSigned ? 1 : 0,
                                         cBytes.baseAddress, Int32(ldc), &rq, Int32(r.lowerBound), Int32(r.upperBound),
                                         Int32(cl.lowerBound), Int32(cl.upperBound), scratch)
                            }
                        }
                    }
                }
            }
        }
        return c
    }
}

/// One ck_qdepthwise_conv2d problem.
struct QDepthwiseCase: CustomStringConvertible {
    var geometry: KernelGeometry
    var inSigned: Bool
    var inZeroPoint: Int32
    var input: [UInt8]
    var weights: [Int8]
    var bias: [Int32]
    var scale: [Float]
    var outSigned: Bool
    var zeroPoint, qmin, qmax: Int32
    var channels: Range<Int>

    var description: String {
        "\(geometry) in_signed \(inSigned) zp_in \(inZeroPoint) out_signed \(outSigned) zp \(zeroPoint) " +
            "q[\(qmin), \(qmax)] ch \(channels)"
    }

    static func random(_ rng: inout KernelRNG, geometry g: KernelGeometry, subRange: Bool, narrow: Bool) -> QDepthwiseCase {
        let inSigned = rng.int(0...1) == 1, outSigned = rng.int(0...1) == 1
        let lo: Int32 = outSigned ? -128 : 0, hi: Int32 = outSigned ? 127 : 255
        let zp = Int32(rng.int(Int(lo)...Int(hi)))
        let taps = g.kH * g.kW
        var channels = 0..<g.channels
        if subRange {
            let c0 = rng.int(0...(g.channels - 1))
            channels = c0..<rng.int((c0 + 1)...g.channels)
        }
        let typical = Float(taps).squareRoot() * 128 * 80
        return QDepthwiseCase(geometry: g, inSigned: inSigned,
                              inZeroPoint: Int32(inSigned ? rng.int(-128...127) : rng.int(0...255)),
                              input: (0..<(g.channels * g.inH * g.inW)).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) },
                              weights: (0..<(g.channels * taps)).map { _ in Int8(truncatingIfNeeded: rng.int(-128...127)) },
                              bias: (0..<g.channels).map { _ in Int32(rng.int(-20000...20000)) },
                              scale: (0..<g.channels).map { _ in rng.float(0.5, 8) / typical },
                              outSigned: outSigned, zeroPoint: zp, qmin: narrow ? zp : lo,
                              qmax: narrow ? min(hi, zp + 60) : hi, channels: channels)
    }

    func run() -> [UInt8] {
        let g = geometry
        var out = [UInt8](repeating: 0xA5, count: g.channels * g.outH * g.outW)
        var win = g.window
        let q = ck_qparams(scale: 0.05, zero_point: inZeroPoint, is_signed: inSigned ? 1 : 0)
        bias.withUnsafeBufferPointer { biasBuffer in
            scale.withUnsafeBufferPointer { scaleBuffer in
                var rq = ck_requant(bias: biasBuffer.baseAddress, scale: scaleBuffer.baseAddress, zero_point: zeroPoint,
                                    qmin: qmin, qmax: qmax, out_signed: outSigned ? 1 : 0)
                out.withUnsafeMutableBytes { o in
                    ck_qdepthwise_conv2d(input, q, weights, &rq, o.baseAddress, &win, Int32(channels.lowerBound),
                                         Int32(channels.upperBound))
                }
            }
        }
        return out
    }
}

func randomQParams(_ rng: inout KernelRNG) -> ck_qparams {
    let signed = rng.int(0...1) == 1
    return ck_qparams(scale: rng.float(0.001, 0.2), zero_point: Int32(signed ? rng.int(-128...127) : rng.int(0...255)),
                      is_signed: signed ? 1 : 0)
}

extension KernelTests {
    @Suite struct Quant {
        @Test func pathNamesFollowTheDispatchMode() {
            defer { ck_set_dispatch(1) }
            ck_set_dispatch(0)
            #expect(String(cString: ck_qgemm_path()) == "scalar")
            let features = ck_cpu_features()
            ck_set_dispatch(1)
            let automatic = String(cString: ck_qgemm_path())
            ck_set_dispatch(3)
            let plain = String(cString: ck_qgemm_path())
            if features & 4 != 0 {
                #expect(automatic == "avx512-vnni")
            } else if features & 8 != 0 {
                #expect(automatic == "avx-vnni")
            } else if features & 1 != 0 {
                #expect(automatic == "avx2")
            } else {
                #expect(automatic == "scalar")
            }
            #expect(plain == (features & 1 != 0 ? "avx2" : "scalar"))
            #expect(ck_qgemm_scratch_size(0) >= 64)
            #expect(ck_qgemm_packed_a_size(9, 5) == 2 * 2 * 32)
        }

        /// Rows not a multiple of 8, K not a multiple of 4, column tails, sub-ranges, both input and
        /// output types, narrowed output ranges (fused Relu).
        @Test func qgemmMatchesScalar() {
            var rng = KernelRNG(seed: 801)
            let ks = [1, 3, 4, 5, 16, 27, 33, 96, 576, 2305]
            for index in 0..<60 {
                let k = ks[index % ks.count]
                let problem = QGemmCase.random(&rng, m: rng.int(1...37), n: rng.int(1...100), k: k,
                                               subRange: index % 3 == 1, narrow: index % 4 == 3)
                expectQuantPathsAgree("\(problem)") { problem.run() }
            }
            // Several column blocks (K = 2880 leaves under 200 columns a block).
            let wide = QGemmCase.random(&rng, m: 19, n: 700, k: 2880, subRange: false, narrow: false)
            expectQuantPathsAgree("\(wide)") { wide.run() }
        }

        /// ck_qgemm_conv (the taps read straight from the input) equals ck_im2col_u8 + ck_qgemm on
        /// the scalar path, for stride-1-across windows with dilations and pads, short and long
        /// output rows, K past the K-blocking threshold and sub-ranges; windows it declines
        /// (stride 2 across, rows under 16 pixels) say so. On an AVX-512 VNNI CPU it must take some.
        @Test func qgemmConvMatchesIm2colAndGemm() {
            var rng = KernelRNG(seed: 805)
            var taken = 0
            for index in 0..<24 {
                let kernel = rng.int(1...3), dilation = index % 3 == 0 ? 2 : 1, strideW = index % 6 == 5 ? 2 : 1
                let channels = index % 8 == 0 ? 260 : rng.int(1...24)
                let inH = rng.int(3...12), inW = index % 4 == 1 ? rng.int(8...15) : rng.int(16...90)
                let pad = rng.int(0...kernel)
                let outH = inH + 2 * pad - (kernel - 1) * dilation, outW = (inW + 2 * pad - (kernel - 1) * dilation - 1) / strideW + 1
                guard outH > 0, outW > 0 else { continue }
                var win = ck_window(channels: Int32(channels), in_h: Int32(inH), in_w: Int32(inW), out_h: Int32(outH),
                                    out_w: Int32(outW), kernel_h: Int32(kernel), kernel_w: Int32(kernel), stride_h: 1,
                                    stride_w: Int32(strideW), pad_top: Int32(pad), pad_left: Int32(pad),
                                    dilation_h: Int32(dilation), dilation_w: Int32(dilation))
                let k = channels * kernel * kernel, n = outH * outW
                var problem = QGemmCase.random(&rng, m: rng.int(1...40), n: n, k: k, subRange: index % 3 == 1, narrow: index % 4 == 3)
                problem.ldb = n
                let input = (0..<(channels * inH * inW)).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) }
                let padByte = UInt8(rng.int(0...255))
                problem.b = [UInt8](repeating: 0, count: k * n)
                problem.b.withUnsafeMutableBufferPointer { ck_im2col_u8(input, $0.baseAddress, &win, 0, Int32(k), padByte) }
                let implicit: () -> [UInt8]? = {
                    guard ck_qgemm_conv_supported(&win, Int32(k)) != 0 else { return nil }
                    var c = [UInt8](repeating: 0xA5, count: problem.m * problem.ldc)
                    withAligned(ck_qgemm_packed_a_size(Int32(problem.m), Int32(k))) { packed in
                        withAligned(ck_qgemm_scratch_size(Int32(k))) { scratch in
                            ck_qgemm_pack_a(Int32(problem.m), Int32(k), problem.a, Int32(k), packed)
                            problem.bias.withUnsafeBufferPointer { bias in
                                problem.scale.withUnsafeBufferPointer { scale in
                                    var rq = ck_requant(bias: bias.baseAddress, scale: scale.baseAddress, zero_point: problem.zeroPoint,
                                                        qmin: problem.qmin, qmax: problem.qmax, out_signed: problem.outSigned ? 1 : 0)
                                    c.withUnsafeMutableBytes { out in
                                        let done = ck_qgemm_conv(Int32(problem.m), Int32(k), packed, input, &win, padByte,
                                                                 problem.bSigned ? 1 : 0, out.baseAddress, Int32(problem.ldc), &rq,
                                                                 Int32(problem.rows.lowerBound), Int32(problem.rows.upperBound),
                                                                 Int32(problem.cols.lowerBound), Int32(problem.cols.upperBound), scratch)
                                        #expect(done == 1)
                                    }
                                }
                            }
                        }
                    }
                    return c
                }
                defer { ck_set_dispatch(1) }
                ck_set_dispatch(0)
                let want = problem.run()
                #expect(implicit() == nil, "the scalar path has no implicit im2col")
                for mode: Int32 in [1, 2, 3] {
                    ck_set_dispatch(mode)
                    guard let got = implicit() else { continue }
                    taken += 1
                    #expect(got == want, "mode \(mode) \(problem) window \(win)")
                    #expect(strideW == 1 && outW >= 16)
                }
                if strideW != 1 || outW < 16 { #expect(ck_qgemm_conv_supported(&win, Int32(k)) == 0) }
            }
            if ck_cpu_features() & 4 != 0 { #expect(taken > 0) }
        }

        /// Blocks split at arbitrary boundaries (as threads split them) give the one-call result.
        @Test func qgemmSplitsEqualOneCall() {
            var rng = KernelRNG(seed: 802)
            for _ in 0..<10 {
                let problem = QGemmCase.random(&rng, m: rng.int(9...40), n: rng.int(20...200), k: rng.int(1...300),
                                               subRange: false, narrow: false)
                let rowCut = rng.int(1...(problem.m - 1)), c1 = rng.int(1...(problem.n / 2)),
                    c2 = rng.int((problem.n / 2 + 1)...(problem.n - 1))
                var blocks: [(Range<Int>, Range<Int>)] = []
                for rows in [0..<rowCut, rowCut..<problem.m] {
                    for cols in [0..<c1, c1..<c2, c2..<problem.n] { blocks.append((rows, cols)) }
                }
                expectQuantPathsAgree("\(problem) split") { problem.run(blocks: blocks) }
                defer { ck_set_dispatch(1) }
                for mode: Int32 in [0, 1, 2, 3] {
                    ck_set_dispatch(mode)
                    #expect(problem.run(blocks: blocks) == problem.run(), "mode \(mode) \(problem)")
                }
            }
        }

        /// All-extreme operands with k = 4096: |acc| = 128 * 255 * 4096 needs exact int32 sums
        /// (any int16 pair sum would saturate). -133693440 / 2^20 = -127.5 rounds to -128.
        @Test func qgemmExtremesDoNotSaturate() {
            let m = 8, n = 16, k = 4096
            var problem = QGemmCase(m: m, n: n, k: k, ldb: n, ldc: n, rows: 0..<m, cols: 0..<n, bSigned: false,
                                    outSigned: true, a: [Int8](repeating: -128, count: m * k),
                                    b: [UInt8](repeating: 255, count: k * n), bias: [Int32](repeating: 0, count: m),
                                    scale: [Float](repeating: 1.0 / 1_048_576, count: m), zeroPoint: 0, qmin: -128, qmax: 127)
            defer { ck_set_dispatch(1) }
            for mode: Int32 in [0, 1, 2, 3] {
                ck_set_dispatch(mode)
                #expect(problem.run().allSatisfy { Int8(bitPattern: $0) == -128 }, "mode \(mode)")
            }
            // int8 B of 127 reads as 255 too; A = 127 gives 127 * 255 * 4096 / 2^20 = 126.50 -> 127.
            problem.bSigned = true
            problem.b = [UInt8](repeating: 0x7F, count: k * n)
            problem.a = [Int8](repeating: 127, count: m * k)
            for mode: Int32 in [0, 1, 2, 3] {
                ck_set_dispatch(mode)
                #expect(problem.run().allSatisfy { Int8(bitPattern: $0) == 127 }, "mode \(mode)")
            }
        }

        /// 3x3 and 5x5 (and a few other sizes) with strides 1/2, dilations 1/2/4, paddings, tiny
        /// images and channel ranges; also planes large enough for the staging ring.
        @Test func qdepthwiseMatchesScalar() {
            var rng = KernelRNG(seed: 803)
            var checked = 0
            while checked < 150 {
                let kernels = checked % 10 == 9 ? [(1, 1), (3, 1), (7, 7)] : [(3, 3), (5, 5)]
                let sizes = checked % 7 == 0 ? [1, 2, 3] : (checked % 11 == 0 ? [90, 130, 300] : [4, 8, 17, 33, 64])
                guard let g = KernelGeometry.random(&rng, channels: rng.int(1...6), sizes: sizes, kernels: kernels,
                                                    strides: [1, 2], dilations: [1, 2, 4]) else { continue }
                let problem = QDepthwiseCase.random(&rng, geometry: g, subRange: checked % 3 == 1, narrow: checked % 5 == 4)
                expectQuantPathsAgree("\(problem)") { problem.run() }
                checked += 1
            }
        }

        /// QuantizeLinear with exact ties (x / scale = k + 0.5 with power-of-two scales), near
        /// ties, NaN, infinities and huge values.
        @Test func quantizeMatchesScalar() {
            var rng = KernelRNG(seed: 804)
            let specials: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1e30, -1e30, .greatestFiniteMagnitude,
                                     2_147_483_648, -2_147_483_904, .leastNormalMagnitude / 4]
            for index in 0..<200 {
                var p = randomQParams(&rng)
                if index % 2 == 0 { p.scale = Float(sign: .plus, exponent: rng.int(-8...2), significand: 1) }
                let n = rng.int(0...150)
                let x: [Float] = (0..<n).map { _ in
                    switch rng.int(0...9) {
                    case 0...4: return (Float(rng.int(-300...300)) + 0.5) * p.scale
                    case 5: return rng.pick(specials)
                    default: return rng.float(-300, 300) * p.scale
                    }
                }
                expectQuantPathsAgree("quantize n \(n) scale \(p.scale) zp \(p.zero_point) signed \(p.is_signed)") {
                    var out = [UInt8](repeating: 0xA5, count: n + 8)
                    out.withUnsafeMutableBytes { ck_quantize(x, $0.baseAddress, n, p) }
                    return out
                }
            }
        }

        @Test func dequantizeAddRequantizeAndAvgpoolMatchScalar() {
            var rng = KernelRNG(seed: 805)
            for index in 0..<150 {
                let n = rng.int(0...150)
                let pa = randomQParams(&rng), pb = randomQParams(&rng)
                var pc = randomQParams(&rng)
                if index % 5 == 0 { pc.scale = pa.scale }
                let a = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) }
                let b = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) }
                let context = "n \(n) a \(pa) b \(pb) c \(pc)"
                expectQuantPathsAgree("dequantize \(context)") {
                    var out = [Float](repeating: -1, count: n + 4)
                    ck_dequantize(a, &out, n, pa)
                    return out.flatMap { withUnsafeBytes(of: $0.bitPattern) { Array($0) } }
                }
                expectQuantPathsAgree("qadd \(context)") {
                    var out = [UInt8](repeating: 0xA5, count: n + 8)
                    out.withUnsafeMutableBytes { ck_qadd(a, pa, b, pb, $0.baseAddress, pc, n) }
                    return out
                }
                let pout = index % 9 == 0 ? pa : pc   // equal encodings: the byte copy
                expectQuantPathsAgree("qrequantize \(context)") {
                    var out = [UInt8](repeating: 0xA5, count: n + 8)
                    out.withUnsafeMutableBytes { ck_qrequantize(a, pa, $0.baseAddress, pout, n) }
                    return out
                }
                let channels = rng.int(1...6), spatial = index % 25 == 0 ? rng.int(1000...5000) : rng.int(1...200)
                let planes = (0..<(channels * spatial)).map { _ in UInt8(truncatingIfNeeded: rng.int(0...255)) }
                let c0 = rng.int(0...(channels - 1)), c1 = rng.int((c0 + 1)...channels)
                expectQuantPathsAgree("qglobal_avgpool C \(channels) spatial \(spatial) ch \(c0)..<\(c1) \(context)") {
                    var out = [UInt8](repeating: 0xA5, count: channels)
                    out.withUnsafeMutableBytes {
                        ck_qglobal_avgpool(planes, pa, $0.baseAddress, pc, Int32(spatial), Int32(c0), Int32(c1))
                    }
                    return out
                }
            }
        }
    }
}
