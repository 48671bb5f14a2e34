import Foundation

/// The routing temperature T fitted, as temperature scaling fits the logits' one, by the NLL of
/// the routing predictive p̄ = (1/K) Σ_k softmax(Σ_e g^(k)_e z_e) at labelled pixels
/// (UNCERTAINTY.md §3). Frames are kept once (the experts' logits at a grid of labelled pixels and
/// the gate logits); each candidate T redraws the K gates from the same seeded noise, so the NLL
/// is a smooth function of T and the experts never run again.
public struct RoutingTemperatureFit {
    /// Draws the K routing gates (K×E×columns, e-major) of a frame at temperature T.
    public typealias GateDraw = (_ temperature: Double, _ frameIndex: UInt64, _ gateLogits: UnsafeBufferPointer<Float>,
                                 _ out: UnsafeMutableBufferPointer<Float>) -> Void

    /// The fitted T and the NLL (nats per labelled pixel) at the points compared.
    public struct Result: Sendable, Equatable {
        public var temperature: Double
        public var nll: Double
        /// At the temperature the search started from (the configured one).
        public var nllAtStart: Double
        /// At T = 0: for the daemon's scaled-noise form the deterministic gate g = softmax(a).
        public var nllAtZero: Double
        public var pixels: Int
        public var frames: Int
    }

    private struct KeptFrame {
        var frameIndex: UInt64
        var gate: [Float]
        var pixels: Range<Int>
    }

    public let experts: Int, classes: Int, gateColumns: Int, samples: Int
    private let draw: GateDraw
    /// Per kept pixel: E×C logits, e-major.
    private var logits: [Float] = []
    private var labels: [Int32] = []
    private var frames: [KeptFrame] = []

    /// A fit over E experts, C classes, 1 (simple) or C (classwise) gate columns and K samples.
    public init(experts: Int, classes: Int, gateColumns: Int, samples: Int, draw: @escaping GateDraw) {
        precondition(experts > 0 && classes > 1 && (gateColumns == 1 || gateColumns == classes) && samples > 0)
        self.experts = experts
        self.classes = classes
        self.gateColumns = gateColumns
        self.samples = samples
        self.draw = draw
    }

    /// Labelled pixels kept so far.
    public var pixelCount: Int { labels.count }
    /// Frames kept so far.
    public var frameCount: Int { frames.count }

    /// Keeps one frame: every `stride`-th pixel of every `stride`-th row whose label is a class
    /// (ids ≥ C, e.g. 254 unknown and 255 void, are left out). `expertLogits` are the members'
    /// C×H×W planes as the mixture saw them (after the logit temperature).
    public mutating func add(frameIndex: UInt64, gateLogits: UnsafeBufferPointer<Float>,
                             expertLogits: [UnsafeBufferPointer<Float>], labels frameLabels: [UInt8],
                             width: Int, height: Int, stride: Int = 4) {
        let n = width * height
        precondition(expertLogits.count == experts && expertLogits.allSatisfy { $0.count == classes * n })
        precondition(gateLogits.count == experts * gateColumns && frameLabels.count == n && stride >= 1)
        let first = labels.count
        for y in Swift.stride(from: 0, to: height, by: stride) {
            for x in Swift.stride(from: 0, to: width, by: stride) {
                let p = y * width + x
                let label = Int(frameLabels[p])
                guard label < classes else { continue }
                labels.append(Int32(label))
                for e in 0..<experts {
                    for c in 0..<classes { logits.append(expertLogits[e][c * n + p]) }
                }
            }
        }
        frames.append(KeptFrame(frameIndex: frameIndex, gate: Array(gateLogits), pixels: first..<labels.count))
    }

