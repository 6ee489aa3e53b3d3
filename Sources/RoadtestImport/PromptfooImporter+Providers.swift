import Foundation
import RoadtestCore

extension PromptfooConversion {
    // MARK: - Providers

    /// A candidate from a promptfoo provider: `openai:chat:MODEL` (or `openai:MODEL`), `anthropic:messages:MODEL`,
    /// `ollama:chat:MODEL` (its OpenAI-compatible endpoint), an `http` provider whose URL is a chat completions
    /// endpoint, each as text or as `{id, label, config}` (or `{PROVIDER_ID: {config}}`). OpenAI candidates name no
    /// `base_url` unless the config does, so `OPENAI_BASE_URL` applies as it does for the official SDK.
    mutating func candidate(from node: SourceNode, isJudge: Bool) -> [YAMLEntry]? {
        var providerID: String
        var label: String?
        var config: SourceNode?
        if let text = node.string {
            providerID = text
        } else if let id = node["id"]?.string {
            providerID = id
            label = node["label"]?.string
            config = node["config"]
        } else if let pairs = node.pairs, pairs.count == 1 {
            providerID = pairs[0].key
            label = pairs[0].value["label"]?.string
            config = pairs[0].value["config"]
        } else {
            notCarried("provider", node, "a provider must be an id like openai:gpt-4o-mini or {id, config}")
            return nil
        }
        var entries: [YAMLEntry] = []
        var model: String?
        let parts = providerID.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let family = parts[0]
        func modelName(_ kinds: [String]) -> String? {
            if parts.count == 3, kinds.contains(parts[1]) { return parts[2] }
            if parts.count == 2 { return parts[1] }
            if parts.count == 3 { return nil }
            return nil
        }
        switch family {
        case "openai":
            if parts.count == 3, parts[1] == "responses" {
                entries.append(YAMLEntry("provider", .string("openai-responses")))
                model = parts[2]
            } else {
                guard let name = modelName(["chat"]) else {
                    notCarried(
                        "provider \(family)",
                        node,
                        "\(providerID): only OpenAI chat and responses models are carried"
                    )
                    return nil
                }
                entries.append(YAMLEntry("provider", .string("openai")))
                model = name
            }
            entries.append(YAMLEntry("model", .string(model!)))
            entries.append(YAMLEntry("api_key_env", .string(config?["apiKeyEnvar"]?.string ?? "OPENAI_API_KEY")))
            if let base = config?["apiBaseUrl"]?.string {
                entries.append(YAMLEntry("base_url", .string(base)))
            } else if let host = config?["apiHost"]?.string {
                entries.append(YAMLEntry("base_url", .string("https://\(host)/v1")))
            }
        case "anthropic":
            guard let name = modelName(["messages"]) else {
                notCarried("provider \(family)", node, "\(providerID): only Anthropic messages models are carried")
                return nil
            }
            model = name
            entries += [
                YAMLEntry("provider", .string("anthropic")), YAMLEntry("model", .string(name)),
                YAMLEntry("api_key_env", .string(config?["apiKeyEnvar"]?.string ?? "ANTHROPIC_API_KEY")),
            ]
            if let base = config?["apiBaseUrl"]?.string { entries.append(YAMLEntry("base_url", .string(base))) }
        case "ollama":
            guard let name = modelName(["chat"]) else {
                notCarried("provider \(family)", node, "\(providerID): only Ollama chat models are carried")
                return nil
            }
            model = name
            // Ollama's OpenAI-compatible endpoint; OLLAMA_BASE_URL in promptfoo names the server without /v1.
            let base = (config?["apiBaseUrl"]?.string).map { $0.hasSuffix("/v1") ? $0 : $0 + "/v1" }
            entries += [
                YAMLEntry("provider", .string("openai")),
                YAMLEntry("base_url", .string(base ?? "http://localhost:11434/v1")),
                YAMLEntry("model", .string(name)),
            ]
        case "http", "https", "webhook":
            guard let url = config?["url"]?.string ?? (family == "http" ? nil : providerID),
                url.hasSuffix("/chat/completions"), let bodyModel = config?["body"]?["model"]?.string
            else {
                notCarried(
                    "provider http",
                    node,
                    "an HTTP provider is carried only when its url is an OpenAI-compatible /chat/completions "
                        + "endpoint and its body names the model; write a 'command' candidate for other APIs"
                )
                return nil
            }
            model = bodyModel
            entries += [
                YAMLEntry("provider", .string("openai")),
                YAMLEntry("base_url", .string(String(url.dropLast("/chat/completions".count)))),
                YAMLEntry("model", .string(bodyModel)),
            ]
            suite.findings.append(
                ImportFinding(
                    .approximated,
                    type: "provider http",
                    at: location(node),
                    "sent as an OpenAI chat request, not from its body template"
                )
            )
            if let headers = config?["headers"]?.pairs {
                let kept = headers.filter { !["authorization", "content-type"].contains($0.key.lowercased()) }
                if kept.count < headers.count {
                    notCarried("provider option headers", node, "credential headers are not written; use api_key_env")
                }
                if !kept.isEmpty {
                    entries.append(
                        YAMLEntry("headers", .map(kept.map { YAMLEntry($0.key, .string($0.value.varText)) }))
                    )
                }
            }
        default:
            notCarried("provider \(family)", node, "\(providerID): Roadtest cannot carry this provider")
            return nil
        }
        if !isJudge {
            entries += settings(from: config, family: family, node: node)
        }
        let id = Identifier.unique(
            Identifier.slug(label ?? model ?? family, fallback: family),
            in: &takenCandidateIDs
        )
        return [YAMLEntry("id", .string(id))] + entries
    }

    /// The request settings of a provider's config; options Roadtest has no key for are findings.
    mutating func settings(from config: SourceNode?, family: String, node: SourceNode) -> [YAMLEntry] {
        guard let pairs = config?.pairs else { return [] }
        var entries: [YAMLEntry] = []
        let handled: Set<String> = ["apiBaseUrl", "apiHost", "apiKeyEnvar", "url", "body", "headers", "method"]
        let mapped: [String: String] = [
            "temperature": "temperature", "max_tokens": "max_tokens", "top_p": "top_p", "seed": "seed",
            "stop": "stop", "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty",
            "response_format": "response_format", "top_k": "top_k", "num_predict": "max_tokens",
            "max_completion_tokens": "max_tokens",
        ]
        for (key, value) in pairs.sorted(by: { $0.key < $1.key }) where !handled.contains(key) {
            let numeric: Set<String> = [
                "temperature", "max_tokens", "top_p", "seed", "top_k", "presence_penalty", "frequency_penalty",
            ]
            if let name = mapped[key] {
                if numeric.contains(name), value.double == nil {
                    notCarried("provider option \(key)", value, "'\(key)' is not a number")
                    continue
                }
                entries.append(YAMLEntry(name, YAMLValue(json: value.json)))
            } else if key == "apiKey" {
                notCarried("provider option apiKey", value, "a key is never written into a suite; use api_key_env")
            } else {
                notCarried("provider option \(key)", value, "\(family) option '\(key)' has no Roadtest candidate key")
            }
        }
        return entries
    }
}
