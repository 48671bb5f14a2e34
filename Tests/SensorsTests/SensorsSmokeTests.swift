import Testing
@testable import Sensors

@Test func reshapeReusesCapacity() {
    var frame = Frame()
    frame.reshape(width: 4, height: 2, format: .rgb8)
    #expect(frame.pixels.count == 24 && frame.stride == 12)
    frame.reshape(width: 2, height: 2, format: .mono8)
    #expect(frame.pixels.count == 4 && frame.pixels.capacity >= 24)
}