    /// Mean −ln p̄_y over the kept pixels at routing temperature T (p̄_y floored at 1e-12).
    public func negativeLogLikelihood(temperature: Double) -> Double {
        let e = experts, c = classes, k = samples
        var gates = [Float](repeating: 0, count: k * e * gateColumns)
        var table = [Float](repeating: 0, count: k * e * c)
        var mixed = [Float](repeating: 0, count: c)
        var total = 0.0
        for frame in frames {
            frame.gate.withUnsafeBufferPointer { gate in
                gates.withUnsafeMutableBufferPointer { draw(temperature, frame.frameIndex, gate, $0) }
            }
            // The pass's E×C table: a simple gate's weight repeated for every class.
            for s in 0..<k {
                for i in 0..<e {
                    for j in 0..<c { table[(s * e + i) * c + j] = gates[(s * e + i) * gateColumns + (gateColumns == 1 ? 0 : j)] }
                }
            }
            total += logits.withUnsafeBufferPointer { z in
                table.withUnsafeBufferPointer { t in
                    mixed.withUnsafeMutableBufferPointer { m in
                        var sum = 0.0
                        for p in frame.pixels {
                            let zp = z.baseAddress! + p * e * c
                            let y = Int(labels[p])
                            var mean = 0.0
                            for s in 0..<k {
                                let ts = t.baseAddress! + s * e * c
                                var maximum = -Float.infinity
                                for j in 0..<c {
                                    var v: Float = 0
                                    for i in 0..<e { v += ts[i * c + j] * zp[i * c + j] }
                                    m[j] = v
                                    maximum = max(maximum, v)
                                }
                                var normaliser: Float = 0
                                for j in 0..<c { normaliser += Foundation.exp(m[j] - maximum) }
                                mean += Double(Foundation.exp(m[y] - maximum) / normaliser)
                            }
                            sum -= Foundation.log(max(mean / Double(k), 1e-12))
                        }
                        return sum
                    }
                }
            }
        }
        return labels.isEmpty ? .nan : total / Double(labels.count)
    }

    /// T minimising the NLL over [range]: a log-spaced grid of 16 points, then golden-section
    /// search on log T in the grid interval around the best point. Two significant figures are
    /// kept, as a few dozen frames cannot give more. `start` is reported for comparison.
    public func fit(start: Double, range: ClosedRange<Double> = 0.02...20) -> Result? {
        guard !labels.isEmpty, range.lowerBound > 0 else { return nil }
        let lo = Foundation.log(range.lowerBound), hi = Foundation.log(range.upperBound)
        let points = 16
        let grid = (0..<points).map { lo + (hi - lo) * Double($0) / Double(points - 1) }
        let values = grid.map { negativeLogLikelihood(temperature: Foundation.exp($0)) }
        let best = values.indices.min { values[$0] < values[$1] }!
        var a = grid[max(0, best - 1)], b = grid[min(points - 1, best + 1)]
        let ratio = (sqrt(5.0) - 1) / 2
        var x1 = b - ratio * (b - a), x2 = a + ratio * (b - a)
        var f1 = negativeLogLikelihood(temperature: Foundation.exp(x1))
        var f2 = negativeLogLikelihood(temperature: Foundation.exp(x2))
        for _ in 0..<12 {
            if f1 < f2 { b = x2; x2 = x1; f2 = f1; x1 = b - ratio * (b - a); f1 = negativeLogLikelihood(temperature: Foundation.exp(x1)) }
            else { a = x1; x1 = x2; f1 = f2; x2 = a + ratio * (b - a); f2 = negativeLogLikelihood(temperature: Foundation.exp(x2)) }
        }
        var t = Double(String(format: "%.2g", Foundation.exp((a + b) / 2))) ?? Foundation.exp((a + b) / 2)
        t = min(max(t, range.lowerBound), range.upperBound)
        var nll = negativeLogLikelihood(temperature: t)
        // The grid's best point stands when rounding moved off a better one.
        if values[best] < nll { t = Foundation.exp(grid[best]); nll = values[best] }
        return Result(temperature: t, nll: nll, nllAtStart: negativeLogLikelihood(temperature: start),
                      nllAtZero: negativeLogLikelihood(temperature: 0), pixels: labels.count, frames: frames.count)
    }
}
