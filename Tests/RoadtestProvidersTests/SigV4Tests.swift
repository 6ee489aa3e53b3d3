import Crypto
import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

@Suite struct SigV4Tests {
    static let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET"),
        region: "eu-west-1",
        service: "bedrock"
    )
    static let date = Date(timeIntervalSince1970: 1_709_164_800.75)  // 2024-02-29T00:00:00.75Z

    static func canonical(_ url: String, headers: [(String, String)] = []) -> String {
        signer.canonicalRequest(method: "GET", url: url, headers: headers, body: [UInt8](), date: date)
    }

    // MARK: Credentials

    @Test func credentialsFromEnvironment() {
        let full = AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
        ])
        #expect(full == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))
        let noToken = AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "",
        ])
        #expect(noToken?.sessionToken == nil)
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"]) == nil)
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "S"]) == nil)
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": ""]) == nil)
        #expect(AWSCredentials.fromEnvironment([:]) == nil)
    }

    @Test func descriptionRedactsSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN")
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(text.contains("AKID"))
            #expect(!text.contains("SECRET"))
            #expect(!text.contains("TOKEN"))
        }
    }

    // MARK: Canonical parts

    @Test(arguments: [
        (
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"
        ),
        (
            "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        ),
        ("", "/"),
        ("/", "/"),
        ("//a//b//", "/a/b/"),
        ("/a/./b/../c", "/a/c"),
        ("/..", "/"),
        ("/a b/~x+y=z", "/a%20b/~x%2By%3Dz"),
        ("/caf\u{E9}", "/caf%C3%A9"),
        // Split on code points like Python, even where "/" and a combining mark form one Character.
        ("/a/\u{301}b/", "/a/%CC%81b/"),
        ("/\u{301}", "/%CC%81"),
    ])
    func canonicalURI(path: String, expected: String) {
        #expect(SigV4Signer.canonicalURI(path: path) == expected)
    }

    @Test(arguments: [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=10", "a=1&a=10&a=2"),
        ("flag", "flag="),
        ("k=a%2fb", "k=a%2Fb"),
        ("k=a/b+c d", "k=a%2Fb%2Bc%20d"),
        ("k=%zz", "k=%25zz"),
        ("%E1%88%B4=1&Z=2&a=3", "%E1%88%B4=1&Z=2&a=3"),
        ("x=1=2", "x=1%3D2"),
    ])
    func canonicalQueryString(query: String, expected: String) {
        #expect(SigV4Signer.canonicalQueryString(query: query) == expected)
    }

    @Test func canonicalHeaderValue() {
        #expect(SigV4Signer.canonicalHeaderValue("  a   b\t\tc \r\n d  ") == "a b c d")
        #expect(SigV4Signer.canonicalHeaderValue("") == "")
        #expect(SigV4Signer.canonicalHeaderValue("a\u{1F}b") == "a b")
        #expect(SigV4Signer.canonicalHeaderValue("a  \u{301}b") == "a \u{301}b")
    }

    @Test(arguments: [
        ("https://Example.COM/", "example.com"),
        ("https://example.com:443/", "example.com"),
        ("https://example.com:8443/x", "example.com:8443"),
        ("http://example.com:80/", "example.com"),
        ("http://example.com:443/", "example.com:443"),
        ("https://user:pw@example.com/", "example.com"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://[::1]/", "[::1]"),
        ("http://127.0.0.1:4566?x=1", "127.0.0.1:4566"),
    ])
    func hostHeaderFromURL(url: String, expected: String) {
        #expect(SplitURL(url).hostHeader == expected)
    }

    @Test func splitURL() {
        let parts = SplitURL("HTTPS://h:1/p/a%3Ab?q=1&r#frag?x")
        #expect(parts.scheme == "https")
        #expect(parts.netloc == "h:1")
        #expect(parts.path == "/p/a%3Ab")
        #expect(parts.query == "q=1&r")
        #expect(SplitURL("https://h?x").path == "")
        #expect(SplitURL("https://h/?\u{301}=1").query == "\u{301}=1")
    }

    @Test func timestamps() {
        #expect(SigV4Timestamp.dateTime(Self.date) == "20240229T000000Z")
        #expect(SigV4Timestamp.dateTime(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Timestamp.dateTime(Date(timeIntervalSince1970: 951_868_799)) == "20000229T235959Z")
        #expect(SigV4Timestamp.dateTime(Date(timeIntervalSince1970: 4_102_444_800)) == "21000101T000000Z")
        #expect(SigV4Timestamp.dateTime(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
        #expect(SigV4Timestamp.day(Self.date) == "20240229")
    }

    @Test func timestampsAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var seconds = 0.0
        while seconds < 4_200_000_000 {
            let date = Date(timeIntervalSince1970: seconds)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d%02d%02dT%02d%02d%02dZ",
                c.year!,
                c.month!,
                c.day!,
                c.hour!,
                c.minute!,
                c.second!
            )
            #expect(SigV4Timestamp.dateTime(date) == expected)
            seconds += 8_640_013.5
        }
    }

    // MARK: Header handling

    @Test func hostHeaderIsDerivedWhenAbsentAndKeptWhenGiven() {
        #expect(Self.canonical("https://h.example:8443/").contains("\nhost:h.example:8443\n"))
        #expect(Self.canonical("https://h.example/", headers: [("Host", "other")]).contains("\nhost:other\n"))
    }

    @Test func unsignableHeadersAreLeftOut() {
        let canonical = Self.canonical(
            "https://h/",
            headers: [
                ("User-Agent", "x"), ("Expect", "100-continue"), ("Transfer-Encoding", "chunked"),
                ("X-Amzn-Trace-Id", "t"), ("Connection", "keep-alive"), ("Accept", "application/json"),
            ]
        )
        #expect(
            canonical.hasSuffix(
                "\naccept;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        )
    }

    @Test func callerAuthorizationAndDateAreReplaced() {
        let plain = Self.signer.signedHeaders(
            method: "GET",
            url: "https://h/",
            headers: [],
            body: [UInt8](),
            date: Self.date
        )
        let withStale = Self.signer.signedHeaders(
            method: "GET",
            url: "https://h/",
            headers: [("authorization", "stale"), ("X-AMZ-DATE", "19990101T000000Z")],
            body: [UInt8](),
            date: Self.date
        )
        #expect(plain.map(\.1) == withStale.map(\.1))
    }

    @Test func contentSHA256HeaderOnlyWhenAsked() {
        var signer = Self.signer
        signer.includesContentSHA256Header = true
        let body = Array("Param1=value1".utf8)
        let headers = signer.signedHeaders(method: "POST", url: "https://h/", headers: [], body: body, date: Self.date)
        #expect(headers.map(\.0) == ["X-Amz-Date", "X-Amz-Content-SHA256", "Authorization"])
        #expect(headers[1].1 == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        #expect(headers[2].1.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"))
    }

    /// Like botocore, a caller-supplied X-Amz-Content-SHA256 (e.g. UNSIGNED-PAYLOAD) is the payload hash.
    @Test func callerContentSHA256IsUsedAsPayloadHash() {
        let canonical = Self.canonical("https://h/", headers: [("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")])
        #expect(canonical.hasSuffix("\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"))
    }

    @Test func signingKeyMatchesAWSDocumentationExample() {
        // The derivation example in AWS's SigV4 documentation ("Examples of how to derive a signing key").
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            ),
            region: "us-east-1",
            service: "iam"
        )
        let key = signer.signingKey(date: Date(timeIntervalSince1970: 1_329_264_000))  // 2012-02-15
        let hex = key.withUnsafeBytes { SigV4Hex.string($0) }
        #expect(hex == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }
}
