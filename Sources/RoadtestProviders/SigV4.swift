import Crypto
import Foundation

// AWS Signature Version 4 request signing.
//
// Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// Wherever the published description leaves room for interpretation, this file follows botocore's
// `botocore.auth.SigV4Auth` (the signer boto3 uses for every non-S3 service, Bedrock included), because
// "what boto3 sends" is what AWS services are known to accept. The points where that matters:
//
// * The canonical URI is the request path *as it goes on the wire* (already percent-encoded), with
//   dot segments and empty segments removed, then percent-encoded once more. A Bedrock model ID such
//   as `anthropic.claude-3-haiku-20240307-v1:0` is `...v1%3A0` in the URL and `...v1%253A0` in the
//   canonical request. (S3 is the exception: it signs the path unnormalised and encoded once. This
//   signer does not implement S3's rules.)
// * Header values are trimmed and every run of whitespace (including newlines of folded values) is
//   collapsed to one space; repeated headers are joined with `,` in the order given.
// * A fixed set of hop-by-hop / tracing headers (`User-Agent`, `Expect`, `Transfer-Encoding`, ...)
//   is never signed, because proxies and HTTP stacks may rewrite them.
// * `X-Amz-Content-SHA256` is not added unless asked for: botocore sends it only for S3.

/// Long-term or temporary AWS credentials.
public struct AWSCredentials: Sendable, Hashable {
    /// The access key ID (`AKIA...` for long-term keys, `ASIA...` for temporary ones).
    public var accessKeyID: String
    /// The secret access key. Never sent; only used to derive the signing key.
    public var secretAccessKey: String
    /// The session token of temporary credentials; sent (and signed) as `X-Amz-Security-Token`.
    public var sessionToken: String?

    /// Creates credentials. An empty `sessionToken` is treated as no token, as botocore does.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken?.isEmpty == true ? nil : sessionToken
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from `environment`.
    ///
    /// Returns nil when either of the first two is missing or empty, so that callers can fall back to
    /// another credential source instead of signing with a half-configured identity.
    public static func fromEnvironment(_ environment: [String: String]) -> AWSCredentials? {
        guard let keyID = environment["AWS_ACCESS_KEY_ID"], !keyID.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        return AWSCredentials(
            accessKeyID: keyID,
            secretAccessKey: secret,
            sessionToken: environment["AWS_SESSION_TOKEN"]
        )
    }
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// Names the key ID only, so that credentials printed into logs never leak the secret or token.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>, "
            + "sessionToken: \(sessionToken == nil ? "nil" : "<redacted>"))"
    }

    public var debugDescription: String { description }
}

/// Signs HTTP requests with AWS Signature Version 4 (header-based, `AWS4-HMAC-SHA256`).
///
/// The signer is a pure function of its inputs (including the date), which keeps it testable
/// against fixed vectors and safe to share between tasks.
public struct SigV4Signer: Sendable {
    /// The identity to sign as.
    public var credentials: AWSCredentials
    /// The region in the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The signing name in the credential scope. Note this is not always the endpoint prefix:
    /// Bedrock Runtime (`bedrock-runtime.<region>.amazonaws.com`) signs as `bedrock`.
    public var service: String
    /// Whether to add and sign `X-Amz-Content-SHA256` with the payload hash. S3 requires it; other
    /// services (Bedrock included) don't use it, and botocore doesn't send it for them.
    public var includesContentSHA256Header: Bool

    /// Creates a signer for one region and service.
    public init(
        credentials: AWSCredentials,
        region: String,
        service: String,
        includesContentSHA256Header: Bool = false
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.includesContentSHA256Header = includesContentSHA256Header
    }

