import Foundation
import RoadtestLocal
import RoadtestProviders

/// Facts about this machine that decide which integration tests can run.
public enum TestEnvironment {
    /// The package root (two folders above this file's folder).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The built `roadtest` executable (`swift build` puts it here; `make test` builds it first).
    /// When both a debug and a release build exist, the newer one.
    public static var binary: URL? {
        ["debug", "release"].map { packageRoot.appendingPathComponent(".build/\($0)/roadtest") }
            .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
            .max { modified($0) < modified($1) }
    }

    static func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }

    /// True when llama-server and both known models are installed in the Roadtest home.
    public static var localModelsInstalled: Bool {
        let home = RoadtestHome()
        return FileManager.default.isExecutableFile(atPath: home.llamaServer.path)
            && LocalModel.all.allSatisfy { FileManager.default.fileExists(atPath: home.modelFile($0).path) }
    }

    /// In CI the real-model tests must run: missing models are a failure there, not a skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// Process ids of running (not zombie) processes whose command line contains `needle`.
    public static func runningProcesses(matching needle: String) -> [Int32] {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var result: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            guard let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let text = String(decoding: command.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            guard text.contains(needle) else { continue }
            let status = (try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)) ?? ""
            if status.contains("State:\tZ") { continue }
            result.append(pid)
        }
        return result
        #else
        // No /proc: ask ps (one line per process: pid, state, command line).
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/bin/ps")
        ps.arguments = ["-axww", "-o", "pid=,stat=,command="]
        let output = Pipe()
        ps.standardOutput = output
        ps.standardError = FileHandle.nullDevice
        guard (try? ps.run()) != nil else { return [] }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        ps.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count == 3, let pid = Int32(fields[0]), pid != getpid(), !fields[1].hasPrefix("Z"),
                fields[2].contains(needle)
            else { return nil }
            return pid
        }
        #endif
    }
}
