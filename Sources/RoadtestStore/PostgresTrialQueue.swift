import Foundation
import PostgresNIO
import RoadtestCore

/// A `trial_queue` row: a planned trial waiting for a worker.
struct QueueRow: SQLRecord {
    static let table = "trial_queue"
    static let primaryKey = TrialColumns.key

    var runID: String
    var trial: RunPlan.Trial
    var sequence: Int

    var columns: KeyValuePairs<String, any SQLBindable> {
        let key = trial.key
        return [
            "run_id": runID, "candidate_id": key.candidate, "case_id": key.caseID, "sample": key.sample,
            "variant": key.variant.name, "variant_kind": key.variant.kind.rawValue, "variant_index": key.variant.index,
            "variant_perturbation": key.variant.perturbation?.rawValue, "case_index": trial.caseIndex,
            "seq": sequence, "state": "pending", "claims": 0,
        ]
    }
}

/// The trial queue in a PostgreSQL store (`StoreLocation.open` hands it out as `Store.queue`).
struct PostgresTrialQueue: TrialQueue {
    let database: PostgresDatabase

    static let now = "EXTRACT(EPOCH FROM clock_timestamp())::float8"

    public func enqueue(runID: String, trials: some Sequence<RunPlan.Trial>) async throws {
        var iterator = trials.makeIterator()
        var sequence = 0
        while true {
            var rows: [QueueRow] = []
            while rows.count < 1_000, let trial = iterator.next() {
                rows.append(QueueRow(runID: runID, trial: trial, sequence: sequence))
                sequence += 1
            }
            guard !rows.isEmpty else { return }
            // One statement for a thousand rows; rows already queued are kept as they are.
            try await database.write(SQLDialect.postgres.insert(rows, ignoringConflicts: true))
        }
    }

    public func dropPending(runID: String) async throws {
        try await database.write(
            SQLStatement("DELETE FROM trial_queue WHERE run_id = ? AND state = 'pending'", [runID])
        )
    }

    public func claim(runID: String, worker: String, limit: Int, lease: Double) async throws -> [QueuedTrial] {
        // Pending trials first, in plan order (the claim index serves this without sorting the queue); then
        // trials whose lease expired (a worker that died), only when there are not enough pending ones.
        var claimed = try await claim(runID: runID, worker: worker, limit: limit, lease: lease, expired: false)
        if claimed.count < limit {
            claimed += try await claim(
                runID: runID,
                worker: worker,
                limit: limit - claimed.count,
                lease: lease,
                expired: true
            )
        }
        return claimed
    }

    func claim(runID: String, worker: String, limit: Int, lease: Double, expired: Bool) async throws -> [QueuedTrial] {
        guard limit > 0 else { return [] }
        var claimed: [QueuedTrial] = []
        let decoder = JSONDecoder()
        try await database.read(
            SQLStatement(
                """
                WITH picked AS (
                    SELECT q.run_id, q.candidate_id, q.case_id, q.sample, q.variant FROM trial_queue q
                    JOIN run r ON r.id = q.run_id AND r.status = 'running'
                    WHERE q.run_id = ? AND \(expired ? "q.state = 'leased' AND q.lease_until < \(Self.now)" : "q.state = 'pending'")
                    ORDER BY q.seq LIMIT ? FOR UPDATE OF q SKIP LOCKED
                )
                UPDATE trial_queue t SET state = 'leased', worker = ?, lease_until = \(Self.now) + ?,
                    claims = t.claims + 1
                FROM picked
                WHERE t.run_id = picked.run_id AND t.candidate_id = picked.candidate_id
                    AND t.case_id = picked.case_id AND t.sample = picked.sample AND t.variant = picked.variant
                RETURNING t.candidate_id, t.case_id, t.sample, t.variant_kind, t.variant_index,
                    t.variant_perturbation, t.case_index, t.claims,
                    (SELECT c.case_json FROM test_case c WHERE c.run_id = t.run_id AND c.case_id = t.case_id)
                        AS case_json
                """,
                [runID, limit, worker, lease]
            )
        ) { row in
            claimed.append(
                QueuedTrial(
                    key: try TrialColumns.trialKey(row),
                    caseIndex: try row.int("case_index"),
                    claims: try row.int("claims"),
                    testCase: try row.optionalText("case_json").map {
                        try decoder.decode(Case.self, from: Data($0.utf8))
                    }
                )
            )
        }
        return claimed
    }

