import Foundation

extension CandidateTally {
    /// One case's counts: kept for every case of a run, so kept small (40 bytes; a million-case run's table is
    /// two million of these and their ids).
    struct CaseTally: Sendable {
        private var storedTrials: Int32 = 0
        private var storedPassed: Int32 = 0
        var tags: [String] = []
        /// Each trial's answer key and verdict, by sample, for majority@k.
        var votes = Votes()

        init(tags: [String]) {
            self.tags = tags
        }

        var trials: Int {
            get { Int(storedTrials) }
            set { storedTrials = Int32(clamping: newValue) }
        }

        var passed: Int {
            get { Int(storedPassed) }
            set { storedPassed = Int32(clamping: newValue) }
        }

        mutating func add(sample: Int, key: String?, passed: Bool) {
            storedTrials += 1
            if passed { storedPassed += 1 }
            votes.set(sample: sample, key: key, passed: passed)
        }
    }

    /// A case's votes by sample. The first is held inline, its answer key as a number when it is one (16 hex
    /// digits, as `AnswerSelection.answerKey` writes them): a million single-sample cases cost no allocation each.
    /// Any other vote, or a key of another form, goes to `more` (copied before it is changed when shared).
    struct Votes: Sendable {
        final class More: @unchecked Sendable {
            var firstKey: String?
            var votes: [Int: (key: String?, passed: Bool)] = [:]

            func copy() -> More {
                let copy = More()
                copy.firstKey = firstKey
                copy.votes = votes
                return copy
            }
        }

        private var firstHex: UInt64 = 0
        private var more: More?
        /// -1 until the first vote.
        private var firstSample: Int32 = -1
        private var firstPassed = false
        /// How the first vote's key is held: 0 none, 1 `firstHex`, 2 `more.firstKey`.
        private var firstKeyForm: UInt8 = 0

        var count: Int { (firstSample < 0 ? 0 : 1) + (more?.votes.count ?? 0) }

        mutating func set(sample: Int, key: String?, passed: Bool) {
            if firstSample < 0 || Int(firstSample) == sample {
                firstSample = Int32(clamping: sample)
                firstPassed = passed
                if let key, key.utf8.count == 16,
                    key.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
                    let value = UInt64(key, radix: 16)
                {
                    firstKeyForm = 1
                    firstHex = value
                } else if let key {
                    firstKeyForm = 2
                    uniqueMore().firstKey = key
                } else {
                    firstKeyForm = 0
                }
            } else {
                uniqueMore().votes[sample] = (key, passed)
            }
        }

        private mutating func uniqueMore() -> More {
            if more == nil {
                more = More()
            } else if !isKnownUniquelyReferenced(&more!) {
                more = more!.copy()
            }
            return more!
        }

        private var firstKey: String? {
            switch firstKeyForm {
            case 1:
                return firstHex.hex16
            case 2: return more?.firstKey
            default: return nil
            }
        }

        /// The votes in sample order.
        var inOrder: [(key: String?, passed: Bool)] {
            var all = (more?.votes ?? [:]).map { (sample: $0.key, vote: $0.value) }
            if firstSample >= 0 { all.append((Int(firstSample), (firstKey, firstPassed))) }
            return all.sorted { $0.sample < $1.sample }.map(\.vote)
        }
    }

    struct Count: Sendable {
        var trials = 0
        var passed = 0

        mutating func add(_ passed: Bool) {
            trials += 1
            if passed { self.passed += 1 }
        }

        var rate: Double { trials > 0 ? Double(passed) / Double(trials) : 0 }
    }
}
