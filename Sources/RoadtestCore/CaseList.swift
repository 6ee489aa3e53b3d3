import Foundation

/// A suite's cases, in order. Cases written in a suite, or read from a file of modest size, are held as values; a
/// large JSONL file's cases are held as the file's bytes and each row's place in it (`CaseRows`), and each is made
/// into a `Case` when it is read. A million-case suite then costs its file and some bytes per case, not a parsed
/// value per case, while everything that reads cases (the runner, the store, validation) reads them the same way.
public struct CaseList: RandomAccessCollection, MutableCollection, Sendable, Hashable, Codable,
    ExpressibleByArrayLiteral
{
    enum Segment: Sendable {
        case values([Case])
        case rows(CaseRows)

        var count: Int {
            switch self {
            case .values(let cases): cases.count
            case .rows(let rows): rows.count
            }
        }
    }

    private var segments: [Segment] = []
    /// Where each segment ends: its last index plus one.
    private var ends: [Int] = []

    public init() {}

    public init(_ cases: [Case]) {
        if !cases.isEmpty { append(segment: .values(cases)) }
    }

    public init(arrayLiteral cases: Case...) {
        self.init(cases)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.last ?? 0 }

    public subscript(position: Int) -> Case {
        get { read(position) }
        set {
            let (segment, offset) = locate(position)
            switch segments[segment] {
            case .values(var cases):
                segments[segment] = .values([])
                cases[offset] = newValue
                segments[segment] = .values(cases)
            case .rows(let rows):
                // An edited row becomes a value: the file's segment is read into values (tests edit cases; runs
                // do not).
                var cases = (0..<rows.count).map(rows.testCase(at:))
                cases[offset] = newValue
                segments[segment] = .values(cases)
            }
        }
    }

    private func read(_ position: Int) -> Case {
        let (segment, offset) = locate(position)
        switch segments[segment] {
        case .values(let cases): return cases[offset]
        case .rows(let rows): return rows.testCase(at: offset)
        }
    }

    /// The segment holding `position`, and the position within it.
    private func locate(_ position: Int) -> (segment: Int, offset: Int) {
        precondition(position >= 0 && position < endIndex, "case index \(position) out of range")
        // The first segment that ends after `position` (a binary search: a suite can list many files).
        var low = 0
        var high = ends.count - 1
        while low < high {
            let middle = (low + high) / 2
            if ends[middle] <= position { low = middle + 1 } else { high = middle }
        }
        return (low, position - (low == 0 ? 0 : ends[low - 1]))
    }

    /// Whether the list holds rows made into cases on each read (a large JSONL file).
    public var hasRows: Bool {
        segments.contains { if case .rows = $0 { true } else { false } }
    }

    public mutating func append(_ testCase: Case) {
        if case .values(var cases) = segments.last {
            segments[segments.count - 1] = .values([])
            cases.append(testCase)
            segments[segments.count - 1] = .values(cases)
            ends[ends.count - 1] += 1
        } else {
            append(segment: .values([testCase]))
        }
    }

    public mutating func append(contentsOf cases: some Sequence<Case>) {
        for testCase in cases { append(testCase) }
    }

    public mutating func append(contentsOf other: CaseList) {
        for segment in other.segments {
            switch segment {
            // A file's cases join as a segment of their own (not copied); a few cases join the last segment.
            case .values(let cases) where cases.count >= 256 || segments.isEmpty: append(segment: .values(cases))
            case .values(let cases): append(contentsOf: cases)
            case .rows(let rows): append(rows: rows)
            }
        }
    }

    /// Appends a large file's rows, read as cases when each is read.
    public mutating func append(rows: CaseRows) {
        if rows.count > 0 { append(segment: .rows(rows)) }
    }

    private mutating func append(segment: Segment) {
        segments.append(segment)
        ends.append(endIndex + segment.count)
    }

    public static func += (list: inout CaseList, cases: some Sequence<Case>) {
        list.append(contentsOf: cases)
    }

    public static func += (list: inout CaseList, other: CaseList) {
        list.append(contentsOf: other)
    }

    /// Removes every case derived by a security drill (`attack` set). Those are held as values only, so a large
    /// file's rows are never read for this.
    public mutating func removeAttacks() {
        var kept = CaseList()
        for segment in segments {
            switch segment {
            case .values(let cases): kept.append(contentsOf: cases.filter { $0.attack == nil })
            case .rows(let rows): kept.append(rows: rows)
            }
        }
        self = kept
    }

    public static func == (left: CaseList, right: CaseList) -> Bool {
        left.count == right.count && left.elementsEqual(right)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [Case](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for testCase in self { try container.encode(testCase) }
    }
}

/// A large JSONL file's cases: its bytes and each case row's place and line, made into a `Case` on each read by
/// `make` (the loader's own row reader, which checked every row when the suite was loaded).
public final class CaseRows: Sendable {
    /// The file's text (a native string's UTF-8 is read in place).
    private let text: String
    private let starts: [Int]
    private let lengths: [Int32]
    private let lines: [Int32]
    private let make: @Sendable (UnsafeBufferPointer<UInt8>, Int) -> Case?

    /// `rows`: each case row's range of `text`'s UTF-8 bytes and its 1-based line.
    public init(
        text: String,
        rows: [(start: Int, length: Int, line: Int)],
        make: @escaping @Sendable (UnsafeBufferPointer<UInt8>, Int) -> Case?
    ) {
        self.text = text
        starts = rows.map(\.start)
        lengths = rows.map { Int32($0.length) }
        lines = rows.map { Int32($0.line) }
        self.make = make
    }

    public var count: Int { starts.count }

    func testCase(at index: Int) -> Case {
        let start = starts[index]
        let end = start + Int(lengths[index])
        let line = Int(lines[index])
        let make = self.make
        let read = { (buffer: UnsafeBufferPointer<UInt8>) in
            make(UnsafeBufferPointer(rebasing: buffer[start..<end]), line)
        }
        let made = text.utf8.withContiguousStorageIfAvailable(read) ?? Array(text.utf8).withUnsafeBufferPointer(read)
        guard let made else {
            // The row was read into a case when the suite was loaded, by the same reader: it cannot fail now.
            preconditionFailure("case row at line \(line) no longer reads as a case")
        }
        return made
    }
}
