import Daemon
import Foundation
import Sensors
import Synchronization
import Testing

@Suite("Latest-frame mailbox")
struct FrameMailboxTests {
    func frame(_ sequence: UInt64) -> CapturedFrame {
        var captured = CapturedFrame()
        captured.frame.reshape(width: 8, height: 4, format: .rgb8)
        captured.frame.sequence = sequence
        return captured
    }

    @Test func newestFrameWinsAndDisplacedFramesAreCounted() {
        let mailbox = FrameMailbox()
        var producer = frame(1)
        mailbox.put(&producer)
        producer.frame.sequence = 2
        mailbox.put(&producer)
        producer.frame.sequence = 3
        mailbox.put(&producer)
        var consumer = CapturedFrame()
        #expect(mailbox.take(&consumer, timeoutNanos: 0))
        #expect(consumer.frame.sequence == 3)
        #expect(mailbox.droppedFrames == 2)
        #expect(!mailbox.take(&consumer, timeoutNanos: 1_000_000))  // nothing newer
        #expect(mailbox.deliveredFrames == 1)
    }

    @Test func buffersAreSwappedNeverCopied() {
        let mailbox = FrameMailbox()
        var producer = frame(0)
        var consumer = frame(100)
        var spare = frame(200)
        mailbox.put(&spare)  // prime the slot with a third buffer
        _ = mailbox.take(&consumer, timeoutNanos: 0)
        var seen = Set<UInt>()
        for i in 1...20 {
            producer.frame.sequence = UInt64(i)
            mailbox.put(&producer)
            #expect(mailbox.take(&consumer, timeoutNanos: 0))
            #expect(consumer.frame.sequence == UInt64(i))
            seen.insert(consumer.frame.pixels.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) })
            seen.insert(producer.frame.pixels.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) })
        }
        // Only the three original pixel buffers ever circulate.
        #expect(seen.count <= 3)
    }

    // Synchronous on purpose: process tests block the cooperative pool, so async sleeps here
    // would measure their load rather than the mailbox.
    @Test func closeWakesAWaitingConsumer() throws {
        let mailbox = FrameMailbox()
        let start = ContinuousClock.now
        let thread = Thread {
            var consumer = CapturedFrame()
            _ = mailbox.take(&consumer, timeoutNanos: 5_000_000_000)
        }
        thread.start()
        usleep(50_000)
        mailbox.close()
        while !thread.isFinished { usleep(1000) }
        #expect(ContinuousClock.now - start < .seconds(2))
        var producer = frame(1)
        #expect(!mailbox.put(&producer))
    }

    @Test func slowConsumerNeverSlowsTheProducer() throws {
        let mailbox = FrameMailbox()
        let produced = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let producerThread = Thread {
            var buffer = CapturedFrame()
            buffer.frame.reshape(width: 64, height: 32, format: .rgb8)
            var sequence: UInt64 = 0
            let end = Date().addingTimeInterval(0.3)
            while Date() < end {
                sequence += 1
                buffer.frame.sequence = sequence
                mailbox.put(&buffer)
                produced.add(1, ordering: .relaxed)
                usleep(1000)  // a 1 kHz camera
            }
            mailbox.close()
            done.store(true, ordering: .releasing)
        }
        let taken = Mutex<[UInt64]>([])
        let consumerThread = Thread {
            var work = CapturedFrame()
            while mailbox.take(&work, timeoutNanos: 500_000_000) {
                taken.withLock { $0.append(work.frame.sequence) }
                usleep(20_000)  // a 50 Hz model
            }
        }
        producerThread.start()
        consumerThread.start()
        while !(done.load(ordering: .acquiring) && consumerThread.isFinished) { usleep(10_000) }
        let sequences = taken.withLock { $0 }
        let total = produced.load(ordering: .relaxed)
        // The producer kept its pace (well above what the consumer took), frames are taken in order,
        // and everything not taken was counted as dropped.
        #expect(total > 3 * sequences.count, "produced \(total), taken \(sequences.count)")
        #expect(sequences == sequences.sorted())
        #expect(Int(mailbox.droppedFrames) + sequences.count == total)
    }

    @Test func latencyWindowPercentilesAreNearestRank() {
        var window = LatencyWindow(capacity: 1000)
        for value in (1...100).reversed() { window.record(UInt64(value)) }
        #expect(window.percentiles([0.5, 0.9, 0.99, 1.0]) == [50, 90, 99, 100])
        window.reset()
        #expect(window.percentiles([0.5]) == [0])
    }
}
