import Daemon
import Testing

@Suite("Budget controller")
struct BudgetControllerTests {
    let ms: UInt64 = 1_000_000

    func controller(degradeAfter: Int = 3, recoverAfter: Int = 5, maxStride: Int = 3,
                    routing: Bool = true, optionalMaps: Bool = true) -> BudgetController {
        BudgetController(policy: BudgetPolicy(deadlineNanos: 100 * ms, degradeAfter: degradeAfter, recoverAfter: recoverAfter,
                                              recoverFraction: 0.8, maxStride: maxStride,
                                              hasRoutingSamples: routing, hasOptionalMaps: optionalMaps))
    }

    @Test func ladderHasTheDocumentedStepsInOrder() {
        #expect(controller().ladder == [.full, .noRoutingSamples, .essentialMaps, .everyKth(2), .everyKth(3)])
        #expect(controller(maxStride: 1, routing: false).ladder == [.full, .essentialMaps])
        #expect(controller(routing: false, optionalMaps: false).ladder == [.full, .everyKth(2), .everyKth(3)])
        #expect(BudgetStep.everyKth(2).description == "every_2th_frame")
    }

    @Test func degradesOneStepAfterConsecutiveOverrunsOnly() {
        var c = controller()
        // Two overruns, then a frame on time: the streak resets.
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 90 * ms) == nil)
        #expect(c.step == .full)
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 150 * ms) == .noRoutingSamples)
        #expect(c.deadlineMisses == 5)
        // The streak restarts at each step: three more overruns for the next one.
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 150 * ms) == nil)
        #expect(c.record(latencyNanos: 150 * ms) == .essentialMaps)
        for _ in 0..<3 { c.record(latencyNanos: 150 * ms) }
        #expect(c.step == .everyKth(2))
        for _ in 0..<3 { c.record(latencyNanos: 150 * ms) }
        #expect(c.step == .everyKth(3))
        // Bottom of the ladder: more overruns do not move it.
        for _ in 0..<10 { #expect(c.record(latencyNanos: 500 * ms) == nil) }
        #expect(c.step == .everyKth(3))
    }

    @Test func recoversOneStepAtATimeWithHysteresis() {
        var c = controller(degradeAfter: 1, recoverAfter: 5)
        c.record(latencyNanos: 200 * ms)
        c.record(latencyNanos: 200 * ms)
        #expect(c.step == .essentialMaps)
        // Under the deadline but above 80 % of it: neither degrades nor recovers.
        for _ in 0..<50 { #expect(c.record(latencyNanos: 90 * ms) == nil) }
        #expect(c.step == .essentialMaps)
        // Four calm frames, one in the band: the calm streak starts again.
        for _ in 0..<4 { c.record(latencyNanos: 50 * ms) }
        c.record(latencyNanos: 85 * ms)
        for _ in 0..<4 { #expect(c.record(latencyNanos: 50 * ms) == nil) }
        #expect(c.record(latencyNanos: 50 * ms) == .noRoutingSamples)
        for _ in 0..<4 { #expect(c.record(latencyNanos: 80 * ms) == nil) }  // exactly 80 % counts as calm
        #expect(c.record(latencyNanos: 80 * ms) == .full)
        for _ in 0..<20 { #expect(c.record(latencyNanos: 10 * ms) == nil) }
        #expect(c.step == .full)
    }

    @Test func everyKthStepProcessesOneFrameInK() {
        var c = controller(degradeAfter: 1, routing: false, optionalMaps: false)
        #expect((0..<6).map { _ in c.shouldProcess() } == [true, true, true, true, true, true])
        c.record(latencyNanos: 200 * ms)
        #expect(c.step == .everyKth(2))
        #expect((0..<6).map { _ in c.shouldProcess() } == [true, false, true, false, true, false])
        c.record(latencyNanos: 200 * ms)
        #expect(c.step == .everyKth(3))
        #expect((0..<6).map { _ in c.shouldProcess() } == [true, false, false, true, false, false])
    }

    @Test func stepFlagsSayWhatEachStepKeeps() {
        #expect(BudgetStep.full.routingSamples && BudgetStep.full.allMaps && BudgetStep.full.frameStride == 1)
        #expect(!BudgetStep.noRoutingSamples.routingSamples && BudgetStep.noRoutingSamples.allMaps)
        #expect(!BudgetStep.essentialMaps.routingSamples && !BudgetStep.essentialMaps.allMaps)
        #expect(!BudgetStep.everyKth(4).allMaps && BudgetStep.everyKth(4).frameStride == 4)
    }
}
