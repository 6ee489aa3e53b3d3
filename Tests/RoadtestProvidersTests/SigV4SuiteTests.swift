import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

/// One case of the AWS SigV4 test suite (see SigV4SuiteVectors.swift).
struct SigV4SuiteVector: Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    /// Scheme and host plus the request-line target exactly as in the suite's request.txt, which
    /// for some cases holds a raw space or UTF-8 (what botocore's signer sees for such a path).
    var url: String
    var headers: [(String, String)]
    var body: String
    var sessionToken: String?
    var signsBody: Bool
    var canonicalRequest: String
    var stringToSign: String
    var authorization: String

    var testDescription: String { name }
}

/// Checks the signer against the AWS test suite as vendored (and kept current) by
/// awslabs/aws-c-auth: canonical request, string to sign and `Authorization` for each case.
@Suite struct SigV4SuiteTests {
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static func signer(for vector: SigV4SuiteVector) -> SigV4Signer {
        SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: vector.sessionToken
            ),
            region: "us-east-1",
            service: "service",
            includesContentSHA256Header: vector.signsBody
        )
    }

    @Test(arguments: sigV4SuiteVectors)
    func vector(_ vector: SigV4SuiteVector) {
        let signer = Self.signer(for: vector)
        let body = Array(vector.body.utf8)
        let canonical = signer.canonicalRequest(
            method: vector.method,
            url: vector.url,
            headers: vector.headers,
            body: body,
            date: Self.date
        )
        #expect(canonical == vector.canonicalRequest)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, date: Self.date)
        #expect(stringToSign == vector.stringToSign)

        let added = signer.signedHeaders(
            method: vector.method,
            url: vector.url,
            headers: vector.headers,
            body: body,
            date: Self.date
        )
        let signature = signer.signature(stringToSign: stringToSign, date: Self.date)
        #expect(vector.authorization.hasSuffix("Signature=\(signature)"))
        var expectedNames = ["X-Amz-Date"]
        if vector.sessionToken != nil { expectedNames.append("X-Amz-Security-Token") }
        if vector.signsBody { expectedNames.append("X-Amz-Content-SHA256") }
        expectedNames.append("Authorization")
        #expect(added.map(\.0) == expectedNames)
        #expect(added.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z")
        #expect(added.first { $0.0 == "Authorization" }?.1 == vector.authorization)
        #expect(added.first { $0.0 == "X-Amz-Security-Token" }?.1 == vector.sessionToken)
    }

    /// Guards against the vector file being cut down by accident.
    @Test func coversTheRequiredCases() {
        let names = Set(sigV4SuiteVectors.map(\.name))
        #expect(sigV4SuiteVectors.count == 31)
        let required = [
            "get-vanilla", "get-vanilla-query-order-key-case", "get-header-value-trim", "get-header-key-duplicate",
            "get-header-value-multiline", "post-x-www-form-urlencoded", "get-vanilla-with-session-token",
            "post-sts-header-before", "get-space-normalized", "get-utf8", "get-unreserved",
            "get-vanilla-utf8-query", "get-vanilla-query-order-encoded", "get-slashes-normalized",
            "get-relative-relative-normalized",
        ]
        for name in required {
            #expect(names.contains(name), "missing \(name)")
        }
    }
}
