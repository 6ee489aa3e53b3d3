import Crypto
import Foundation
import RoadtestCore

extension Context {
    /// The largest file a case may attach (providers' own limits are lower for most models).
    static let attachmentLimit = 50 << 20

    /// `attachments: [invoice.png, {file: scan.pdf, media_type: application/pdf}]`, or one name (a CSV cell lists
    /// several separated by `|`). Paths are relative to the suite file. Each file must exist and be an image or a PDF.
    mutating func attachments(from node: Node) -> [Attachment]? {
        let items: [Node]
        switch node {
        case .sequence(let list, _): items = list
        case .null: return []
        default: items = [node]
        }
        var result: [Attachment] = []
        for item in items {
            var path: String?
            var mediaType: String?
            if case .mapping(let pairs, _) = item {
                checkKeys(pairs, valid: ["file", "media_type"], in: "an attachment")
                let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                path = fields["file"].flatMap { string($0, "file") }
                mediaType = fields["media_type"].flatMap { string($0, "media_type") }
            } else {
                path = string(item, "attachments")
            }
            guard let path, !path.isEmpty else {
                error(item, "an attachment names a file", hint: "for example attachments: [invoice.png]")
                continue
            }
            let resolved = resolvePath(path)
            let fileExtension = (path as NSString).pathExtension.lowercased()
            guard let type = mediaType ?? Attachment.mediaTypes[fileExtension],
                Attachment.mediaTypes.values.contains(type)
            else {
                error(
                    item,
                    "attachment '\(path)' is not an image or a PDF",
                    hint: "attach .png, .jpg, .webp, .gif or .pdf files (or give media_type: image/png ...)"
                )
                continue
            }
            guard let data = FileManager.default.contents(atPath: resolved) else {
                error(item, "attachment '\(path)' cannot be read (looked for \(resolved))", hint: "check the path")
                continue
            }
            guard data.count <= Self.attachmentLimit else {
                error(item, "attachment '\(path)' is \(data.count) bytes; the limit is \(Self.attachmentLimit)")
                continue
            }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            result.append(Attachment(file: resolved, mediaType: type, byteCount: data.count, sha256: digest))
        }
        return result
    }
}
