import Foundation
@testable import Mixture
import Testing

/// The vectorisable exp and log against the C library (float64, rounded).
@Suite struct FastMathTests {
    @Test func expIsWithinFewUlps() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let got = Double(FastMath.exp(x)), want = Foundation.exp(Double(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.000_731
        }
        #expect(worst <= 2e-7, "max relative error \(worst)")
        #expect(FastMath.exp(0) == 1)
        #expect(FastMath.exp(-87.5) == 0 && FastMath.exp(-1000) == 0 && FastMath.exp(-.infinity) == 0)
        #expect(FastMath.exp(.nan).isNaN)
    }

    @Test func logIsWithinFewUlps() {
        var worstRelative = 0.0, worstAbsolute = 0.0
        // Log-spaced over all normal floats, then dense around 1 where ln x is small.
        var x = Float.leastNormalMagnitude
        while x < Float.greatestFiniteMagnitude / 1.001 {
            let got = Double(FastMath.log(x)), want = Foundation.log(Double(x))
            worstRelative = max(worstRelative, abs(got - want) / max(abs(want), 1))
            x *= 1.000_913
        }
        x = 0.5
        while x <= 2 {
            let got = Double(FastMath.log(x)), want = Foundation.log(Double(x))
            worstAbsolute = max(worstAbsolute, abs(got - want))
            x += 0.000_017
        }
        #expect(worstRelative <= 2e-7, "max relative error \(worstRelative)")
        #expect(worstAbsolute <= 1e-7, "max absolute error near 1: \(worstAbsolute)")
        #expect(FastMath.log(1) == 0)
    }

    @Test func xlogxIsZeroAtZero() {
        #expect(FastMath.xlogx(0) == 0)
        #expect(FastMath.xlogx(1) == 0)
        #expect(abs(Double(FastMath.xlogx(0.25)) - 0.25 * Foundation.log(0.25)) <= 1e-7)
    }
}
