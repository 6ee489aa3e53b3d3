import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestImport
import RoadtestReport

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write a Roadtest suite from a promptfoo config, an OpenAI eval or an Inspect dataset.",
        discussion: """
            The suite is written to --out and read back by Roadtest's loader before it is. Then a summary: cases, \
            checks carried by type, and every check or setting not carried, by type with file:line (warnings: \
            the exit status is still 0). Unreadable input exits 1 with file:line.
            """,
        subcommands: [ImportPromptfooCommand.self, ImportOpenAIEvalsCommand.self, ImportInspectCommand.self]
    )
}

/// Options every importer takes.
struct ImportOutputOptions: ParsableArguments {
    @Option(name: .long, help: "The suite file to write (- for standard output).")
    var out: String

    /// Writes the suite and prints the summary (to standard error when the suite goes to standard output). The
    /// source itself is never overwritten.
    func write(_ suite: ImportedSuite, from source: String) throws {
        let resolve = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        if out != "-", resolve(out) == resolve(source) {
            throw ValidationError("--out \(out) is the file being imported; write the suite to another file")
        }
        let text = try SuiteWriter().checkedYAML(for: suite, path: out == "-" ? "imported.yaml" : out)
        try ReportFile.write(Data(text.utf8), to: out)
        let summary = suite.summary(writtenTo: out == "-" ? "standard output" : out)
        if out == "-" { printError(summary) } else { print(summary) }
    }
}

struct ImportPromptfooCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promptfoo",
        abstract: "Import a promptfoo config: prompts x tests x vars as cases, providers as candidates."
    )

    @Argument(help: "The promptfoo config (promptfooconfig.yaml).")
    var config: String

    @OptionGroup var output: ImportOutputOptions

    func run() async throws {
        try await withUserFacingErrors {
            try output.write(try PromptfooImporter().convert(configAt: config), from: config)
        }
    }
}

struct ImportOpenAIEvalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openai-evals",
        abstract: "Import an OpenAI eval (the Evals API object) and its data-source items."
    )

    @Argument(help: "The eval as JSON (GET /v1/evals/{id}; a 'data_source' from a run adds its prompt and model).")
    var eval: String

    @Option(name: .long, help: "The items (JSONL: {\"item\": {...}} lines or plain objects).")
    var data: String?

    @Option(name: .long, help: "The user prompt when the file has no run template, e.g. 'Classify: {{item.text}}'.")
    var prompt: String?

    @Option(name: .long, help: "The candidate's model when the file names none.")
    var model: String?

    @OptionGroup var output: ImportOutputOptions

    func run() async throws {
        try await withUserFacingErrors {
            let importer = OpenAIEvalsImporter(dataPath: data, prompt: prompt, model: model)
            try output.write(try importer.convert(evalAt: eval), from: eval)
        }
    }
}

struct ImportInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Import an Inspect AI dataset (JSONL or CSV samples: input, target, choices, id, metadata)."
    )

    @Argument(help: "The dataset (.jsonl, .json or .csv).")
    var dataset: String

    @Option(name: .long, help: "The candidate's model (the dataset names none).")
    var model: String?

    @OptionGroup var output: ImportOutputOptions

    func run() async throws {
        try await withUserFacingErrors {
            try output.write(try InspectImporter(model: model).convert(datasetAt: dataset), from: dataset)
        }
    }
}
