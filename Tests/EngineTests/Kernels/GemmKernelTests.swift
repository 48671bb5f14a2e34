import CKernels
import Testing

/// One ck_gemm_packed problem: operands, leading dimensions, epilogue and the C block to write.
struct GemmCase: CustomStringConvertible {
    var m, n, k, lda, ldb, ldc: Int
    var mRange: Range<Int>, nRange: Range<Int>
    var act: ck_activation
    var a, b: [Float]
    var bias: [Float]?
    var residual: [Float]?    // m x ldc
    var aliasResidual = false // residual passed as C itself

    var description: String {
        "M\(m) N\(n) K\(k) lda \(lda) ldb \(ldb) ldc \(ldc) rows \(mRange) cols \(nRange) act \(act.kind) " +
            "bias \(bias != nil) residual \(residual != nil) alias \(aliasResidual)"
    }

    static func random(_ rng: inout KernelRNG, m: Int, n: Int, k: Int, act: ck_activation, fullRange: Bool,
                       padded: Bool, withBias: Bool, residual: Int) -> GemmCase {
        let lda = k + (padded ? rng.int(0...3) : 0)
        let ldb = n + (padded ? rng.int(0...5) : 0)
        let ldc = n + (padded ? rng.int(0...5) : 0)
        var mRange = 0..<m, nRange = 0..<n
        if !fullRange {
            let mb = rng.int(0...(m - 1)), nb = rng.int(0...(n - 1))
            mRange = mb..<rng.int((mb + 1)...m)
            nRange = nb..<rng.int((nb + 1)...n)
        }
        return GemmCase(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, mRange: mRange, nRange: nRange, act: act,
                        a: rng.floats(m * lda), b: rng.floats(k * ldb), bias: withBias ? rng.floats(m) : nil,
                        residual: residual > 0 ? rng.floats(m * ldc) : nil, aliasResidual: residual == 2)
    }

    /// C before the call: the residual when it is aliased, otherwise the sentinel everywhere.
    var initialC: [Float] {
        aliasResidual ? residual ?? [] : [Float](repeating: kernelSentinel, count: m * ldc)
    }

    /// Naive Double reference and, per element, the allowed error: 1e-5 of the sum of |terms|
    /// (times 1.5, the steepest activation slope) inside the block, exact outside it.
    func reference() -> (want: [Double], tolerance: [Double]) {
        let initial = initialC
        var want = initial.map { Double($0) }
        var tolerance = [Double](repeating: 0, count: m * ldc)
        for i in mRange {
            for j in nRange {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let term = Double(a[i * lda + p]) * Double(b[p * ldb + j])
                    sum += term
                    magnitude += abs(term)
                }
                if let bias {
                    sum += Double(bias[i])
                    magnitude += abs(Double(bias[i]))
                }
                if let residual {
                    sum += Double(residual[i * ldc + j])
                    magnitude += abs(Double(residual[i * ldc + j]))
                }
                want[i * ldc + j] = kernelReferenceActivation(sum, act)
                tolerance[i * ldc + j] = 1.5e-5 * magnitude + 1e-6
            }
        }
        return (want, tolerance)
    }

    /// Packs A into 64-byte-aligned memory, as the engine will at load time.
    func packA() -> UnsafeMutableBufferPointer<Float> {
        let count = max(ck_gemm_packed_a_size(Int32(m), Int32(k)), 1)
        let packed = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        ck_gemm_pack_a(Int32(m), Int32(k), a, Int32(lda), packed)
        return UnsafeMutableBufferPointer(start: packed, count: count)
    }

    /// Runs ck_gemm_packed over `blocks` (row range, column range) in turn, as threads would.
    func run(blocks: [(Range<Int>, Range<Int>)]? = nil) -> [Float] {
        let packed = packA()
        defer { packed.deallocate() }
        let scratchCount = max(ck_gemm_scratch_size(Int32(k)), 1)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchCount * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: scratchCount)
        defer { scratch.deallocate() }
        var c = initialC
        let bias = bias ?? []
        let residual = residual ?? []
        let useBias = !bias.isEmpty, useResidual = !residual.isEmpty
        bias.withUnsafeBufferPointer { biasBuffer in
            residual.withUnsafeBufferPointer { residualBuffer in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    let residualPointer = aliasResidual ? UnsafePointer(cBuffer.baseAddress)
                        : (useResidual ? residualBuffer.baseAddress : nil)
                    for (rows, cols) in blocks ?? [(mRange, nRange)] {
                        ck_gemm_packed(Int32(m), Int32(n), Int32(k), packed.baseAddress, b, Int32(ldb),
                                       cBuffer.baseAddress, Int32(ldc), useBias ? biasBuffer.baseAddress : nil,
                                       residualPointer, Int32(ldc), act, Int32(rows.lowerBound), Int32(rows.upperBound),
                                       Int32(cols.lowerBound), Int32(cols.upperBound), scratch)
                    }
                }
            }
        }
        return c
    }
}

/// Runs `body` on the scalar path, the AVX2 path (dispatch capped below AVX-512) and the fully
/// dispatched path (AVX-512 where present).
func forEachGemmPath(_ body: (String) -> Void) {
    defer { ck_set_dispatch(1) }
    for (mode, name) in [(Int32(0), "scalar"), (2, "avx2-capped"), (1, "dispatched")] {
        ck_set_dispatch(mode)
        body(name)
    }
}

