import FuzzSupport
import RoadtestWire

/// `sse`: `ServerSentEventParser` fed the input in chunks (boundaries derived from the input), then `finish()`.
/// Property: the events do not depend on where the stream was cut (the same as one `feed` of the whole input).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    var parser = ServerSentEventParser()
    var events: [ServerSentEvent] = []
    for (position, range) in input.chunks.enumerated() {
        // Every other chunk as a sequence without contiguous storage, the parser's copying path.
        if position % 2 == 0 {
            events += parser.feed(input[range])
        } else {
            events += parser.feed(input[range].lazy.map { $0 })
        }
    }
    let pending = parser.hasPendingData
    if let last = parser.finish() { events.append(last) }

    var whole = ServerSentEventParser()
    var reference = whole.feed(input.bytes)
    Oracle.require(
        "sse.chunking",
        pending == whole.hasPendingData,
        "pending data \(pending) fed in chunks, \(whole.hasPendingData) at once"
    )
    if let last = whole.finish() { reference.append(last) }
    Oracle.require(
        "sse.chunking",
        events == reference,
        "events fed in chunks \(shown(events)) differ from the events fed at once \(shown(reference))"
    )
    Oracle.require("sse.finish", !parser.hasPendingData, "data still pending after finish()")
    return 0
}
