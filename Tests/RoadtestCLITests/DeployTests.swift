import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// The Kubernetes manifests in deploy/kubernetes: valid against the bundled Kubernetes API schemas in strict mode
/// (an unknown or misspelt field fails), and wired the way a distributed run needs them: a coordinator, workers,
/// the suite mounted in both, secrets only by reference.
@Suite(
    .enabled(
        if: FileManager.default.isExecutableFile(
            atPath: TestEnvironment.packageRoot.appendingPathComponent(".build/pyclients/bin/kubernetes-validate").path
        ) || TestEnvironment.isCI,
        "make pyclients installs kubernetes-validate"
    )
)
struct DeployTests {
    static let validator = TestEnvironment.packageRoot
        .appendingPathComponent(".build/pyclients/bin/kubernetes-validate").path
    /// The venv's Python (PyYAML comes with kubernetes-validate): reads the manifests for the contract checks.
    static let python = TestEnvironment.packageRoot.appendingPathComponent(".build/pyclients/bin/python").path
    /// A Kubernetes version whose schemas kubernetes-validate bundles.
    static let kubernetesVersion = "1.33.0"
    static let directory = TestEnvironment.packageRoot.appendingPathComponent("deploy/kubernetes")
    static let image = "ghcr.io/roadtest/roadtest:latest"
    static let suitePath = "/suite/suite.yaml"

