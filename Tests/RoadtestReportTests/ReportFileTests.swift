import Foundation
import RoadtestReport
import RoadtestTestSupport
import Testing

/// Writing reports where users point them: never replacing special files.
@Suite struct ReportFileTests {
    @Test func aDeviceStaysADevice() throws {
        // /dev/null as the target (this runs as root in CI, where the old atomic rename replaced it)
        try ReportFile.write(Data("{}".utf8), to: "/dev/null")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0)
        #expect((info.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func aFIFOsReaderGetsTheData() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("report.fifo").path
            #expect(mkfifo(fifo, 0o600) == 0)
            // A reader waits on the FIFO, as a pipeline (`roadtest run --json fifo & jq < fifo`) would.
            let reader = Task.detached { () -> Data in
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: fifo))
                defer { try? handle.close() }
                return handle.readDataToEndOfFile()
            }
            try ReportFile.write(Data("{\"schema_version\": 1}".utf8), to: fifo)
            let received = try await reader.value
            #expect(String(decoding: received, as: UTF8.self) == "{\"schema_version\": 1}")
            var info = stat()
            #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        }
    }

    @Test func regularFilesAreReplacedAndLinksStayLinks() async throws {
        try await withTemporaryDirectory { directory in
            let target = directory.appendingPathComponent("real.json")
            let link = directory.appendingPathComponent("link.json")
            try Data("old".utf8).write(to: target)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
            try ReportFile.write(Data("new".utf8), to: link.path)
            #expect(try String(contentsOf: target, encoding: .utf8) == "new")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) != nil)
            try ReportFile.write(Data("fresh".utf8), to: directory.appendingPathComponent("sub/dir/new.json").path)
            #expect(
                try String(contentsOf: directory.appendingPathComponent("sub/dir/new.json"), encoding: .utf8) == "fresh"
            )
            #expect(throws: ReportFile.WriteError.self) { try ReportFile.write(Data(), to: directory.path) }
        }
    }
}
