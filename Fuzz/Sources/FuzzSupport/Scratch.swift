import Foundation

/// A folder of the fuzz process's own, made once and removed at exit, for targets whose entry point reads files. In
/// memory where there is /dev/shm: Foundation syncs every file it writes to disk, which would cost more than the load.
public enum Scratch {
    public static let directory: URL = {
        var isDirectory: ObjCBool = false
        let memory =
            FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
        let base = memory ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let url = base.appendingPathComponent(
            "roadtest-fuzz-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)",
            isDirectory: true
        )
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
        return url
    }()
}

/// Whether `FUZZ_VERBOSE` is set: targets then print what each input came to (to check a seed reaches the code).
public let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] != nil
