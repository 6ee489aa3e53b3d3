import FuzzSupport
import RoadtestProviders
import RoadtestWire

/// `bedrock`: `BedrockStreamDecoder` on event-stream messages, and `decodeBody` over the input as a Converse body.
///
/// Each input is read two ways. As raw event-stream bytes (captured streams; a mutation rarely keeps both CRCs
/// right, so this mostly exercises the framing's refusals). And as a script of messages, one a line, which the target
/// frames itself with valid checksums, so that mutations reach the decoder's JSON and header handling:
///
///     contentBlockDelta {"contentBlockIndex":0,"delta":{"text":"Hi"}}    an event (`:event-type`)
///     !throttlingException {"message":"slow down"}                      an exception (`:exception-type`)
///     ?InternalFailure boom                                             an error (`:error-code`, `:error-message`)
///
/// The framed messages are fed in chunks cut where the input's hash says.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    exercise(BedrockStreamDecoder.self, input)

    var stream: [UInt8] = []
    for line in input.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
        let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<space], as: UTF8.self)
        let payload = Array(line[min(space + 1, line.endIndex)...])
        let message = String(decoding: payload, as: UTF8.self)
        // A header name or string value the format cannot carry is a line the script cannot frame.
        guard name.utf8.count <= 255, message.utf8.count <= Int(UInt16.max) else { continue }
        var headers: [String: EventStreamHeaderValue] = [":content-type": .string("application/json")]
        switch name.first {
        case "!":
            headers[":message-type"] = .string("exception")
            headers[":exception-type"] = .string(String(name.dropFirst()))
        case "?":
            headers[":message-type"] = .string("error")
            headers[":error-code"] = .string(String(name.dropFirst()))
            headers[":error-message"] = .string(message)
        default:
            headers[":message-type"] = .string("event")
            headers[":event-type"] = .string(name)
        }
        stream += EventStreamMessage(headers: headers, payload: payload).encoded()
    }
    var random = SplitMix64(seed: input.hash)
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    while start < stream.count {
        let end = min(stream.count, start + Int(random.next() % 97))
        chunks.append(stream[start..<end])
        start = end
    }
    var decoder = BedrockStreamDecoder()
    _ = decodeEventStream(chunks, with: &decoder)
    return 0
}
