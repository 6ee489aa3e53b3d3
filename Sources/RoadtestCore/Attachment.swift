import Foundation

/// A file a case sends with its input: an image (PNG, JPEG, WebP, GIF) or a document (PDF). The suite names it; the
/// loader checks it exists and records its size and SHA-256 (so a changed file is a changed suite), and each provider
/// encodes its bytes its own way when the request is sent.
public struct Attachment: Sendable, Hashable, Codable {
    /// The file's absolute path.
    public var file: String
    /// `image/png`, `image/jpeg`, `image/webp`, `image/gif` or `application/pdf`.
    public var mediaType: String
    public var byteCount: Int
    /// Lowercase hex SHA-256 of the bytes.
    public var sha256: String

    public init(file: String, mediaType: String, byteCount: Int, sha256: String) {
        self.file = file
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
    }

    public enum Kind: String, Sendable, Hashable, Codable {
        case image
        case document
    }

    public var kind: Kind { mediaType.hasPrefix("image/") ? .image : .document }

    /// The file's name (providers that name documents use it).
    public var name: String { (file as NSString).lastPathComponent }

    /// The format word some providers want (`png`, `jpeg`, `webp`, `gif`, `pdf`).
    public var format: String {
        switch mediaType {
        case "image/jpeg": "jpeg"
        case "application/pdf": "pdf"
        default: String(mediaType.split(separator: "/").last ?? "")
        }
    }

    /// The media types Roadtest sends, by file extension.
    public static let mediaTypes: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
        "pdf": "application/pdf",
    ]

    /// The bytes, read when a request is built (an attachment is never held in the suite or the store).
    public func data() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: file))
    }

    /// The bytes as base64; empty when the file can no longer be read (the suite checked it when it loaded).
    public var base64: String { ((try? data()) ?? Data()).base64EncodedString() }

    /// A `data:` URL of the bytes.
    public var dataURL: String { "data:\(mediaType);base64,\(base64)" }
}
