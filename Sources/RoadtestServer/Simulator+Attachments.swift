import Crypto
import Foundation
import RoadtestCore

extension Simulator {
    /// A file a request carried, as the simulator decoded it: how the tests check each format's encoding.
    public struct ReceivedAttachment: Sendable, Codable, Hashable {
        /// `image` or `document`.
        public var kind: String
        public var mediaType: String
        /// The decoded byte count.
        public var bytes: Int
        /// Lowercase hex SHA-256 of the decoded bytes.
        public var sha256: String

        public init(kind: String, mediaType: String, bytes: Int, sha256: String) {
            self.kind = kind
            self.mediaType = mediaType
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// Every file in a request body, in document order, in whichever encoding its format uses: `data:` URLs (OpenAI
    /// chat and Responses), base64 sources (Anthropic), `inlineData` (Gemini), `image`/`document` blocks (Bedrock).
    static func attachments(in value: JSONValue) -> [ReceivedAttachment] {
        var found: [ReceivedAttachment] = []
        func add(_ mediaType: String, _ base64: String) {
            // Standard base64, or the URL-safe alphabet (the google-genai SDK sends bytes that way).
            var text = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            text += String(repeating: "=", count: (4 - text.count % 4) % 4)
            guard let data = Data(base64Encoded: text) else { return }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            let kind = mediaType.hasPrefix("image/") ? "image" : "document"
            found.append(ReceivedAttachment(kind: kind, mediaType: mediaType, bytes: data.count, sha256: digest))
        }
        func visit(_ value: JSONValue) {
            switch value {
            case .string(let text) where text.hasPrefix("data:"):
                guard let comma = text.firstIndex(of: ","), text[..<comma].hasSuffix(";base64") else { return }
                let mediaType = String(text[text.index(text.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count))
                add(mediaType, String(text[text.index(after: comma)...]))
            case .object(let members):
                if members["type"] == .string("base64"), let type = members["media_type"]?.stringValue,
                    let data = members["data"]?.stringValue
                {
                    return add(type, data)
                }
                // The google-genai SDK spells the type `mime_type`; the API takes either spelling.
                if let inline = members["inlineData"] ?? members["inline_data"],
                    let type = (inline["mimeType"] ?? inline["mime_type"])?.stringValue,
                    let data = inline["data"]?.stringValue
                {
                    return add(type, data)
                }
                for key in ["image", "document"] {
                    if let block = members[key], let format = block["format"]?.stringValue,
                        let bytes = block["source"]?["bytes"]?.stringValue
                    {
                        let type =
                            key == "image"
                            ? "image/\(format)" : Attachment.mediaTypes[format] ?? "application/\(format)"
                        return add(type, bytes)
                    }
                }
                for key in members.keys.sorted() where key != "image" && key != "document" {
                    visit(members[key]!)
                }
            case .array(let items):
                items.forEach(visit)
            default:
                break
            }
        }
        visit(value)
        return found
    }
}
