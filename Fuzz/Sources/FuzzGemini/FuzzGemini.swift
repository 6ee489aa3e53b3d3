import FuzzSupport
import RoadtestProviders

/// `gemini`: `GeminiStreamDecoder` over the input as a `streamGenerateContent?alt=sse` stream (server-sent events, in
/// chunks), and `decodeBody` over it as a whole `generateContent` body. Untrusted server input: anything may be
/// `malformed` or `refused`, nothing may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    exercise(GeminiStreamDecoder.self, FuzzInput(data, size))
    return 0
}