    /// Every manifest: each `*.yaml` in deploy/kubernetes but kustomization.yaml.
    static func manifests() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }

    static func validate(_ files: [URL]) async throws -> (status: Int32, output: String) {
        let result = try await ProcessRunner.run(
            [validator, "--strict", "-k", kubernetesVersion] + files.map(\.path),
            timeout: 120
        )
        let output =
            String(decoding: result.standardOutput, as: UTF8.self)
            + String(decoding: result.standardError, as: UTF8.self)
        return (result.status, output)
    }

    /// The YAML documents of a file, read by PyYAML and handed over as JSON.
    static func documents(_ file: URL) async throws -> [Node] {
        let script =
            "import json, sys, yaml\n"
            + "print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))"
        let result = try await ProcessRunner.run([python, "-c", script, file.path], timeout: 60)
        try #require(result.status == 0, "\(String(decoding: result.standardError, as: UTF8.self))")
        return Node(value: try JSONDecoder().decode(JSONValue.self, from: result.standardOutput)).array
    }

    @Test func manifestsValidateStrictly() async throws {
        let files = try Self.manifests()
        let names = Set(files.map(\.lastPathComponent))
        for expected in [
            "namespace.yaml", "secret.yaml", "configmap.yaml", "coordinator-job.yaml", "workers-job.yaml",
            "postgres.yaml",
        ] {
            #expect(names.contains(expected), "deploy/kubernetes/\(expected) is missing")
        }
        let (status, output) = try await Self.validate(files)
        #expect(status == 0, "\(output)")
        for file in files {
            #expect(output.contains("\(file.lastPathComponent) passed"), "\(output)")
        }
    }

    @Test func validatorRejectsBrokenManifests() async throws {
        let workers = try String(
            contentsOf: Self.directory.appendingPathComponent("workers-job.yaml"),
            encoding: .utf8
        )
        #expect(workers.contains("parallelism: 4\n"))
        #expect(workers.contains("  backoffLimit: 8\n"))
        try await withTemporaryDirectory { directory in
            // A wrong type, and a misspelt field only strict mode rejects.
            try writeFiles(
                [
                    "wrong-type.yaml": workers.replacingOccurrences(
                        of: "parallelism: 4\n",
                        with: "parallelism: \"four\"\n"
                    ),
                    "unknown-field.yaml": workers.replacingOccurrences(
                        of: "  backoffLimit: 8\n",
                        with: "  backoffLimit: 8\n  parallelizm: 4\n"
                    ),
                ],
                in: directory
            )
            for name in ["wrong-type.yaml", "unknown-field.yaml"] {
                let (status, output) = try await Self.validate([directory.appendingPathComponent(name)])
                #expect(status != 0, "\(name) passed: \(output)")
                #expect(output.contains(name == "wrong-type.yaml" ? "parallelism" : "parallelizm"), "\(output)")
            }
        }
    }

    @Test func manifestsHoldTheDistributedContract() async throws {
        var objects: [String: Node] = [:]
        var texts: [String: String] = [:]
        for file in try Self.manifests() {
            texts[file.lastPathComponent] = try String(contentsOf: file, encoding: .utf8)
            for document in try await Self.documents(file) {
                let kind = try #require(document["kind"].string, "\(file.lastPathComponent): a document has no kind")
                let name = try #require(document["metadata"]["name"].string)
                objects["\(kind)/\(name)"] = document
                if kind != "Namespace" {
                    #expect(document["metadata"]["namespace"].string == "roadtest", "\(kind)/\(name)")
                }
            }
        }

        // The Secret holds placeholders only; nothing else holds a secret value.
        let secret = try #require(objects["Secret/roadtest-secrets"])
        let secretKeys = Set(secret["stringData"].keys)
        #expect(secretKeys == ["PGPASSWORD", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"])
        for key in secretKeys {
            #expect(secret["stringData"][key].string == "change-me", "\(key)")
        }
        #expect(secret["data"].isMissing)
        for (name, text) in texts where name != "secret.yaml" {
            #expect(!text.contains("change-me"), "\(name) holds a placeholder secret value")
            #expect(text.range(of: #"postgres://[^@\s/]+:[^@\s/]*@"#, options: .regularExpression) == nil, "\(name)")
        }

        // Every container: the roadtest image runs unprivileged; passwords come only from the Secret.
        let workloads = objects.values.filter { ["Job", "StatefulSet"].contains($0["kind"].string) }
        #expect(workloads.count == 3)
        var stores: Set<String> = []
        for workload in workloads {
            let pod = workload["spec"]["template"]["spec"]
            let containers = pod["initContainers"].array + pod["containers"].array
            for container in containers {
                let label = "\(workload["metadata"]["name"].string ?? "?")/\(container["name"].string ?? "?")"
                for variable in container["env"].array {
                    guard let name = variable["name"].string, name.hasSuffix("PASSWORD") else { continue }
                    #expect(variable["value"].isMissing, "\(label): \(name) has a literal value")
                    #expect(variable["valueFrom"]["secretKeyRef"]["name"].string == "roadtest-secrets", "\(label)")
                    #expect(variable["valueFrom"]["secretKeyRef"]["key"].string == "PGPASSWORD", "\(label)")
                }
                guard container["image"].string == Self.image else { continue }
                #expect(container["imagePullPolicy"].string == "IfNotPresent", "\(label)")
                let security = container["securityContext"]
                #expect(security["runAsNonRoot"].bool == true, "\(label)")
                #expect(security["runAsUser"].int == 10001, "\(label)")
                #expect(security["readOnlyRootFilesystem"].bool == true, "\(label)")
                #expect(security["allowPrivilegeEscalation"].bool == false, "\(label)")
                #expect(security["capabilities"]["drop"].array.compactMap(\.string) == ["ALL"], "\(label)")
                #expect(container["resources"]["limits"]["memory"].string == "256Mi", "\(label)")
                let environment = container["env"].array
                let store = environment.first { $0["name"].string == "ROADTEST_STORE" }?["value"].string
                stores.insert(try #require(store, "\(label): no ROADTEST_STORE"))
                let home = environment.first { $0["name"].string == "ROADTEST_HOME" }?["value"].string
                #expect(home == "/home/roadtest/.roadtest", "\(label)")
                let mounts = Dictionary(
                    container["volumeMounts"].array.map { ($0["mountPath"].string ?? "", $0["name"].string ?? "") },
                    uniquingKeysWith: { first, _ in first }
                )
                for path in ["/tmp", "/home/roadtest"] {
                    let volume = pod["volumes"].array.first { $0["name"].string == mounts[path] }
                    #expect(volume?["emptyDir"].isMissing == false, "\(label): no emptyDir at \(path)")
                }
                // A container that runs a suite or works on one reads it from the ConfigMap at /suite.
                let arguments =
                    container["command"].array.compactMap(\.string)
                    + container["args"].array
                    .compactMap(\.string)
                guard let verb = arguments.first, ["run", "worker"].contains(verb) else { continue }
                #expect(
                    verb == "run" ? arguments.dropFirst().first == Self.suitePath : arguments.contains(Self.suitePath),
                    "\(label): \(arguments)"
                )
                let suiteVolume = pod["volumes"].array.first { $0["name"].string == mounts["/suite"] }
                #expect(suiteVolume?["configMap"]["name"].string == "roadtest-suite", "\(label)")
            }
        }
        #expect(stores == ["postgres://roadtest@postgres:5432/roadtest?sslmode=disable"])

        // The coordinator: one distributed run, a JSON report on standard output, no retry (a retry is a new run).
        let coordinator = try #require(objects["Job/roadtest-coordinator"])
        #expect(coordinator["spec"]["backoffLimit"].int == 0)
        #expect(coordinator["spec"]["template"]["spec"]["restartPolicy"].string == "Never")
        let coordinatorArguments = coordinator["spec"]["template"]["spec"]["containers"].array.first?["args"].array
            .compactMap(\.string)
        #expect(coordinatorArguments == ["run", Self.suitePath, "--distributed", "--json", "-"])

        // The workers: several at once, each a `roadtest worker` with every secret from the Secret.
        let workers = try #require(objects["Job/roadtest-workers"])
        #expect(workers["spec"]["parallelism"].int == 4)
        #expect(workers["spec"]["completions"].int == 4)
        #expect(workers["spec"]["backoffLimit"].int == 8)
        #expect(workers["spec"]["template"]["spec"]["restartPolicy"].string == "OnFailure")
        let worker = try #require(workers["spec"]["template"]["spec"]["containers"].array.first)
        #expect(
            worker["args"].array.compactMap(\.string) == [
                "worker", "--suite", Self.suitePath, "--concurrency", "8", "--idle", "120",
            ]
        )
        #expect(worker["envFrom"].array.first?["secretRef"]["name"].string == "roadtest-secrets")

        // The bundled PostgreSQL is the store the Jobs name.
        #expect(objects["Service/postgres"]?["spec"]["ports"].array.first?["port"].int == 5432)
        let postgres = try #require(objects["StatefulSet/postgres"])
        #expect(postgres["spec"]["template"]["spec"]["containers"].array.first?["image"].string == "postgres:15")

        // kustomization.yaml lists every manifest but the placeholder Secret (applying it would reset real values).
        let kustomization = try #require(
            try await Self.documents(Self.directory.appendingPathComponent("kustomization.yaml")).first
        )
        let listed = Set(kustomization["resources"].array.compactMap(\.string))
        #expect(listed == Set(texts.keys).subtracting(["secret.yaml"]))
    }

    @Test(.enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
    func configMapSuiteIsValid() async throws {
        let configMap = try #require(
            try await Self.documents(Self.directory.appendingPathComponent("configmap.yaml")).first
        )
        let suite = try #require(configMap["data"]["suite.yaml"].string)
        #expect(suite.contains("api_key_env: OPENAI_API_KEY"))
        try await withTemporaryDirectory { directory in
            try writeFiles(["suite.yaml": suite], in: directory)
            let binary = try #require(TestEnvironment.binary)
            let result = try await ProcessRunner.run(
                [binary.path, "validate", directory.appendingPathComponent("suite.yaml").path],
                timeout: 60
            )
            let output =
                String(decoding: result.standardOutput, as: UTF8.self)
                + String(decoding: result.standardError, as: UTF8.self)
            #expect(result.status == 0, "\(output)")
        }
    }

    /// A JSON value (the project's `JSONValue`) walked without casts: a missing key or index gives a missing node.
    struct Node {
        let value: JSONValue?

        subscript(key: String) -> Node { Node(value: value?[key]) }
        var array: [Node] { (value?.arrayValue ?? []).map { Node(value: $0) } }
        var keys: [String] { value?.objectValue.map { Array($0.keys) } ?? [] }
        var string: String? { value?.stringValue }

        var int: Int? {
            guard case .number(let number)? = value, number == number.rounded() else { return nil }
            return Int(number)
        }

        var bool: Bool? {
            guard case .bool(let flag)? = value else { return nil }
            return flag
        }

        var isMissing: Bool {
            guard let value else { return true }
            if case .null = value { return true }
            return false
        }
    }
}
