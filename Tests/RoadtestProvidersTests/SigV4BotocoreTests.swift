import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

/// Byte-for-byte equality with botocore 1.44.18's `SigV4Auth` on a Bedrock Converse request.
///
/// Expected values were printed by `scripts/botocore_sign.py` (botocore 1.44.18, boto3 1.44.18,
/// Python 3.11); re-run it after changing the request below. Bedrock Runtime signs as service
/// `bedrock` (botocore's service model `signingName`), not `bedrock-runtime`.
@Suite struct SigV4BotocoreTests {
    static let url =
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    static let body = Array(#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#.utf8)
    static let date = Date(timeIntervalSince1970: 1_714_566_896)  // 2024-05-01T12:34:56Z
    static let token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDEXAMPLE+/="

    static func signer(token: String?) -> SigV4Signer {
        SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: token
            ),
            region: "us-east-1",
            service: "bedrock"
        )
    }

    static func sign(token: String?) -> [(String, String)] {
        signer(token: token).signedHeaders(
            method: "POST",
            url: url,
            headers: [("Content-Type", "application/json")],
            body: body,
            date: date
        )
    }

    @Test func withoutSessionToken() {
        let headers = Self.sign(token: nil)
        #expect(headers.map(\.0) == ["X-Amz-Date", "Authorization"])
        #expect(headers[0].1 == "20240501T123456Z")
        #expect(
            headers[1].1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=882d656abe4928e1c12a3cb081df8628c83677164468395cb4f6987e8de30e03"
        )
    }

    @Test func withSessionToken() {
        let headers = Self.sign(token: Self.token)
        #expect(headers.map(\.0) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(headers[0].1 == "20240501T123456Z")
        #expect(headers[1].1 == Self.token)
        #expect(
            headers[2].1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
                + "Signature=f9fd8409c75f47fddc985e0045c7ca13e8521efd821a1e66a2588fa8a9506f0b"
        )
    }

    @Test func canonicalRequestAndStringToSign() {
        let signer = Self.signer(token: nil)
        let canonical = signer.canonicalRequest(
            method: "post",
            url: Self.url,
            headers: [("Content-Type", "application/json")],
            body: Self.body,
            date: Self.date
        )
        #expect(
            canonical == """
                POST
                /model/anthropic.claude-3-haiku-20240307-v1%253A0/converse

                content-type:application/json
                host:bedrock-runtime.us-east-1.amazonaws.com
                x-amz-date:20240501T123456Z

                content-type;host;x-amz-date
                7421da8d1a0949a481724fee62d5886aacde03836bf58248adb73e8b61ac0d54
                """
        )
        #expect(
            signer.stringToSign(canonicalRequest: canonical, date: Self.date) == """
                AWS4-HMAC-SHA256
                20240501T123456Z
                20240501/us-east-1/bedrock/aws4_request
                ba02c84cab873fce6966f7104cbde9feb0438dc437447f6bf44582de0041990c
                """
        )
    }

    /// A Foundation `URL` keeps its percent-encoding, so it signs identically to the string.
    @Test func urlOverloadMatchesString() throws {
        let url = try #require(URL(string: Self.url))
        let viaURL = Self.signer(token: Self.token).signedHeaders(
            method: "POST",
            url: url,
            headers: [("Content-Type", "application/json")],
            body: Data(Self.body),
            date: Self.date
        )
        #expect(viaURL.map(\.0) == Self.sign(token: Self.token).map(\.0))
        #expect(viaURL.map(\.1) == Self.sign(token: Self.token).map(\.1))
    }

    /// What boto3 1.44.18 sends for bedrock-runtime `converse`/`converse_stream`
    /// (scripts/botocore_bedrock_headers.py): Content-Type, User-Agent, X-Amz-Date,
    /// [X-Amz-Security-Token], Authorization, amz-sdk-invocation-id, amz-sdk-request, Content-Length,
    /// signing only content-type;host;x-amz-date[;x-amz-security-token]. Passing the same headers here
    /// must sign the same set: User-Agent is never signed, and the amz-sdk-* and Content-Length headers
    /// are added by botocore after signing, so they must be added after signing here too.
    @Test func userAgentIsNeverSigned() {
        let headers = Self.signer(token: nil).signedHeaders(
            method: "POST",
            url: Self.url,
            headers: [("Content-Type", "application/json"), ("User-Agent", "roadtest/1.0")],
            body: Self.body,
            date: Self.date
        )
        #expect(headers.map(\.1) == Self.sign(token: nil).map(\.1))
    }
}
