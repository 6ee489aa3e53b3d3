import Foundation
import RoadtestCore
import Yams

// MARK: - Context

struct Context {
    let file: String
    let directory: URL
    var diagnostics: [SuiteDiagnostic] = []

    init(file: String, directory: URL) {
        self.file = file
        self.directory = directory
    }

    func location(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.line) }

    mutating func error(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(SuiteDiagnostic(location(node), message, hint: hint))
    }

    /// Reports keys not in `valid`, with the closest valid key.
    mutating func checkKeys(_ pairs: [Node.Pair], valid: [String], in what: String) {
        for pair in pairs where !valid.contains(pair.key) {
            diagnostics.append(
                SuiteDiagnostic(
                    SourceLocation(file: file, line: pair.keyLine),
                    "unknown key '\(pair.key)' in \(what)",
                    hint: Suggest.hint(for: pair.key, in: valid)
                )
            )
        }
    }

    // MARK: Suite

    mutating func suite(from root: Node) -> Suite? {
        guard case .mapping(let pairs, _) = root else {
            error(
                root,
                "the suite must be a mapping with 'name', 'candidates' and 'cases'",
                hint: "see the suite format in the README"
            )
            return nil
        }
        checkKeys(pairs, valid: Keys.suite, in: "the suite")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let name =
            fields["name"].flatMap { string($0, "name") }
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let description = fields["description"].flatMap { string($0, "description") }
        let defaults =
            fields["defaults"].map { settings(from: $0, in: "defaults", valid: Keys.settings + Keys.passThrough) }
            ?? Settings()
        let samples = fields["samples"].flatMap { positiveInt($0, "samples") } ?? 1

        var candidates: [Candidate] = []
        if let node = fields["candidates"] {
            if case .sequence(let items, _) = node {
                for item in items { if let candidate = candidate(from: item) { candidates.append(candidate) } }
                if items.isEmpty { error(node, "'candidates' is empty", hint: "add at least one candidate to compare") }
            } else {
                error(node, "'candidates' must be a list", hint: "write each candidate as '- id: ...'")
            }
        } else {
            error(root, "the suite has no 'candidates'", hint: "add a 'candidates:' list naming the models to compare")
        }
        var seenCandidates: [String: Int] = [:]
        for candidate in candidates {
            if seenCandidates[candidate.id] != nil {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: root.line),
                        "candidate id '\(candidate.id)' is used twice",
                        hint: "give each candidate a unique id"
                    )
                )
            }
            seenCandidates[candidate.id] = 1
        }
        if let node = fields["matrix"] { candidates = expandMatrix(node, candidates: candidates) }
        if let node = fields["candidates"] { checkFallbacks(candidates, node: node) }
        if !candidates.isEmpty, candidates.allSatisfy({ !$0.isScored }), let node = fields["candidates"] {
            error(
                node,
                "every candidate is a judge",
                hint: "a judge grades other candidates; add a candidate to evaluate"
            )
        }

        var cases = CaseList()
        if let node = fields["cases"] {
            if case .sequence(let items, _) = node {
                for (index, item) in items.enumerated() {
                    cases += caseEntries(from: item, index: index + 1)
                }
            } else {
                error(node, "'cases' must be a list", hint: "write each case as '- id: ...' or '- file: cases.jsonl'")
            }
        } else {
            error(root, "the suite has no 'cases'", hint: "add a 'cases:' list, inline or '- file: cases.jsonl'")
        }
        if let node = fields["cases"], case .sequence = node, cases.isEmpty, diagnostics.isEmpty {
            error(
                node,
                "the suite has no cases to run ('cases' is empty, or its files have no rows)",
                hint: "add at least one case: '- id: ..., prompt: ..., checks: [...]' or '- file: cases.jsonl'"
            )
        }
        // One pass over the cases (a large file's rows are read into cases on each pass): ids, and the cases the
        // checks below can find something in (every case when the defaults name tools).
        var seenCases: [String: Int] = [:]
        var drawing: [Case] = []
        // Candidates that cannot take an image or a document: the first case that attaches one says so.
        let textOnly = candidates.filter { $0.provider == .local && $0.isScored }
        var attachmentChecked = textOnly.isEmpty
        let allChecked = !cases.hasRows || defaults.tools != nil || defaults.toolResults != nil
        for (index, testCase) in cases.enumerated() {
            if let first = seenCases[testCase.id] {
                let location = cases[first].location
                diagnostics.append(
                    SuiteDiagnostic(
                        testCase.location,
                        "case id '\(testCase.id)' is used twice (first at \(location.map(\.description) ?? "?"))",
                        hint: "give each case a unique id"
                    )
                )
            } else {
                seenCases[testCase.id] = index
            }
            if !allChecked && Self.mayDrawDiagnostics(testCase) { drawing.append(testCase) }
            if !attachmentChecked, testCase.messages.contains(where: { $0.attachments?.isEmpty == false }) {
                attachmentChecked = true
                diagnostics.append(
                    SuiteDiagnostic(
                        testCase.location,
                        "case '\(testCase.id)' attaches files, which candidate '\(textOnly[0].id)' cannot take: the "
                            + "llama-server models Roadtest starts read text only",
                        hint: "leave the attachments out of this suite, or compare models that take images and PDFs"
                    )
                )
            }
        }
        seenCases = [:]
        let checked = allChecked ? cases : CaseList(drawing)

        let bars = fields["bars"].map { self.bars(from: $0) } ?? []
        let robustness = fields["robustness"].flatMap { self.robustness(from: $0) }
        var prompts: [String] = []
        if let node = fields["prompts"] {
            prompts = stringList(node, "prompts") ?? []
            if prompts.isEmpty {
                error(node, "'prompts' is empty", hint: "list alternative system prompts, or remove the key")
            }
        }

        // `similar` checks and votes by meaning need an embeddings candidate.
        let embedders = Set(candidates.filter(\.isEmbeddings).map(\.id))
        func checkEmbeddings(_ named: String?, at location: SourceLocation?, what: String) {
            if let named, !embedders.contains(named) {
                diagnostics.append(
                    SuiteDiagnostic(
                        location,
                        "\(what) names '\(named)', which is not an embeddings candidate",
                        hint: "add 'embeddings: true' to candidate '\(named)'"
                    )
                )
            } else if named == nil, embedders.isEmpty {
                diagnostics.append(
                    SuiteDiagnostic(
                        location,
                        "\(what) needs an embeddings candidate",
                        hint: "add a candidate with 'embeddings: true' (e.g. local: smollm2-135m-instruct)"
                    )
                )
            }
        }
        for testCase in checked {
            for check in testCase.checks {
                if case .similar(_, _, let named) = check.kind {
                    checkEmbeddings(named, at: testCase.location, what: "case '\(testCase.id)': check 'similar'")
                }
            }
        }
        for candidate in candidates {
            guard let strategy = candidate.strategy else { continue }
            if strategy.similar {
                checkEmbeddings(
                    strategy.embeddings,
                    at: SourceLocation(file: file, line: root.line),
                    what: "candidate '\(candidate.id)': 'similar: true'"
                )
            }
            if let verifier = strategy.verifier, case .similar(_, _, let named) = verifier.kind {
                checkEmbeddings(
                    named,
                    at: SourceLocation(file: file, line: root.line),
                    what: "candidate '\(candidate.id)': verifier"
                )
            }
        }

        // Judge checks need a judge.
        let judgeIDs = Set(candidates.filter(\.isJudge).map(\.id))
        for testCase in checked {
            for check in testCase.checks {
                guard case .judge(_, let named) = check.kind else { continue }
                if let named, !candidates.contains(where: { $0.id == named }) {
                    diagnostics.append(
                        SuiteDiagnostic(
                            testCase.location,
                            "judge '\(named)' is not a candidate",
                            hint: "add a candidate with 'judge: true' and id '\(named)'"
                        )
                    )
                } else if named == nil, judgeIDs.isEmpty {
                    diagnostics.append(
                        SuiteDiagnostic(
                            testCase.location,
                            "case '\(testCase.id)' has a judge check but the suite has no judge",
                            hint: "mark a candidate 'judge: true' or pass --judge ID"
                        )
                    )
                }
            }
        }

        // Recovery checks confirmed by a judge need one.
        for testCase in checked {
            for check in testCase.checks {
                switch check.kind {
                case .clarifies(let confirm?), .refuses(let confirm?), .abstains(let confirm?):
                    if confirm != "", !candidates.contains(where: { $0.id == confirm }) {
                        diagnostics.append(
                            SuiteDiagnostic(
                                testCase.location,
                                "judge '\(confirm)' is not a candidate",
                                hint: "add a candidate with 'judge: true' and id '\(confirm)'"
                            )
                        )
                    } else if confirm == "", judgeIDs.isEmpty {
                        diagnostics.append(
                            SuiteDiagnostic(
                                testCase.location,
                                "case '\(testCase.id)' asks a judge to confirm but the suite has no judge",
                                hint: "mark a candidate 'judge: true'"
                            )
                        )
                    }
                default: break
                }
            }
        }

        checkToolReferences(checked, defaults: defaults, candidates: candidates)
        for candidate in candidates where candidate.strategy != nil {
            let usesTools =
                !(defaults.overlaid(with: candidate.settings).tools ?? []).isEmpty
                || checked.contains { !($0.settings.tools ?? []).isEmpty }
            if usesTools {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: root.line),
                        "candidate '\(candidate.id)' has a sampling strategy, and the suite has tool-calling cases",
                        hint: "sampling strategies do not drive tool conversations yet; remove 'strategy' or the tools"
                    )
                )
            }
        }
        var suite = Suite(
            name: name,
            description: description,
            path: file,
            candidates: candidates,
            defaults: defaults,
            cases: cases,
            bars: bars,
            samples: samples,
            robustness: robustness,
            prompts: prompts
        )
        if let node = fields["attacks"], let config = attacks(from: node) {
            for (pack, reason) in suite.addAttacks(config).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                error(node, "attack pack '\(pack.rawValue)' has nothing to attack: \(reason)")
            }
        }
        return suite
    }
}

extension Context {
    /// Whether a case can draw one of the suite-wide diagnostics (embeddings, judges, tool names): a case with
    /// text checks only cannot.
    static func mayDrawDiagnostics(_ testCase: Case) -> Bool {
        if testCase.settings.tools != nil || testCase.settings.toolResults != nil || !testCase.forbiddenTools.isEmpty {
            return true
        }
        return testCase.checks.contains { check in
            switch check.kind {
            case .similar, .judge, .callsTool, .toolSequence: true
            case .clarifies(let confirm), .refuses(let confirm), .abstains(let confirm): confirm != nil
            default: false
            }
        }
    }
}
