import Foundation
import FuzzSupport
import RoadtestCore
import RoadtestSuite

/// `csv`: the CSV case-file reader (`CSVReader`, internal to RoadtestSuite) through its public path: the input is
/// written as a suite's `cases.csv`, and `SuiteLoader().load(yaml:path:)` loads the suite that names it (CSV parsing,
/// the header's columns, the cells as cases, checks and template variables). Errors are expected; crashes are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let cases = Scratch.directory.appendingPathComponent("cases.csv")
    do { try input.data.write(to: cases) } catch { fatalError("cannot write \(cases.path): \(error)") }
    do {
        let suite = try SuiteLoader().load(
            yaml: suiteYAML,
            path: Scratch.directory.appendingPathComponent("suite.yaml").path
        )
        if verbose { print("loaded \(suite.cases.count) cases") }
    } catch {
        if verbose { print("refused:", (error as? RoadtestError)?.diagnostics.map(\.description) ?? ["\(error)"]) }
    }
    return 0
}

private let suiteYAML = """
    name: fuzz-csv
    candidates:
      - {id: sim, base_url: "http://127.0.0.1:9/v1", model: echo}
    cases:
      - file: cases.csv
        prompt: "Ticket: {{ticket}}"
    """
