import Crypto
import Foundation
import RoadtestCore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// Images and PDFs attached to cases inline, in JSONL and in CSV files: resolved next to the suite, typed, sized and
/// hashed when the suite loads; a missing file, a file that is not an image or a PDF, and a candidate that cannot take
/// one are errors at file:line.
@Suite struct AttachmentLoadingTests {
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5])
    static let pdf = Data("%PDF-1.4\nhello".utf8)

    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    func load(_ suite: String, extra: [String: String] = [:]) async throws -> Result<Suite, RoadtestError> {
        try await withTemporaryDirectory { directory in
            try writeFiles(["suite.yaml": suite].merging(extra) { $1 }, in: directory)
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("files"),
                withIntermediateDirectories: true
            )
            try Self.png.write(to: directory.appendingPathComponent("files/chart.png"))
            try Self.pdf.write(to: directory.appendingPathComponent("files/scan.pdf"))
            try Data("text".utf8).write(to: directory.appendingPathComponent("files/notes.txt"))
            do {
                return .success(try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path))
            } catch let error as RoadtestError {
                return .failure(error)
            }
        }
    }

    static let candidates = """
        candidates:
          - {id: a, base_url: http://127.0.0.1:1/v1, model: m}

        """

    @Test func inlineJSONLAndCSVCasesCarryTheirFilesOnTheirInput() async throws {
        let result = try await load(
            Self.candidates + """
                cases:
                  - id: inline
                    prompt: What does the chart say?
                    attachments: [files/chart.png, {file: files/scan.pdf}]
                  - file: rows.jsonl
                  - file: rows.csv
                """,
            extra: [
                "rows.jsonl": #"{"id": "jsonl", "prompt": "Read it", "attachments": ["files/scan.pdf"]}"# + "\n",
                "rows.csv": "id,prompt,attachments\ncsv,Both,files/chart.png|files/scan.pdf\n",
            ]
        )
        let suite = try result.get()
        let byID = Dictionary(uniqueKeysWithValues: suite.cases.map { ($0.id, $0) })
        let inline = try #require(byID["inline"]?.messages.last?.attachments)
        #expect(inline.map(\.mediaType) == ["image/png", "application/pdf"])
        #expect(inline.map(\.byteCount) == [Self.png.count, Self.pdf.count])
        #expect(inline.map(\.sha256) == [Self.hex(Self.png), Self.hex(Self.pdf)])
        #expect(inline[0].file.hasSuffix("/files/chart.png") && inline[0].file.hasPrefix("/"))
        #expect(byID["jsonl"]?.messages.last?.attachments?.map(\.mediaType) == ["application/pdf"])
        #expect(byID["csv"]?.messages.last?.attachments?.map(\.kind) == [.image, .document])
        // A case without files has none (and its stored JSON is unchanged).
        #expect(suite.cases.allSatisfy { $0.messages.last?.attachments?.isEmpty == false })
    }

    /// The README's provider example loads: every provider, and a PDF attached next to it.
    @Test func theProvidersExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardizedFileURL
        let suite = try SuiteLoader().load(path: root.appendingPathComponent("examples/providers.yaml").path)
        #expect(
            Set(suite.candidates.map(\.provider)) == [.openai, .openaiResponses, .azure, .gemini, .bedrock, .anthropic]
        )
        let attachment = try #require(suite.cases.first?.messages.last?.attachments?.first)
        #expect(attachment.mediaType == "application/pdf" && attachment.byteCount > 0)
    }

    @Test func aMissingOrUnsupportedFileOrATextOnlyCandidateIsAnErrorAtItsLine() async throws {
        let result = try await load(
            """
            candidates:
              - {id: a, base_url: http://127.0.0.1:1/v1, model: m}
              - {id: tiny, local: smollm2-135m-instruct}
            cases:
              - id: missing
                prompt: x
                attachments: [files/nope.png]
              - id: text
                prompt: x
                attachments: [files/notes.txt]
              - id: fine
                prompt: x
                attachments: [files/chart.png]
            """
        )
        guard case .failure(let error) = result else {
            Issue.record("the suite loaded")
            return
        }
        let text = error.diagnostics.map(\.description).joined(separator: "\n")
        #expect(text.contains("suite.yaml:7") && text.contains("'files/nope.png' cannot be read"), "\(text)")
        #expect(text.contains("suite.yaml:10") && text.contains("is not an image or a PDF"), "\(text)")
        #expect(text.contains("suite.yaml:11") && text.contains("candidate 'tiny' cannot take"), "\(text)")
    }
}
