import FuzzSupport
import RoadtestProviders

/// `responses`: `OpenAIResponsesStreamDecoder` over the input as an OpenAI Responses stream (server-sent events, in chunks), and
/// `decodeBody` over it as a whole response body. Untrusted server input: anything may be `malformed`, nothing
/// may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    exercise(OpenAIResponsesStreamDecoder.self, FuzzInput(data, size))
    return 0
}
