import Foundation
import FuzzSupport
import RoadtestCore
import RoadtestSuite

/// `suite`: `SuiteLoader().load(yaml:path:)` on the input as UTF-8 text (invalid bytes repaired), as if it were
/// `suite.yaml` in an empty folder (a case file it names is not found, unless absolute). Errors are expected;
/// crashes are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    // A case file under /dev, /proc or /sys (`file: /dev/zero`) would make the loader read forever: not a finding.
    if input.contains("/dev") || input.contains("/proc") || input.contains("/sys") { return -1 }
    do {
        let suite = try SuiteLoader().load(
            yaml: input.text,
            path: Scratch.directory.appendingPathComponent("suite.yaml").path
        )
        if verbose { print("loaded \(suite.cases.count) cases") }
    } catch {
        if verbose { print("refused:", (error as? RoadtestError)?.diagnostics.map(\.description) ?? ["\(error)"]) }
    }
    return 0
}
