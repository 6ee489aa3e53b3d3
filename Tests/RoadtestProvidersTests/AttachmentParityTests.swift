import Crypto
import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

/// An image and a PDF attached to a case, encoded by each provider its own way (OpenAI chat `image_url` and `file`
/// parts, Responses `input_image` and `input_file`, Anthropic `image` and `document` blocks, Gemini `inlineData`,
/// Bedrock `image` and `document` blocks): the simulator decodes the same bytes from each, and each official SDK
/// sends the same body for the same call.
@Suite(.serialized, .enabled(if: OfficialSDK.python != nil || TestEnvironment.isCI, "run `make pyclients` first"))
struct AttachmentParityTests {
    /// A PNG and a PDF with random bodies (their headers real), written to `directory`.
    static func files(in directory: URL) throws -> [RoadtestCore.Attachment] {
        var random = EventStreamFuzzRandom(state: 42)
        let png = Data(
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
                + (0..<517).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        )
        let pdf = Data("%PDF-1.4\n".utf8 + (0..<1_203).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        var attachments: [RoadtestCore.Attachment] = []
        for (name, data, type) in [("chart.png", png, "image/png"), ("scan.pdf", pdf, "application/pdf")] {
            let url = directory.appendingPathComponent(name)
            try data.write(to: url)
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            attachments.append(Attachment(file: url.path, mediaType: type, byteCount: data.count, sha256: digest))
        }
        return attachments
    }

    static let script = """
        import base64, json, sys
        kind, root, png_path, pdf_path = sys.argv[1:5]
        png, pdf = open(png_path, "rb").read(), open(pdf_path, "rb").read()
        png_url = "data:image/png;base64," + base64.b64encode(png).decode()
        pdf_url = "data:application/pdf;base64," + base64.b64encode(pdf).decode()
        text = "Describe these."
        if kind == "openai":
            import openai
            openai.OpenAI(base_url=root + "/v1", api_key="k", max_retries=0).chat.completions.create(
                model="echo", max_tokens=64, stream=False, messages=[{"role": "user", "content": [
                    {"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": png_url}},
                    {"type": "file", "file": {"filename": "scan.pdf", "file_data": pdf_url}}]}])
        elif kind == "openai-responses":
            import openai
            openai.OpenAI(base_url=root + "/v1", api_key="k", max_retries=0).responses.create(
                model="echo", max_output_tokens=64, stream=False, input=[{"role": "user", "content": [
                    {"type": "input_text", "text": text}, {"type": "input_image", "image_url": png_url},
                    {"type": "input_file", "filename": "scan.pdf", "file_data": pdf_url}]}])
        elif kind == "anthropic":
            import anthropic
            anthropic.Anthropic(base_url=root, api_key="k", max_retries=0).messages.create(
                model="echo", max_tokens=64, stream=False, messages=[{"role": "user", "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                 "data": base64.b64encode(png).decode()}},
                    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                                    "data": base64.b64encode(pdf).decode()}},
                    {"type": "text", "text": text}]}])
        elif kind == "gemini":
            from google import genai
            from google.genai import types
            client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=root, api_version="v1beta"))
            client.models.generate_content(model="echo", config=types.GenerateContentConfig(max_output_tokens=64),
                contents=[types.Content(role="user", parts=[types.Part.from_bytes(data=png, mime_type="image/png"),
                    types.Part.from_bytes(data=pdf, mime_type="application/pdf"), types.Part(text=text)])])
        elif kind == "bedrock":
            import boto3
            client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=root,
                                  aws_access_key_id="AKID", aws_secret_access_key="secret")
            client.converse(modelId="echo", inferenceConfig={"maxTokens": 64}, messages=[{"role": "user", "content": [
                {"image": {"format": "png", "source": {"bytes": png}}},
                {"document": {"format": "pdf", "name": "scan", "source": {"bytes": pdf}}}, {"text": text}]}])
        print(json.dumps({"ok": True}))
        """

    @Test(arguments: ["openai", "openai-responses", "anthropic", "gemini", "bedrock"])
    func eachFormatCarriesTheSameBytesAsItsOfficialSDK(provider: String) async throws {
        try await withTemporaryDirectory { directory in
            let attachments = try Self.files(in: directory)
            try await withSimulator { baseURL, simulator in
                let root = String(baseURL.dropLast("/v1".count))
                let transport = HTTPTransport()
                let kind = try #require(ProviderKind(rawValue: provider))
                var candidate = Candidate(id: "c", provider: kind, model: "echo")
                candidate.baseURL =
                    [.openai, .openaiResponses].contains(kind) ? baseURL : kind == .gemini ? root + "/v1beta" : root
                candidate.region = "us-east-1"
                let factory = ProviderFactory(
                    transport: transport,
                    environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"]
                )
                let response = await (try factory.makeProvider(for: candidate)).send(
                    ChatRequest(
                        model: "echo",
                        messages: [Message(role: "user", content: "Describe these.", attachments: attachments)],
                        maxTokens: 64,
                        stream: false
                    )
                )
                await transport.shutdown()
                #expect(response.attemptClass == .ok, "\(response.message ?? "")")
                _ = try await OfficialSDK.run(Self.script, [provider, root, attachments[0].file, attachments[1].file])
                let received = simulator.receivedRequests
                try #require(received.count == 2)
                // The simulator decoded exactly the files' bytes from Roadtest's request.
                let expected = attachments.map {
                    Simulator.ReceivedAttachment(
                        kind: $0.kind.rawValue,
                        mediaType: $0.mediaType,
                        bytes: $0.byteCount,
                        sha256: $0.sha256
                    )
                }
                #expect(received[0].attachments == expected)
                #expect(received[1].attachments == expected)
                let ours = OpenAIResponsesParityTests.essentials(received[0]).removingCredentials
                // google-genai writes bytes in base64's URL-safe alphabet and the type as `mime_type`; the API reads
                // either, Roadtest sends what its REST reference documents. The bytes are compared above.
                let theirs = OpenAIResponsesParityTests.essentials(received[1]).removingCredentials.standardBase64
                let difference = Golden.firstDifference(expected: theirs, actual: ours)
                #expect(difference == nil, "\(difference ?? "")")
            }
        }
    }
}

extension JSONValue {
    /// `inlineData` as Roadtest writes it: `data` rewritten from base64's URL-safe alphabet to the standard one,
    /// padded, and `mime_type` (the SDK's spelling) as the JSON name `mimeType`.
    fileprivate var standardBase64: JSONValue {
        switch self {
        case .object(var members):
            if let type = members.removeValue(forKey: "mime_type") { members["mimeType"] = type }
            if case .string(let data)? = members["data"], members["mimeType"] != nil {
                var text = data.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                text += String(repeating: "=", count: (4 - text.count % 4) % 4)
                members["data"] = .string(text)
            }
            return .object(members.mapValues(\.standardBase64))
        case .array(let items): return .array(items.map(\.standardBase64))
        default: return self
        }
    }

    /// Without the credential header names (these requests are sent without keys, or with throwaway ones).
    fileprivate var removingCredentials: JSONValue {
        guard case .object(var members) = self else { return self }
        members["credential_headers"] = nil
        return .object(members)
    }
}
