import Scenes
import Testing
@testable import Sensors

@Suite struct SourceSpecTests {
    @Test func parsesV4L2WithOptions() throws {
        let spec = try SourceSpec(parsing: "v4l2:/dev/v4l/by-id/usb-cam-video-index0?width=640&height=480&fps=30&format=yuyv&wait=true")
        guard case let .v4l2(options) = spec else { Issue.record("not v4l2: \(spec)"); return }
        #expect(options.device == "/dev/v4l/by-id/usb-cam-video-index0")
        #expect(options.width == 640 && options.height == 480 && options.fps == 30)
        #expect(options.format == .yuyv && options.waitForDevice && options.bufferCount == 4)
        #expect(spec.description == "v4l2:/dev/v4l/by-id/usb-cam-video-index0?width=640&height=480&fps=30&format=yuyv&wait=true")
    }

    @Test func parsesBareV4L2() throws {
        let spec = try SourceSpec(parsing: "v4l2:/dev/video0")
        #expect(spec == .v4l2(V4L2Options(device: "/dev/video0")))
        #expect(spec.description == "v4l2:/dev/video0")
    }

    @Test func parsesReplayAndSynthetic() throws {
        #expect(try SourceSpec(parsing: "replay:drive.mcap") == .replay(path: "drive.mcap", options: .init()))
        #expect(try SourceSpec(parsing: "replay:/a/b.mcap?rate=max&loop=true")
            == .replay(path: "/a/b.mcap", options: .init(rate: nil, loop: true)))
        #expect(try SourceSpec(parsing: "replay:b.mcap?rate=2.5") == .replay(path: "b.mcap", options: .init(rate: 2.5)))
        #expect(try SourceSpec(parsing: "synthetic:urban") == .synthetic(.init(domain: .urban)))
        #expect(try SourceSpec(parsing: "synthetic:highway?width=64&height=32&fps=max&seed=7")
            == .synthetic(.init(domain: .highway, width: 64, height: 32, fps: nil, seed: 7)))
        for text in ["synthetic:urban", "synthetic:highway?width=64&fps=max&seed=7", "replay:a.mcap", "replay:a.mcap?rate=max&loop=true",
                     "v4l2:/dev/video0?fps=7.5&buffers=3"] {
            #expect(try SourceSpec(parsing: text).description == text)
        }
    }

    @Test(arguments: [
        ("", "must be v4l2:DEVICE, replay:FILE.mcap or synthetic:DOMAIN"),
        ("/dev/video0", "must be v4l2:DEVICE"),
        ("usb:/dev/video0", "unknown kind 'usb'"),
        ("v4l2:", "missing device path"),
        ("v4l2:/dev/video0?width=abc", "width must be a whole number"),
        ("v4l2:/dev/video0?width=0", "width must be a whole number in 16...16384"),
        ("v4l2:/dev/video0?fps=-1", "fps must be a number"),
        ("v4l2:/dev/video0?format=mono8", "format must be yuyv, rgb8 or bgr8"),
        ("v4l2:/dev/video0?colour=red", "unknown option 'colour'"),
        ("v4l2:/dev/video0?width", "option 'width' must be KEY=VALUE"),
        ("v4l2:/dev/video0?wait=maybe", "wait must be true or false"),
        ("replay:", "missing recording path"),
        ("replay:x.mcap?rate=0", "rate must be a number"),
        ("replay:x.mcap?fps=3", "unknown option 'fps'"),
        ("synthetic:mars", "unknown synthetic domain 'mars' (one of highway, urban, ambiguous)"),
        ("synthetic:urban?seed=-1", "seed must be a whole number"),
    ])
    func rejectsBadSpecs(text: String, message: String) {
        #expect {
            _ = try SourceSpec(parsing: text)
        } throws: { error in
            let line = "\(error)"
            return line.contains(message) && line.contains("'\(text)'") && !line.contains("\n")
        }
    }

    @Test func makesSyntheticSource() throws {
        let source = try SourceSpec(parsing: "synthetic:highway?width=64&height=32&fps=max").makeSource()
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .seconds(1)) == .frame)
        #expect(frame.width == 64 && frame.height == 32 && source.state == .streaming && source.drops == 0)
        #expect(source.name == "synthetic:highway")
    }

    @Test func missingCameraIsOneClearError() throws {
        #expect {
            _ = try SourceSpec(parsing: "v4l2:/dev/moeseg-no-such-camera").makeSource()
        } throws: { error in
            "\(error)" == "/dev/moeseg-no-such-camera: open failed: No such file or directory"
        }
    }

    @Test func missingCameraCanBeWaitedFor() throws {
        let source = try SourceSpec(parsing: "v4l2:/dev/moeseg-no-such-camera?wait=true").makeSource()
        #expect(source.state == .unavailable)
        #expect(source.problem?.contains("/dev/moeseg-no-such-camera") == true)
        var frame = Frame()
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(50)) == .timeout)
        #expect(source.state == .unavailable)
        source.close()
        #expect(try source.nextFrame(into: &frame, timeout: .milliseconds(50)) == .endOfStream)
    }

    @Test func missingRecordingIsOneClearError() throws {
        #expect {
            _ = try SourceSpec(parsing: "replay:/nonexistent/moeseg.mcap").makeSource()
        } throws: { error in
            "\(error)".contains("/nonexistent/moeseg.mcap")
        }
    }
}
