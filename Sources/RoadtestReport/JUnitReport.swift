import Foundation
import RoadtestCore

/// JUnit XML for CI systems: one test suite per candidate, one test case per trial.
public enum JUnitReport {
    public static func render(_ report: RunReport, trials: [TrialRow]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = trials.filter { !$0.passed }.count
        xml +=
            "<testsuites name=\"\(Escape.xml("roadtest: " + report.suite))\" tests=\"\(trials.count)\" failures=\"\(failures)\">\n"
        for card in report.candidates {
            let own = trials.filter { $0.key.candidate == card.id }
            let time = own.compactMap(\.endToEnd).reduce(0, +)
            xml +=
                "  <testsuite name=\"\(Escape.xml(card.id))\" tests=\"\(own.count)\" failures=\"\(own.filter { !$0.passed }.count)\" time=\"\(String(format: "%.3f", time))\">\n"
            xml += "    <properties>\n"
            xml += "      <property name=\"pass_rate\" value=\"\(card.passRate)\"/>\n"
            xml += "      <property name=\"bars_met\" value=\"\(card.bars.met)\"/>\n"
            xml += "      <property name=\"cost_usd\" value=\"\(card.costUSD.total)\"/>\n"
            xml += "    </properties>\n"
            for trial in own {
                let name =
                    trial.key.caseID + (trial.key.sample > 0 ? " #\(trial.key.sample)" : "")
                    + (trial.key.variant.isOriginal ? "" : " [\(trial.key.variant.name)]")
                xml +=
                    "    <testcase classname=\"\(Escape.xml(card.id))\" name=\"\(Escape.xml(name))\" time=\"\(String(format: "%.3f", trial.endToEnd ?? 0))\""
                if trial.passed {
                    xml += "/>\n"
                    continue
                }
                let failed = trial.checks.filter { !$0.passed }
                let message = failed.map { "\($0.check): \($0.reason)" }.joined(separator: "; ")
                xml +=
                    ">\n      <failure message=\"\(Escape.xml(Escape.truncate(message, 500)))\" type=\"\(Escape.xml(failed.first?.check ?? "failed"))\">"
                xml += Escape.xml("input: \(trial.input)\noutput: \(trial.output)\n\(message)")
                xml += "</failure>\n    </testcase>\n"
            }
            for bar in card.bars.results where !bar.met {
                xml += "    <testcase classname=\"\(Escape.xml(card.id))\" name=\"bar \(Escape.xml(bar.bar))\">\n"
                xml +=
                    "      <failure message=\"\(Escape.xml("\(bar.bar) is \(Format.barValue(bar.bar, bar.value)), bar \(Format.barOperator(bar.bar)) \(Format.barValue(bar.bar, bar.target))"))\" type=\"bar\"/>\n"
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }
}