/// Records one issue naming the first element outside its tolerance.
func expectGemmClose(_ got: [Float], _ want: [Double], _ tolerance: [Double], _ context: @autoclosure () -> String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    var bad = 0
    var first = -1
    for i in got.indices where !(abs(Double(got[i]) - want[i]) <= tolerance[i]) {
        bad += 1
        if first < 0 { first = i }
    }
    if bad > 0 {
        Issue.record("\(context()): \(bad) of \(got.count) differ; first at \(first): got \(got[first]), want \(want[first])",
                     sourceLocation: sourceLocation)
    }
}

extension KernelTests {
    @Suite struct Gemm {
        func check(_ problem: GemmCase) {
            let (want, tolerance) = problem.reference()
            forEachGemmPath { path in
                expectGemmClose(problem.run(), want, tolerance, "\(path) \(problem)")
            }
        }

        @Test func randomShapesBlocksAndEpilogues() {
            var rng = KernelRNG(seed: 11)
            for index in 0..<150 {
                let problem = GemmCase.random(&rng, m: rng.int(1...37), n: rng.int(1...130), k: rng.int(1...70),
                                              act: allKernelActivations[index % allKernelActivations.count],
                                              fullRange: index % 3 == 0, padded: index % 2 == 1,
                                              withBias: rng.int(0...3) > 0, residual: rng.int(0...2))
                check(problem)
            }
        }

        /// Sizes of 1 and primes on every axis, whole matrices, each with a different activation.
        @Test(arguments: [1, 2, 3, 7, 13, 17, 31, 53])
        func unitAndPrimeSizes(size: Int) {
            var rng = KernelRNG(seed: UInt64(size))
            let others = [1, 5, 11, 16, 29, 48, 97]
            for (index, other) in others.enumerated() {
                let act = allKernelActivations[(size + index) % allKernelActivations.count]
                for (m, n, k) in [(size, other, other), (other, size, other), (other, other, size)] {
                    check(GemmCase.random(&rng, m: m, n: n, k: k, act: act, fullRange: true, padded: false,
                                          withBias: true, residual: index % 3))
                }
            }
        }

        /// K beyond one K block (so partial sums go through C, with the residual aliased to C
        /// and the activation on the last block) and N beyond one column block.
        @Test(arguments: [(9, 700, 40), (20, 1100, 25), (11, 50, 1100), (3, 650, 600)])
        func multipleKAndColumnBlocks(m: Int, k: Int, n: Int) {
            var rng = KernelRNG(seed: UInt64(m * 1_000_000 + k * 1000 + n))
            for residual in 0...2 {
                for fullRange in [true, false] {
                    let act = allKernelActivations[(residual * 2 + (fullRange ? 1 : 0)) % allKernelActivations.count]
                    check(GemmCase.random(&rng, m: m, n: n, k: k, act: act, fullRange: fullRange, padded: true,
                                          withBias: residual != 1, residual: residual))
                }
            }
        }

        /// Splitting rows and columns at arbitrary boundaries across calls (as threads do) gives
        /// exactly the one-call result: every element is summed in the same order either way.
        @Test func blockSplitsEqualOneCall() {
            var rng = KernelRNG(seed: 5)
            for index in 0..<12 {
                let m = rng.int(9...40), n = rng.int(20...200), k = rng.int(1...400)
                let problem = GemmCase.random(&rng, m: m, n: n, k: k,
                                              act: allKernelActivations[index % allKernelActivations.count],
                                              fullRange: true, padded: true, withBias: true, residual: index % 3)
                let rowCut = rng.int(1...(m - 1)), colCut1 = rng.int(1...(n / 2)), colCut2 = rng.int((n / 2 + 1)...(n - 1))
                var blocks: [(Range<Int>, Range<Int>)] = []
                for rows in [0..<rowCut, rowCut..<m] {
                    for cols in [0..<colCut1, colCut1..<colCut2, colCut2..<n] { blocks.append((rows, cols)) }
                }
                forEachGemmPath { path in
                    expectKernelIdentical(problem.run(blocks: blocks), problem.run(), "\(path) \(problem) split rows at \(rowCut) cols at \(colCut1), \(colCut2)")
                }
            }
        }

        /// Bad sizes, leading dimensions below n and empty ranges leave C untouched.
        @Test func invalidArgumentsAreNoOps() {
            var rng = KernelRNG(seed: 9)
            let base = GemmCase.random(&rng, m: 5, n: 12, k: 7, act: makeActivation(CK_ACT_RELU), fullRange: true,
                                       padded: false, withBias: true, residual: 0)
            var variants: [GemmCase] = []
            var emptyRows = base
            emptyRows.mRange = 3..<3
            variants.append(emptyRows)
            var emptyCols = base
            emptyCols.nRange = 12..<20
            variants.append(emptyCols)
            var shortLdb = base
            shortLdb.ldb = 11
            variants.append(shortLdb)
            var shortLdc = base
            shortLdc.ldc = 11
            variants.append(shortLdc)
            var zeroK = base
            zeroK.k = 0
            variants.append(zeroK)
            forEachGemmPath { path in
                for problem in variants {
                    expectKernelIdentical(problem.run(), problem.initialC, "\(path) \(problem)")
                }
            }
            #expect(ck_gemm_packed_a_size(0, 5) == 0)
            #expect(ck_gemm_packed_a_size(9, 3) == 16 * 3)
            #expect(ck_gemm_scratch_size(0) == 0)
        }
    }
}