    /// The headers to add to the request so that AWS accepts it, in botocore's order:
    /// `X-Amz-Date`, then `X-Amz-Security-Token` (with temporary credentials), then
    /// `X-Amz-Content-SHA256` (only if `includesContentSHA256Header`), then `Authorization`.
    ///
    /// - Parameters:
    ///   - method: The HTTP method; it is upper-cased for signing.
    ///   - url: The absolute URL exactly as it will be sent (path and query already percent-encoded).
    ///   - headers: The other headers that will be sent. Every one of them is signed except the
    ///     unsignable ones (see ``unsignedHeaderNames``), so don't let the HTTP client change them
    ///     afterwards. `Host` is derived from `url` unless given here. Any `Authorization` or
    ///     `X-Amz-Date` given here is ignored, since this function supplies new ones; so is
    ///     `X-Amz-Security-Token` when the credentials carry a session token.
    ///   - body: The exact request body bytes.
    ///   - date: The signing time; AWS rejects requests more than about 5 minutes off its clock.
    public func signedHeaders(
        method: String,
        url: String,
        headers: [(String, String)],
        body: some DataProtocol,
        date: Date
    ) -> [(String, String)] {
        let request = prepare(method: method, url: url, headers: headers, body: body, date: date)
        let stringToSign = stringToSign(canonicalRequest: request.canonicalRequest, date: date)
        let signature = signature(stringToSign: stringToSign, date: date)
        let scope = "\(credentials.accessKeyID)/\(credentialScope(date: date))"
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=\(request.signedHeaderNames), "
            + "Signature=\(signature)"
        return request.addedHeaders + [("Authorization", authorization)]
    }

    /// ``signedHeaders(method:url:headers:body:date:)`` for a Foundation `URL`, signed as its
    /// `absoluteString` (which keeps the URL's own percent-encoding).
    public func signedHeaders(
        method: String,
        url: URL,
        headers: [(String, String)],
        body: some DataProtocol,
        date: Date
    ) -> [(String, String)] {
        signedHeaders(method: method, url: url.absoluteString, headers: headers, body: body, date: date)
    }

    /// Step 1: the canonical request that ``signedHeaders(method:url:headers:body:date:)`` signs,
    /// including the headers it adds. Exposed for tests and for debugging signature mismatches (AWS
    /// returns its own canonical request in the error message of a rejected signature).
    public func canonicalRequest(
        method: String,
        url: String,
        headers: [(String, String)],
        body: some DataProtocol,
        date: Date
    ) -> String {
        prepare(method: method, url: url, headers: headers, body: body, date: date).canonicalRequest
    }

    /// Step 2: the string to sign, binding the canonical request's hash to the time and scope.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [
            "AWS4-HMAC-SHA256",
            SigV4Timestamp.dateTime(date),
            credentialScope(date: date),
            SigV4Hex.sha256(Data(canonicalRequest.utf8)),
        ].joined(separator: "\n")
    }

    /// Step 3: the hex HMAC-SHA256 of the string to sign under the derived signing key.
    public func signature(stringToSign: String, date: Date) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date: date))
        return SigV4Hex.string(code)
    }

    /// `yyyyMMdd/region/service/aws4_request`: what the signing key is valid for.
    public func credentialScope(date: Date) -> String {
        "\(SigV4Timestamp.day(date))/\(region)/\(service)/aws4_request"
    }

    /// The signing key: HMAC chain over day, region, service and `aws4_request`, so that a leaked
    /// key is only good for one day, region and service.
    public func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [SigV4Timestamp.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key))
        }
        return key
    }
}

// MARK: - Canonical request

extension SigV4Signer {
    /// Lower-cased names of headers that are never signed, as in botocore's
    /// `SIGNED_HEADERS_BLACKLIST`: intermediaries may add, drop or rewrite them.
    public static let unsignedHeaderNames: Set<String> = [
        "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent",
        "x-amzn-trace-id",
    ]

    /// The canonical URI for a raw request path (botocore's `_normalize_url_path`): empty and `.`
    /// segments removed, `..` resolved, a trailing `/` kept, then every byte except RFC 3986
    /// unreserved characters and `/` percent-encoded — including the `%` of existing escapes,
    /// which is what makes the path double-encoded relative to the wire.
    public static func canonicalURI(path: String) -> String {
        SigV4Encoding.encode(removingDotSegments(path), keepingSlash: true)
    }

