import Foundation
import RoadtestProviders
import RoadtestWire

/// Runs a provider's stream decoder over the input as its stream, framed as the format is (server-sent events, or
/// event-stream messages) and cut into chunks, then `decodeBody` over the input as a whole response body. Returns
/// every item, and calls `event` with each server-sent event (for the checks a target adds).
@discardableResult
public func exercise<Decoder: WireStreamDecoder>(
    _ type: Decoder.Type,
    _ input: FuzzInput,
    event: (ServerSentEvent) -> Void = { _ in }
) -> [StreamItem] {
    var decoder = Decoder()
    var items: [StreamItem] = []
    switch Decoder.framing {
    case .serverSentEvents:
        var parser = ServerSentEventParser()
        for range in input.chunks {
            for sent in parser.feed(input[range]) {
                event(sent)
                items += decoder.decode(sent)
            }
        }
        if let last = parser.finish() {
            event(last)
            items += decoder.decode(last)
        }
    case .eventStream:
        items += decodeEventStream(input.chunks.map { input[$0] }, with: &decoder)
    }
    items += Decoder.decodeBody(input.data)
    return items
}

/// Feeds the chunks to an `EventStreamDecoder` and each message it completes to `decoder`, until the end or the
/// first framing error (which ends the stream, as it ends a response).
public func decodeEventStream<Decoder: WireStreamDecoder, Chunk: Collection<UInt8>>(
    _ chunks: [Chunk],
    with decoder: inout Decoder
) -> [StreamItem] {
    var framing = EventStreamDecoder()
    var items: [StreamItem] = []
    do throws(EventStreamError) {
        for chunk in chunks {
            for message in try framing.feed(chunk) { items += decoder.decode(message) }
        }
        try framing.finish()
    } catch {
        items.append(.malformed(error.description))
    }
    return items
}
