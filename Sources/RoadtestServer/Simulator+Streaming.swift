import Foundation
import Hummingbird
import Logging
import NIOCore
import RoadtestCore
import Synchronization

extension Simulator {
    func stream(_ plan: Plan, to writer: inout any ResponseBodyWriter) async throws {
        let behavior = plan.behavior
        // Events that are due together leave in one write (a zero-latency answer is one write, as a real server
        // that has the whole answer sends it); an event that waits first sends what is pending.
        var pending = ByteBuffer(bytes: plan.wire(plan.openingEvents(), binary: plan.bedrockOpening()))
        func send(_ bytes: [UInt8], due: UInt64, to writer: inout any ResponseBodyWriter) async throws {
            if !behavior.freezes.isEmpty || due > Monotonic.now() {
                if pending.readableBytes > 0 {
                    try await writer.write(pending)
                    pending.clear()
                }
                await Self.sleep(until: due)
                await waitOutFreezes(behavior)
            }
            pending.writeBytes(bytes)
        }
        if !behavior.freezes.isEmpty {
            try await writer.write(pending)
            pending.clear()
        }
        await waitOutFreezes(behavior)
        for index in plan.reasoning.indices {
            let due = plan.serviceStart + UInt64(plan.reasoningDue(index) * 1e9)
            try await send(
                plan.wire(plan.reasoningEvent(index), binary: plan.bedrockReasoning(index)),
                due: due,
                to: &writer
            )
        }
        var first: UInt64?
        var last: UInt64?
        var sent = 0
        for index in plan.chunks.indices {
            if (plan.fault == .cut || plan.fault == .cutAbrupt) && index >= behavior.chunksBeforeCut { break }
            if plan.fault == .malformed && index >= 1 {
                pending.writeBytes(plan.wire("data: {\"choices\": [ {broken\n\n", binary: plan.bedrockCorrupted()))
                break
            }
            if plan.fault == .errorEvent && index >= 1 { break }
            let due =
                plan.serviceStart
                + UInt64((behavior.timeToFirstToken + Double(index) * behavior.interTokenLatency) * 1e9)
            try await send(
                plan.wire(plan.contentEvent(index), binary: plan.bedrockContent(index)),
                due: due,
                to: &writer
            )
            let now = Monotonic.now()
            if first == nil { first = now }
            last = now
            sent += 1
        }
        log(plan, first: first, last: last, sent: sent)
        if pending.readableBytes > 0 {
            // What a cut stream sent before the cut reaches the client before it.
            if plan.fault == .cut || plan.fault == .cutAbrupt || plan.fault == .malformed {
                try await writer.write(pending)
                pending.clear()
            }
        }
        switch plan.fault {
        case .cut:
            try await writer.finish(nil)
        case .cutAbrupt:
            throw CutStream()
        case .malformed:
            try await writer.finish(nil)
        case .errorEvent:
            pending.writeBytes(plan.wire(plan.errorEvent(), binary: plan.bedrockException()))
            try await writer.write(pending)
            try await writer.finish(nil)
        default:
            pending.writeBytes(plan.wire(plan.closingEvents(sent: sent), binary: plan.bedrockClosing(sent: sent)))
            try await writer.write(pending)
            try await writer.finish(nil)
        }
    }

    struct CutStream: Error {}

    // MARK: - State

    func nextFault(model: String, behavior: ModelBehavior) -> SimulatedFault {
        let index = state.withLock { state -> Int in
            let count = state.requestCounts[model, default: 0]
            state.requestCounts[model] = count + 1
            return count
        }
        guard !behavior.faults.isEmpty else { return .ok }
        if behavior.cyclesFaults { return behavior.faults[index % behavior.faults.count] }
        return index < behavior.faults.count ? behavior.faults[index] : .ok
    }

    /// The answer, or for a noisy model (`right=3/5`) the wrong one when this request falls past the right share of
    /// its block of identical prompts.
    func noisyAnswer(model: String, behavior: ModelBehavior, system: String?, lastUser: String) -> String {
        let answer = behavior.answer(system: system, lastUser: lastUser)
        guard let rightOf = behavior.rightOf else { return answer }
        let key = model + "\u{1F}" + lastUser
        let index = state.withLock { state -> Int in
            let count = state.promptCounts[key, default: 0]
            state.promptCounts[key] = count + 1
            return count
        }
        if index % rightOf.of < rightOf.right { return answer }
        return behavior.wrongReply == "distinct" ? "wrong answer \(index)" : behavior.wrongReply
    }

    func slotPool(model: String, capacity: Int?) -> SlotPool? {
        guard let capacity else { return nil }
        return state.withLock { state in
            if let pool = state.slots[model] { return pool }
            let pool = SlotPool(capacity: capacity)
            state.slots[model] = pool
            return pool
        }
    }

    func log(_ plan: Plan, first: UInt64?, last: UInt64?, sent: Int) {
        let entry = ServedRequest(
            model: plan.model,
            fault: plan.fault.rawValue,
            receivedAt: plan.receivedAt,
            firstContentAt: first,
            lastContentAt: last,
            chunks: sent
        )
        state.withLock { state in
            if state.log.count >= 100_000 { state.log.removeFirst(10_000) }
            state.log.append(entry)
        }
    }

    func waitOutFreezes(_ behavior: ModelBehavior) async {
        for freeze in behavior.freezes {
            let start = startedAt + UInt64(freeze.at * 1e9)
            let end = start + UInt64(freeze.duration * 1e9)
            let now = Monotonic.now()
            if now >= start && now < end { await Self.sleep(until: end) }
        }
    }

    static func sleep(until deadline: UInt64) async {
        let now = Monotonic.now()
        guard deadline > now else { return }
        try? await Task.sleep(nanoseconds: deadline - now)
    }

    static func format(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
    }

    static func text(of content: JSONValue?) -> String? {
        switch content {
        case .string(let text): return text
        case .array(let parts): return parts.compactMap { $0["text"]?.stringValue }.joined()
        default: return nil
        }
    }

    /// Splits an answer into stream chunks: one per word, keeping the space after it.
    static func chunks(of answer: String) -> [String] {
        var chunks: [String] = []
        var current = ""
        for character in answer {
            current.append(character)
            if character == " " || character == "\n" {
                chunks.append(current)
                current = ""
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
