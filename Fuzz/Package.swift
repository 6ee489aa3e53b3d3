// swift-tools-version:6.1
// libFuzzer targets for Roadtest's decoders: a package of its own, so that `swift build` at the root (and `make test`)
// never links them without the fuzzer. Built and run by Benchmarks/fuzz.sh:
//   swift build --package-path Fuzz -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address
// The sanitizers apply to every module built, the root's included, so coverage and ASan reach the code under test.
// (Not `--sanitize fuzzer --sanitize address`: swiftc then keeps only one of the two, a different one from run to run.)
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let decoders: Target.Dependency = .product(name: "RoadtestDecoders", package: "roadtest")

/// One fuzz target: an executable whose entry point is libFuzzer's `LLVMFuzzerTestOneInput`.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport", decoders], swiftSettings: swiftSettings)
}

let package = Package(
    name: "roadtest-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "roadtest", path: "..")
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [decoders], swiftSettings: swiftSettings),
        fuzzTarget("FuzzSSE"),
        fuzzTarget("FuzzEventStream"),
        fuzzTarget("FuzzJSON"),
        fuzzTarget("FuzzCSV"),
        fuzzTarget("FuzzSuite"),
        fuzzTarget("FuzzOpenAI"),
        fuzzTarget("FuzzAnthropic"),
        fuzzTarget("FuzzResponses"),
        fuzzTarget("FuzzBedrock"),
        fuzzTarget("FuzzGemini"),
    ]
)
