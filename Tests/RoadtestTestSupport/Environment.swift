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

    /// Makes this test process the reaper of the orphans its children leave (Linux `PR_SET_CHILD_SUBREAPER`): a
    /// process a test started, directly or not, stays a descendant of the test process when its parent dies (the
    /// llama-server of a `roadtest` killed with SIGKILL is handed to this process, not to init), so
    /// `runningDescendants(matching:)` still finds it. Call it before starting what a test watches; calling it again
    /// does nothing.
    public static func adoptOrphans() {
        _ = isSubreaper
    }

    static let isSubreaper: Bool = {
        #if os(Linux)
        // prctl is variadic, which Swift cannot call; its integer arguments pass the same way through a fixed
        // signature on Linux's calling conventions.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "prctl") else { return false }
        let setChildSubreaper: Int32 = 36  // PR_SET_CHILD_SUBREAPER
        return unsafeBitCast(symbol, to: Prctl.self)(setChildSubreaper, 1, 0, 0, 0) == 0
        #else
        return false
        #endif
    }()

    /// Process ids of running (not zombie) processes whose command line contains `needle` and that descend from this
    /// test process: what its tests started, and what those started in turn (orphans included, after
    /// `adoptOrphans()`). A process of the user's own (a `roadtest models serve` on the side) is never one of them.
    public static func runningDescendants(matching needle: String) -> [Int32] {
        adoptOrphans()
        var parents: [Int32: Int32] = [:]
        var matching: [Int32] = []
        for process in processTable() where process.pid != getpid() {
            parents[process.pid] = process.parent
            if !process.isZombie && process.command.contains(needle) { matching.append(process.pid) }
        }
        let me = getpid()
        return matching.filter { pid in
            var current = pid
            for _ in 0..<64 {
                guard let parent = parents[current], parent > 1 else { return false }
                if parent == me { return true }
                current = parent
            }
            return false
        }
    }

    /// Every process: its id, its parent's, whether it is a zombie, its command line.
    static func processTable() -> [(pid: Int32, parent: Int32, isZombie: Bool, command: String)] {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)
            else { return nil }
            let parent =
                status.split(separator: "\n").first { $0.hasPrefix("PPid:") }.flatMap {
                    Int32($0.dropFirst(5).trimmingCharacters(in: .whitespaces))
                } ?? 0
            let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline").map {
                String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            }
            return (pid, parent, status.contains("State:\tZ"), command ?? "")
        }
        #else
        // No /proc: ask ps (one line per process: pid, parent, state, command line).
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/bin/ps")
        ps.arguments = ["-axww", "-o", "pid=,ppid=,stat=,command="]
        let output = Pipe()
        ps.standardOutput = output
        ps.standardError = FileHandle.nullDevice
        guard (try? ps.run()) != nil else { return [] }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        ps.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count == 4, let pid = Int32(fields[0]), let parent = Int32(fields[1]) else { return nil }
            return (pid, parent, fields[2].hasPrefix("Z"), String(fields[3]))
        }
        #endif
    }
}
