import Foundation
import RoadtestCore
import Synchronization

/// Writes the chaos log: one JSON line per request, appended to a file or standard output, one whole line per write.
public final class ChaosLogWriter: Sendable {
    let handle: Mutex<FileHandle?>

    /// `path` nil writes nothing; `-` is standard output; a file is appended to.
    public init(path: String?) throws {
        guard let path else {
            handle = Mutex(nil)
            return
        }
        if path == "-" {
            handle = Mutex(FileHandle.standardOutput)
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw RoadtestError(.invalidArgument, "--log \(path): cannot create the file")
            }
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw RoadtestError(.invalidArgument, "--log \(path): cannot open the file for writing")
        }
        file.seekToEndOfFile()
        handle = Mutex(file)
    }

    public func write(_ entry: ChaosLogEntry) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else { return }
        line.append(0x0A)
        handle.withLock { $0?.write(line) }
    }
}
