import Foundation
import RoadtestLocal
import RoadtestTestSupport
import Testing

/// How a managed server is stopped: SIGTERM to its process group, an await of its exit up to a deadline, then
/// SIGKILL, with nothing left behind. A stand-in program plays llama-server (it answers `/health`), because the real
/// one always honours SIGTERM and the deadline's SIGKILL needs a server that does not.
@Suite struct LlamaServerStopTests {
    static let standIn = """
        #!/usr/bin/env python3
        # A stand-in for llama-server: answers every GET with 200 on --port; --ignore-term ignores SIGTERM.
        import http.server, signal, sys
        arguments = sys.argv[1:]
        if "--ignore-term" in arguments:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        class Health(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")
            def log_message(self, *_):
                pass
        port = int(arguments[arguments.index("--port") + 1])
        http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()

        """

    @Test(arguments: [false, true])
    func stopLeavesNothingBehindAndKillsAtTheDeadline(ignoresTerm: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let model = directory.appendingPathComponent("stand-in.gguf")
            try Data().write(to: model)
            let binary = directory.appendingPathComponent("llama-server")
            try Self.standIn.write(to: binary, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
            let options = try LlamaServer.Options.resolve(
                model: nil,
                gguf: model.path,
                llamaServer: binary.path,
                home: RoadtestHome(),
                slots: 1,
                extraArguments: ignoresTerm ? ["--ignore-term"] : []
            )
            // Given a healthy server (its supervisor, the supervisor's lifeline watcher and the server all carry the
            // model's path)
            let server = try await LlamaServer.start(options, timeout: 30)
            #expect(TestEnvironment.runningDescendants(matching: model.path).count == 3)

            // When it is stopped
            let stopping = ContinuousClock.now
            await server.stop()
            let took = ContinuousClock.now - stopping

            // Then nothing of it is left, and a server that ignores SIGTERM was killed at the deadline
            #expect(TestEnvironment.runningDescendants(matching: model.path).isEmpty)
            #expect(await LlamaServer.healthStatus(port: server.port) == nil)
            if ignoresTerm {
                #expect(took >= .seconds(5) && took < .seconds(8), "stopped in \(took)")
            } else {
                #expect(took < .seconds(3), "stopped in \(took)")
            }
            print("stand-in llama-server (ignores SIGTERM: \(ignoresTerm)) stopped in \(took)")
            await server.stop()  // idempotent
        }
    }
}
