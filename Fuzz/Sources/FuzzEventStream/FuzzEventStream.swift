import FuzzSupport
import RoadtestWire

/// `eventstream`: `EventStreamDecoder.feed` in chunks (boundaries derived from the input), then `finish()`. Errors
/// (typed throws) are expected; crashes are not. Properties: the outcome does not depend on where the stream was cut;
/// an error from `feed` is final (every later call throws it again); a decoded message re-encodes to bytes that decode to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    // A quarter of the inputs meet a small message limit, so that the limit is exercised too.
    let limit =
        input.hash & 3 == 0 ? 16 + Int((input.hash >> 2) % 1024) : EventStreamDecoder.defaultMaximumMessageLength

    var decoder = EventStreamDecoder(maximumMessageLength: limit)
    var messages: [EventStreamMessage] = []
    var failure: EventStreamError?
    var failedInFeed = false
    do throws(EventStreamError) {
        for range in input.chunks { messages += try decoder.feed(input[range]) }
    } catch {
        failure = error
        failedInFeed = true
    }
    if failure == nil {
        do throws(EventStreamError) { try decoder.finish() } catch { failure = error }
    }

    var whole = EventStreamDecoder(maximumMessageLength: limit)
    var reference: [EventStreamMessage] = []
    var referenceFailure: EventStreamError?
    do throws(EventStreamError) {
        reference = try whole.feed(input.bytes)
        try whole.finish()
    } catch {
        referenceFailure = error
    }

    Oracle.require(
        "eventstream.chunking",
        failure == referenceFailure,
        "fed in chunks: \(shown(failure as Any)); fed at once: \(shown(referenceFailure as Any))"
    )
    if referenceFailure == nil {
        Oracle.require(
            "eventstream.chunking",
            messages == reference,
            "\(messages.count) messages fed in chunks, \(reference.count) at once, or they differ"
        )
    }
    if let failure, failedInFeed {
        // The stream cannot be resynchronised: the decoder keeps failing with the same error (`finish()`'s
        // `.truncated` is a check, not a failure: more bytes may still complete the message).
        var again: EventStreamError?
        do throws(EventStreamError) { _ = try decoder.feed([0, 0, 0, 16]) } catch { again = error }
        Oracle.require("eventstream.sticky", again == failure, "after \(failure), feed threw \(shown(again as Any))")
    }

    for message in messages {
        var replay = EventStreamDecoder(maximumMessageLength: limit)
        var replayed: [EventStreamMessage] = []
        do throws(EventStreamError) {
            replayed = try replay.feed(message.encoded())
            try replay.finish()
        } catch {
            Oracle.require("eventstream.reencode", false, "a decoded message re-encoded fails to decode: \(error)")
        }
        Oracle.require("eventstream.reencode", replayed == [message], "a decoded message re-encoded decodes otherwise")
    }
    return 0
}
