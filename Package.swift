// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// swift-system where swift-subprocess uses it (Apple platforms have the System framework), so a `FilePath` handed to
/// swift-subprocess is its own type.
let systemPackageBesideSubprocess: Target.Dependency = .product(
    name: "SystemPackage",
    package: "swift-system",
    condition: .when(platforms: [.linux, .android, .windows, .wasi])
)

let package = Package(
    name: "roadtest",
    // macOS 15: the Synchronization module (Mutex, Atomic) the gateway and runner use.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "roadtest", targets: ["roadtest"]),
        // The decoders and loaders the fuzz targets exercise (Fuzz/, a package of its own built with the fuzzer).
        .library(
            name: "RoadtestDecoders",
            targets: ["RoadtestCore", "RoadtestWire", "RoadtestSuite", "RoadtestProviders"]
        ),
    ],
    dependencies: [
        // CLI
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Suite files
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        // HTTP client (providers)
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // Child processes (command candidates and checks, the installer, llama-server) and file system calls, the
        // same on Linux and macOS. swift-system is already under swift-subprocess, which uses Apple's System
        // framework on Darwin and swift-system's SystemPackage elsewhere.
        .package(url: "https://github.com/swiftlang/swift-subprocess", exact: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
        // Storage
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // The shared store (PostgreSQL); NIOSSL (already under AsyncHTTPClient) for its sslmode=prefer/require
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // Logging
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Servers and signal handling (already under Hummingbird)
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // Simulator server
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // HTTP field types, and NIO's HTTP-types codec parts (the connection guard sees decoded request parts)
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        // Gateway metrics in Prometheus text format (its swift-metrics dependency is pinned by Package.resolved)
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // The metrics API the gateway's families are mirrored through to OTLP (already under swift-prometheus)
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        // Latency histograms
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // SHA-256 and HMAC for AWS Signature V4 (Bedrock); already under postgres-nio and the HTTP client's TLS
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // Traces over OTLP/HTTP (protobuf): the tracing API the runner, providers and gateway write spans to, and
        // swift-otel's exporter behind it, with only its OTLPHTTP trait (no gRPC stack in the build)
        .package(url: "https://github.com/apple/swift-distributed-tracing", exact: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .executableTarget(
            name: "roadtest",
            dependencies: [
                "RoadtestCore", "RoadtestSuite", "RoadtestProviders", "RoadtestLocal", "RoadtestRunner",
                "RoadtestStore",
                "RoadtestReport", "RoadtestServer", "RoadtestLoad", "RoadtestDrill", "RoadtestGateway",
                "RoadtestTelemetry", "RoadtestView", "RoadtestImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "RoadtestCore", swiftSettings: swiftSettings),
        .target(name: "RoadtestWire", dependencies: ["RoadtestCore"], swiftSettings: swiftSettings),
        .target(
            name: "RoadtestGateway",
            dependencies: [
                "RoadtestCore", "RoadtestWire", "RoadtestProviders", "RoadtestStore", "RoadtestReport",
                "RoadtestServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestSuite",
            dependencies: [
                "RoadtestCore", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestImport",
            dependencies: ["RoadtestCore", "RoadtestSuite", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestProviders",
            dependencies: [
                "RoadtestCore", "RoadtestWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackageBesideSubprocess,
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestView",
            dependencies: [
                "RoadtestCore", "RoadtestStore", "RoadtestReport", "RoadtestServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestTelemetry",
            dependencies: [
                "RoadtestCore",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestLocal",
            dependencies: [
                "RoadtestCore", "RoadtestProviders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackageBesideSubprocess,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestStore",
            dependencies: [
                "RoadtestCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestRunner",
            dependencies: [
                "RoadtestCore", "RoadtestSuite", "RoadtestProviders", "RoadtestLocal", "RoadtestStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestLoad",
            dependencies: [
                "RoadtestCore", "RoadtestSuite", "RoadtestProviders", "RoadtestRunner", "RoadtestStore",
                "RoadtestReport",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestReport",
            // ReportFile's file system calls (swift-system on every platform: it needs no FilePath of Subprocess's).
            dependencies: ["RoadtestCore", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestDrill",
            dependencies: [
                "RoadtestCore", "RoadtestSuite", "RoadtestLocal", "RoadtestRunner", "RoadtestServer", "RoadtestStore",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestServer",
            dependencies: [
                "RoadtestCore", "RoadtestWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoadtestTestSupport",
            dependencies: [
                "RoadtestCore", "RoadtestProviders", "RoadtestLocal", "RoadtestServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackageBesideSubprocess,
            ],
            path: "Tests/RoadtestTestSupport",
            swiftSettings: swiftSettings
        ),
        // Tests mirror Sources: one target per module, plus the CLI as a user runs it.
        .testTarget(
            name: "RoadtestCoreTests",
            dependencies: ["RoadtestCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestSuiteTests",
            dependencies: [
                "RoadtestCore", "RoadtestSuite", "RoadtestTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestImportTests",
            dependencies: ["RoadtestCore", "RoadtestImport", "RoadtestServer", "RoadtestSuite", "RoadtestTestSupport"],
            exclude: ["Fixtures"],  // the source files each importer reads, read by path
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestProvidersTests",
            dependencies: [
                "RoadtestCore", "RoadtestWire", "RoadtestProviders", "RoadtestServer", "RoadtestTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestGatewayTests",
            dependencies: [
                "RoadtestCore", "RoadtestGateway", "RoadtestProviders", "RoadtestRunner", "RoadtestServer",
                "RoadtestStore", "RoadtestSuite", "RoadtestTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestLocalTests",
            dependencies: [
                "RoadtestCore", "RoadtestDrill", "RoadtestLoad", "RoadtestLocal", "RoadtestProviders",
                "RoadtestReport", "RoadtestRunner", "RoadtestStore",
                "RoadtestSuite", "RoadtestTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestStoreTests",
            dependencies: ["RoadtestCore", "RoadtestStore", "RoadtestTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestRunnerTests",
            dependencies: [
                "RoadtestCore", "RoadtestProviders", "RoadtestReport", "RoadtestRunner", "RoadtestServer",
                "RoadtestStore", "RoadtestSuite", "RoadtestTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestReportTests",
            dependencies: ["RoadtestCore", "RoadtestReport", "RoadtestTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestServerTests",
            dependencies: [
                "RoadtestCore", "RoadtestProviders", "RoadtestServer", "RoadtestTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestDrillTests",
            dependencies: ["RoadtestCore", "RoadtestDrill", "RoadtestStore", "RoadtestTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestLoadTests",
            dependencies: [
                "RoadtestCore", "RoadtestLoad", "RoadtestProviders", "RoadtestReport", "RoadtestServer",
                "RoadtestStore",
                "RoadtestTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoadtestCLITests",
            dependencies: [
                "RoadtestCore", "RoadtestLocal", "RoadtestProviders", "RoadtestServer", "RoadtestStore",
                "RoadtestTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["Golden"],  // the contracts' golden fixtures, read by path
            swiftSettings: swiftSettings
        ),
    ]
)
