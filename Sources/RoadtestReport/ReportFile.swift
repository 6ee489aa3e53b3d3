import Foundation
import SystemPackage

/// Writes a rendered report where the user asked for it, without destroying what is there.
///
/// - `-` writes to standard output.
/// - A new path, or a regular file (through symbolic links), is replaced atomically: readers never see half a
///   report.
/// - Anything else (`/dev/null`, a FIFO, a terminal, a socket) is opened and written into: it is never renamed
///   over or replaced by a regular file, so `--json /dev/null` run as root leaves `/dev/null` a device and a
///   FIFO's reader gets the data.
///
/// The file system calls go through swift-system, so the same code runs on Linux and macOS.
public enum ReportFile {
    /// Why a report could not be written.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `data` to `path` (see the type's documentation for what each kind of path gets).
    public static func write(_ data: Data, to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(data)
            return
        }
        // `stat` follows symbolic links (`/dev/stdout` included); a path that does not exist yet is a new file.
        if let type = try? Stat(FilePath(path), followTargetSymlink: true).type, type != .regular {
            if type == .directory { throw WriteError(path: path, reason: "it is a directory") }
            try writeInPlace(data, to: path)
            return
        }
        // A regular file or a new path: resolve symbolic links so the link stays a link, then replace atomically.
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try data.write(to: url, options: .atomic)
        } catch {
            throw WriteError(path: path, reason: error.localizedDescription)
        }
    }

    private static func writeInPlace(_ data: Data, to path: String) throws {
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.closeOnExec])
            try descriptor.closeAfter {
                _ = try data.withUnsafeBytes { try descriptor.writeAll($0) }
            }
        } catch let error as Errno {
            throw WriteError(path: path, reason: error.description)
        }
    }
}
