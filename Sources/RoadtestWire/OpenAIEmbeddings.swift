import Foundation

/// OpenAI-compatible `/v1/embeddings` (also served by llama-server with `--embeddings`).
public enum OpenAIEmbeddings {
    public struct Request: Codable, Sendable, Hashable {
        public var model: String?
        public var input: [String]

        public init(model: String?, input: [String]) {
            self.model = model
            self.input = input
        }
    }

    public struct Response: Codable, Sendable, Hashable {
        public struct Item: Codable, Sendable, Hashable {
            public var index: Int?
            public var embedding: [Double]
        }

        public struct Usage: Codable, Sendable, Hashable {
            public var prompt_tokens: TokenCount?
        }

        public var data: [Item]
        public var usage: Usage?
    }
}
