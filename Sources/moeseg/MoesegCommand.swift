import ArgumentParser

/// The moeseg command line: one binary for the daemon and every offline tool.
@main
struct Moeseg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moeseg",
        abstract: "Mixture-of-experts semantic segmentation with uncertainty, on the CPU.",
        subcommands: [InspectCommand.self, InferCommand.self, BenchCommand.self, Synth.self, Replay.self,
                      CameraCommand.self, Sub.self, BenchWire.self, QuantizeCommand.self,
                      Run.self, Record.self, Recover.self, EvalCommand.self, CalibrateCommand.self, CorruptCommand.self])
}
