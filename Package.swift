// swift-tools-version: 6.0
import PackageDescription

// Kernels and the engine run 100-300x slower unoptimised, which would make `swift test`
// crawl; they are compiled with -O even in debug builds.
let optimizedSwift: [SwiftSetting] = [.unsafeFlags(["-O"])]
let optimizedC: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
    name: "moeseg",
    products: [
        .executable(name: "moeseg", targets: ["moeseg"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CKernels", cSettings: optimizedC + [.define("_GNU_SOURCE")]),
        .target(name: "Engine",
                dependencies: ["COpenBLAS", "CKernels",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                swiftSettings: optimizedSwift),
        .target(name: "Mixture", dependencies: ["CKernels", "Engine", "Sensors"], swiftSettings: optimizedSwift),
        .target(name: "NumPyIO", swiftSettings: optimizedSwift),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Recording", dependencies: ["CZstd"], swiftSettings: optimizedSwift),
        .target(name: "Scenes", swiftSettings: optimizedSwift),
        .target(name: "CV4L2", cSettings: [.define("_GNU_SOURCE")], linkerSettings: [.linkedLibrary("v4l2")]),
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", pkgConfig: "libzmq",
                       providers: [.apt(["libzmq3-dev"])]),
        .target(name: "Wire", dependencies: ["CZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                swiftSettings: optimizedSwift),
        .target(name: "Sensors", dependencies: ["Recording", "Scenes", "CV4L2"], swiftSettings: optimizedSwift),
        .target(name: "Evaluation", dependencies: ["Recording", "Sensors"], swiftSettings: optimizedSwift),
        .target(name: "CThreading", cSettings: [.define("_GNU_SOURCE")]),
        // Only the executable links it: its .preinit_array hook blocks the daemon's signals
        // before shared libraries start threads.
        .target(name: "CEarlySignals", dependencies: ["CThreading"]),
        .target(name: "Daemon",
                dependencies: ["CThreading", "Engine", "Mixture", "Sensors", "Recording", "Wire",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "TOMLKit", package: "TOMLKit"),
                               .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .executableTarget(name: "moeseg",
                          dependencies: ["CEarlySignals", "CZlib", "Engine", "Evaluation", "Mixture", "NumPyIO", "Recording", "Scenes", "Sensors", "Daemon", "Wire",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Seeded generators and mutators the fuzz suites share (test code, built only for tests).
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),
        // The moeseg binary, Python and child processes for the tests that run real programs.
        .target(name: "ProcessSupport", path: "Tests/ProcessSupport"),
        .testTarget(name: "DaemonTests", dependencies: ["FuzzSupport", "ProcessSupport", "Daemon", "Sensors", "Recording", "Mixture", "Wire",
                                                      .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EvaluationTests", dependencies: ["ProcessSupport", "Evaluation", "NumPyIO", "Recording", "Sensors"]),
        .testTarget(name: "EngineTests", dependencies: ["FuzzSupport", "Engine", "CKernels", "NumPyIO"]),
        .testTarget(name: "MixtureTests", dependencies: ["FuzzSupport", "Mixture", "NumPyIO", "Sensors", "Scenes"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording"]),
        .testTarget(name: "ScenesTests", dependencies: ["Scenes"]),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "SensorsTests", dependencies: ["Sensors", "Recording", "Scenes"]),
        .testTarget(name: "SystemdUnitTests"),
    ]
)