    /// The canonical query string for a raw query (the part after `?`, without the `?`).
    ///
    /// Each `key=value` pair is percent-decoded and re-encoded with the strict RFC 3986 rule, then the
    /// pairs are sorted by encoded key, then encoded value. For a query that is already canonically
    /// encoded (as botocore's serializer produces) this is botocore's result exactly; for a raw one it
    /// is the AWS-specified one. `+` is taken literally (encoded as `%2B`), never as a space.
    public static func canonicalQueryString(query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.unicodeScalars.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? String(parts[1]) : ""
            return (key: SigV4Encoding.reencode(String(parts[0])), value: SigV4Encoding.reencode(value))
        }
        return pairs.sorted { lhs, rhs in
            lhs.key == rhs.key ? lhs.value.utf8Precedes(rhs.value) : lhs.key.utf8Precedes(rhs.key)
        }
        .map { "\($0.key)=\($0.value)" }
        .joined(separator: "&")
    }

    /// A header value in canonical form: trimmed, inner whitespace runs collapsed to one space
    /// (Python's `' '.join(value.split())`, which also unfolds multi-line values). Works on code
    /// points, like Python, so a space followed by a combining mark still separates.
    public static func canonicalHeaderValue(_ value: String) -> String {
        value.unicodeScalars.split(whereSeparator: \.isPythonWhitespace).map(String.init).joined(separator: " ")
    }

    /// RFC 3986 section 5.2.4 dot-segment removal plus collapsing of empty segments, as botocore's
    /// `remove_dot_segments`; an empty path becomes `/`.
    static func removingDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [String] = []
        for segment in path.unicodeScalars.split(separator: "/").map(String.init) where segment != "." {
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        let leading = path.unicodeScalars.first == "/" ? "/" : ""
        let trailing = path.unicodeScalars.last == "/" && !segments.isEmpty ? "/" : ""
        return leading + segments.joined(separator: "/") + trailing
    }

    /// Everything derived from the request before the signature itself.
    private struct PreparedRequest {
        var addedHeaders: [(String, String)]
        var signedHeaderNames: String
        var canonicalRequest: String
    }

    private func prepare(
        method: String,
        url: String,
        headers: [(String, String)],
        body: some DataProtocol,
        date: Date
    ) -> PreparedRequest {
        let parts = SplitURL(url)
        let added = addedHeaders(body: body, date: date)
        let kept = headers.filter { !replacedHeaderNames.contains($0.0.lowercased()) }
        let signed = Self.headersToSign(kept + added, url: parts)
        let signedNames = signed.map(\.name).joined(separator: ";")
        let payloadHash =
            (kept + added).first { $0.0.lowercased() == "x-amz-content-sha256" }?.1
            ?? SigV4Hex.sha256(body)
        let canonical = [
            method.uppercased(),
            Self.canonicalURI(path: parts.path),
            Self.canonicalQueryString(query: parts.query),
            signed.map { "\($0.name):\($0.value)\n" }.joined(),
            signedNames,
            payloadHash,
        ].joined(separator: "\n")
        return PreparedRequest(addedHeaders: added, signedHeaderNames: signedNames, canonicalRequest: canonical)
    }

    /// Caller headers this signer overrides (botocore deletes them before signing).
    private var replacedHeaderNames: Set<String> {
        var names: Set<String> = ["authorization", "x-amz-date"]
        if credentials.sessionToken != nil { names.insert("x-amz-security-token") }
        if includesContentSHA256Header { names.insert("x-amz-content-sha256") }
        return names
    }

    /// The headers this signer adds, in the order botocore adds them.
    private func addedHeaders(body: some DataProtocol, date: Date) -> [(String, String)] {
        var added = [("X-Amz-Date", SigV4Timestamp.dateTime(date))]
        if let token = credentials.sessionToken {
            added.append(("X-Amz-Security-Token", token))
        }
        if includesContentSHA256Header {
            added.append(("X-Amz-Content-SHA256", SigV4Hex.sha256(body)))
        }
        return added
    }

    /// The signed headers in canonical order: lower-cased names sorted by code point, values of
    /// repeated names joined with `,` in request order, `host` added from the URL if absent.
    private static func headersToSign(
        _ headers: [(String, String)],
        url: SplitURL
    ) -> [(name: String, value: String)] {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lowered = name.lowercased().trimmingCharacters(in: .whitespaces)
            guard !unsignedHeaderNames.contains(lowered) else { continue }
            values[lowered, default: []].append(canonicalHeaderValue(value))
        }
        if values["host"] == nil {
            values["host"] = [url.hostHeader]
        }
        return values.keys.sorted { $0.utf8Precedes($1) }.map { name in
            (name: name, value: values[name]!.joined(separator: ","))
        }
    }
}

extension StringProtocol {
    /// Code-point order (Python's `str` order), which SigV4 sorting needs; Swift's `<` on strings
    /// uses Unicode canonical equivalence instead.
    func utf8Precedes(_ other: some StringProtocol) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace`: Unicode white space plus the ASCII information separators.
    var isPythonWhitespace: Bool {
        properties.isWhitespace || (0x1C...0x1F).contains(value)
    }
}
