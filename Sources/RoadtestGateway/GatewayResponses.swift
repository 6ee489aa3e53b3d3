import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestWire

// MARK: - Responses and their headers

extension Gateway {
    static let requestIDHeader = HTTPField.Name("x-roadtest-request-id")!
    static let servedByHeader = HTTPField.Name("x-roadtest-served-by")!

    static func requestID() -> String {
        // 128 random bits from the system's generator, as 32 lowercase hex digits (a UUID and its string
        // rewriting cost a file open and Unicode case mapping per request).
        var generator = SystemRandomNumberGenerator()
        let halves: [UInt64] = [generator.next(), generator.next()]
        let digits = Array("0123456789abcdef".utf8)
        var bytes = Array("rt-".utf8)
        bytes.reserveCapacity(35)
        for half in halves {
            for shift in stride(from: 60, through: 0, by: -4) {
                bytes.append(digits[Int((half >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Headers of an answer: who served it (the request id is added by `RequestIDMiddleware`).
    static func headers(servedBy: String?, contentType: String = "application/json") -> HTTPFields {
        var headers = HTTPFields()
        if let servedBy { headers[servedByHeader] = servedBy }
        headers[.contentType] = contentType
        return headers
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: headers(servedBy: nil),
            body: .init(byteBuffer: ByteBuffer(string: value.jsonText))
        )
    }

    /// An error body in the client's format (OpenAI's `{"error": {...}}` or Anthropic's).
    static func error(
        format: ClientFormat = .openAI,
        _ status: HTTPResponse.Status,
        _ message: String,
        type: String,
        code: String? = nil
    ) -> Response {
        let data =
            format == .anthropic
            ? WireJSON.data(AnthropicMessages.ErrorBody(type: anthropicErrorType(Int(status.code)), message: message))
            : WireJSON.data(OpenAIChat.ErrorBody(message: message, type: type, code: code))
        return Response(
            status: status,
            headers: headers(servedBy: nil),
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// The HTTP status and OpenAI error type for a chain's final failure.
    static func status(for attemptClass: AttemptClass) -> (HTTPResponse.Status, String) {
        switch attemptClass {
        case .http429: return (.tooManyRequests, "rate_limit_exceeded")
        case .timeout: return (.gatewayTimeout, "timeout")
        case .http4xx: return (.badRequest, "invalid_request_error")
        case .contentFilter: return (.badRequest, "content_filter")
        default: return (.badGateway, "api_error")
        }
    }
}
