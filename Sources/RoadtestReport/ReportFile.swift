import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes a rendered report where the user asked for it, without destroying what is there.
///
/// - `-` writes to standard output.
/// - A new path, or a regular file (through symbolic links), is replaced atomically: readers never see half a
///   report.
/// - Anything else (`/dev/null`, a FIFO, a terminal, a socket) is opened and written into: it is never renamed
///   over or replaced by a regular file, so `--json /dev/null` run as root leaves `/dev/null` a device and a
///   FIFO's reader gets the data.
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
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw WriteError(path: path, reason: "it is a directory") }
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
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
    }
}
