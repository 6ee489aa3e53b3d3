import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Cases over time: each case's life over a suite's runs, and new cases from feedback.",
        subcommands: [CasesLifecycleCommand.self, CasesExportCommand.self],
        defaultSubcommand: CasesLifecycleCommand.self
    )
}

struct CasesExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write suite cases (JSONL) from feedback: the benchmark that updates from real usage.",
        discussion: """
            One case per rated output (its latest rating wins): the input as the prompt, the route (or the \
            candidate of a run's trial) as a tag, and a check: a correction or a good answer is expected \
            (`icontains` when it is six words or fewer, `similar` otherwise: the suite then needs an embeddings \
            candidate); a bad answer without a correction must not come back (`not-equals`). Use the file as \
            `- file: cases.jsonl` in a suite. Outputs whose input was not kept (see the policy's `bodies`) are \
            skipped and counted.
            """
    )

    @Option(name: .long, help: "Where the cases come from (feedback).")
    var from = "feedback"

    @Option(name: .long, help: "The JSONL file to write (- for standard output).")
    var out: String

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            guard from == "feedback" else {
                throw RoadtestError(.invalidArgument, "--from \(from): only feedback is supported")
            }
            let (feedback, subjects) = try await storeOptions.with { store in
                let feedback = try await store.feedback.allFeedback()
                var subjects: [String: FeedbackSubject] = [:]
                for subject in Set(feedback.map(\.subject)) {
                    if let found = try await store.feedback.feedbackSubject(subject) { subjects[subject] = found }
                }
                return (feedback, subjects)
            }
            let (cases, skipped) = FeedbackExport.cases(feedback: feedback, subjects: subjects)
            let text = cases.map(\.jsonText).joined(separator: "\n") + (cases.isEmpty ? "" : "\n")
            try ReportFile.write(Data(text.utf8), to: out)
            if out != "-" {
                printError(
                    "roadtest: wrote \(cases.count) case(s) to \(out)"
                        + (skipped > 0 ? "; \(skipped) rated output(s) skipped: their input was not kept" : "")
                )
            }
        }
    }
}

struct CasesLifecycleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycle",
        abstract: "The life of each case over a suite's recent runs: saturated, never passed, discriminating."
    )

    @Argument(help: "The suite file whose runs to read.")
    var suite: String

    @Option(name: .long, help: "How many of the latest finished runs to consider.")
    var runs = 5

    @Option(name: .long, help: "Write the case statuses as JSON (- for standard output).")
    var json: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            let report = try await storeOptions.with { try await $0.runs.caseLifecycle(suitePath: suite, runs: runs) }
            if json != "-" { FileHandle.standardOutput.write(Data(CaseLifecycleRenderer.terminal(report).utf8)) }
            if let json { try ReportFile.write(try CaseLifecycleRenderer.json(report), to: json) }
        }
    }
}