    public func complete(_ outcome: Outcome, runID: String, worker: String) async throws -> Bool {
        try await complete(batch: [outcome], runID: runID, worker: worker)[0]
    }

    /// One transaction: the trials whose lease is still this worker's are marked done by one statement, and only
    /// their outcomes are written (by the multi-row statements of `OutcomeRow`).
    public func complete(batch outcomes: [Outcome], runID: String, worker: String) async throws -> [Bool] {
        guard !outcomes.isEmpty else { return [] }
        let mark = PostgresDatabase.query(
            SQLStatement(
                """
                UPDATE trial_queue SET state = 'done', lease_until = NULL
                WHERE run_id = ? AND worker = ? AND state = 'leased'
                    AND (\(TrialColumns.matching(count: outcomes.count)))
                RETURNING candidate_id, case_id, sample, variant
                """,
                [runID, worker] + TrialColumns.bindings(outcomes.map(\.key))
            )
        )
        struct Held: Hashable {
            let candidate: String
            let caseID: String
            let sample: Int
            let variant: String
        }
        return try await database.transaction { connection in
            var held = Set<Held>()
            for try await row in try await connection.query(mark, logger: database.logger) {
                let (candidate, caseID, sample, variant) = try row.decode((String, String, Int, String).self)
                held.insert(Held(candidate: candidate, caseID: caseID, sample: sample, variant: variant))
            }
            let written = outcomes.map { outcome in
                held.contains(
                    Held(
                        candidate: outcome.key.candidate,
                        caseID: outcome.key.caseID,
                        sample: outcome.key.sample,
                        variant: outcome.key.variant.name
                    )
                )
            }
            let kept = zip(outcomes, written).filter(\.1).map(\.0)
            for statement in try OutcomeRow.statements(kept, runID: runID, dialect: .postgres) {
                try await connection.query(PostgresDatabase.query(statement), logger: database.logger)
            }
            return written
        }
    }

    public func heartbeat(worker: String, host: String, runID: String?, lease: Double) async throws {
        try await database.write([
            SQLStatement(
                "UPDATE trial_queue SET lease_until = \(Self.now) + ? WHERE worker = ? AND state = 'leased'",
                [lease, worker]
            ),
            SQLStatement(
                """
                INSERT INTO worker (id, host, run_id, started_at, heartbeat_at, finished, trials)
                VALUES (?, ?, ?, \(Self.now), \(Self.now), 0, 0)
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, run_id = EXCLUDED.run_id
                """,
                [worker, host, runID]
            ),
        ])
    }

    public func release(worker: String) async throws {
        try await database.write([
            SQLStatement(
                "UPDATE trial_queue SET state = 'pending', worker = NULL, lease_until = NULL "
                    + "WHERE worker = ? AND state = 'leased'",
                [worker]
            ),
            SQLStatement("UPDATE worker SET finished = 1, heartbeat_at = \(Self.now) WHERE id = ?", [worker]),
        ])
    }

    public func queueState(runID: String) async throws -> QueueState {
        var state = QueueState()
        try await database.read(
            SQLStatement(
                """
                SELECT state, COUNT(*) AS n, SUM(GREATEST(claims - 1, 0)) AS extra FROM trial_queue
                WHERE run_id = ? GROUP BY state
                """,
                [runID]
            )
        ) { row in
            let count = try row.int("n")
            state.total += count
            state.reclaims += try row.optionalInt("extra") ?? 0
            switch try row.text("state") {
            case "pending": state.pending = count
            case "leased": state.leased = count
            default: state.done = count
            }
        }
        state.liveWorkers =
            try await database.fetchOne(
                SQLStatement(
                    """
                    SELECT COUNT(*) AS n FROM worker w
                    WHERE w.finished = 0 AND w.run_id = ? AND w.heartbeat_at > \(Self.now) - 60
                    """,
                    [runID]
                )
            )?.int("n") ?? 0
        return state
    }

    public func nextQueuedRun() async throws -> String? {
        try await database.fetchOne(
            SQLStatement(
                """
                SELECT r.id FROM run r
                WHERE r.status = 'running' AND EXISTS (
                    SELECT 1 FROM trial_queue q WHERE q.run_id = r.id AND q.state <> 'done')
                ORDER BY r.started_at, r.id LIMIT 1
                """
            )
        )?.text("id")
    }
}
