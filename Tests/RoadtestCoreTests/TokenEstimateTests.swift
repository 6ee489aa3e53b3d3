import RoadtestCore
import Testing

/// Roadtest's own token estimate (used when a server reports no usage): words, and runs of anything else.
@Suite struct TokenEstimateTests {
    /// The estimate by Unicode properties alone: the definition the ASCII fast path must agree with.
    static func reference(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                inWord = false
            } else if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if !inWord { count += 1 }
                inWord = true
            } else {
                count += 1
                inWord = false
            }
        }
        return count
    }

    @Test func everyASCIICharacterIsClassedAsByItsUnicodeProperties() {
        for value in 0..<0x80 {
            let scalar = Unicode.Scalar(UInt8(value))
            for text in ["a\(scalar)b", "\(scalar)", "1\(scalar)\(scalar)x"] {
                #expect(ProviderResponse.estimateTokens(text) == Self.reference(text), "U+\(value)")
            }
        }
    }

    @Test func mixedTextCountsWordsAndPunctuation() {
        for text in ["Paris is the capital of France.", "naïve café, 東京 — ok!", "\u{A0}x\u{2003}y", "", "x1y2 3"] {
            #expect(ProviderResponse.estimateTokens(text) == Self.reference(text), "\(text)")
        }
        #expect(ProviderResponse.estimateTokens("Paris is the capital of France.") == 7)
    }
}
