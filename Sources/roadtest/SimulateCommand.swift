import ArgumentParser
import Foundation
import Hummingbird
import RoadtestServer

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract:
            "Serve a simulated provider (OpenAI and Anthropic wire formats) with scripted answers, latency, capacity and faults.",
        discussion: """
            Behaviour is chosen per model name, from --profile, and from settings in the name itself:
            model "echo;ttft=100ms;itl=10ms;faults=429,500;capacity=4" echoes the prompt with those settings.
            Settings: ttft, itl, reply, usage, capacity, faults (ok, 429, 500, 503, 400, timeout, cut, cut_abrupt,
            malformed, error_event), cycle, retry_after, cut_after, hold.
            """
    )

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port = 8089

    @Option(name: .long, help: "A YAML profile of model behaviours.")
    var profile: String?

    func run() async throws {
        let loaded: SimulatorProfile
        do {
            loaded = try profile.map(SimulatorProfile.load(path:)) ?? SimulatorProfile()
        } catch {
            printError("roadtest: \(error)")
            throw ExitCode(ExitStatus.couldNotRun)
        }
        let simulator = Simulator(profile: loaded)
        let host = self.host
        let app = simulator.makeApplication(host: host, port: port) { port in
            FileHandle.standardOutput.write(Data("roadtest simulator listening on http://\(host):\(port)/v1\n".utf8))
        }
        try await app.runService()
    }
}
