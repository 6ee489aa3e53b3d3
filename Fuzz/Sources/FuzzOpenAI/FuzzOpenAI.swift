import Foundation
import FuzzSupport
import RoadtestCore
import RoadtestProviders
import RoadtestWire

/// `openai`: `OpenAIStreamDecoder` over the input as a chat-completions stream (server-sent events, in chunks), and
/// `decodeBody` over it as a completion body. Property, the one WireFastPath.swift states: where the one-pass path
/// reads a value (`JSONValue.parse` then `init(fastJSON:)`), the Codable decoder reads the same value; the fast path
/// never accepts what the Codable path refuses. Checked on every event's chunk and on the input as a completion and as
/// a request (the gateway reads requests on the same path).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    exercise(OpenAIStreamDecoder.self, input) { event in
        let oracle = fastPathOracle(event.data.utf8)
        guard Oracle.isOn(oracle) else { return }
        if let fast = OpenAIStreamDecoder.fastItems(event.data) {
            let reference = OpenAIStreamDecoder.codableItems(event.data)
            Oracle.require(
                oracle,
                fast == reference,
                "chunk \(shown(event.data)): fast path \(shown(fast)), Codable \(shown(reference))"
            )
        }
    }
    let body = input.data
    agree(OpenAIChat.Completion.self, body)
    agree(OpenAIChat.Request.self, body)
    return 0
}

/// The name the fast-path check goes by for this text: three known differences have names of their own, so that
/// fuzzing can go on past them (FUZZ_SKIP_ORACLES): bytes that are not UTF-8 (`openai.fastpath-utf8`) and a `\u`
/// escape of a lone surrogate (`openai.fastpath-surrogates`), which the one-pass parser replaces with U+FFFD and the
/// Codable decoder refuses; and a key named twice in an object (`openai.fastpath-duplicate-keys`: the one-pass parser
/// keeps the last value, the Codable decoder the first).
private func fastPathOracle(_ text: some Collection<UInt8>) -> String {
    if String(validating: text, as: UTF8.self) == nil { return "openai.fastpath-utf8" }
    // Only scanned when the check is on and the text parses: the scans are not free.
    guard Oracle.isOn("openai.fastpath"), JSONValue.parse(Data(text)) != nil else { return "openai.fastpath" }
    if hasLoneSurrogateEscape(text) { return "openai.fastpath-surrogates" }
    if hasDuplicateKeys(text) { return "openai.fastpath-duplicate-keys" }
    return "openai.fastpath"
}

/// When the one-pass path reads `data` as `Value`, the Codable decoder reads the same value.
private func agree<Value: FastWireValue>(_ type: Value.Type, _ data: Data) {
    let oracle = fastPathOracle(data)
    guard Oracle.isOn(oracle), let parsed = JSONValue.parse(data), let fast = Value(fastJSON: parsed) else { return }
    switch WireJSON.codableDecode(Value.self, from: data) {
    case .failure(let error):
        Oracle.require(
            oracle,
            false,
            "\(Value.self): the fast path read \(shown(String(decoding: data, as: UTF8.self))), Codable refused: \(error)"
        )
    case .success(let reference):
        Oracle.require(
            oracle,
            fast.jsonValue == reference.jsonValue,
            "\(Value.self): fast path \(shown(fast.jsonValue.jsonText)), Codable \(shown(reference.jsonValue.jsonText))"
        )
    }
}
