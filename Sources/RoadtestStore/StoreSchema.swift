import Foundation

/// The store's schema, one migration per change, shared by both backends: SQLite runs the SQL as written,
/// PostgreSQL through `SQLDialect.ddl` (same tables, columns and keys). A store is migrated when opened.
public enum StoreSchema {
    public struct Migration: Sendable {
        public var id: String
        public var sql: String

        /// The migration's statements, one at a time (PostgreSQL's extended protocol takes one per query).
        public var statements: [String] {
            sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
        }
    }

    public static let migrations: [Migration] = [
        Migration(
            id: "v1",
            sql: """
                CREATE TABLE run (
                    id TEXT PRIMARY KEY,
                    suite_name TEXT NOT NULL,
                    suite_path TEXT NOT NULL,
                    suite_hash TEXT NOT NULL,
                    suite_json TEXT NOT NULL,
                    status TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    version TEXT NOT NULL
                );
                CREATE INDEX run_by_path ON run(suite_path, started_at);
                CREATE TABLE test_case (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    case_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    input TEXT NOT NULL,
                    PRIMARY KEY (run_id, case_id)
                );
                CREATE TABLE outcome (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    candidate_id TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    sample INTEGER NOT NULL,
                    variant TEXT NOT NULL,
                    passed INTEGER NOT NULL,
                    score REAL NOT NULL,
                    output TEXT NOT NULL,
                    checks TEXT NOT NULL,
                    cost_usd REAL NOT NULL,
                    final_class TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    e2e REAL,
                    completed_at TEXT NOT NULL,
                    PRIMARY KEY (run_id, candidate_id, case_id, sample, variant)
                );
                CREATE TABLE attempt (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    candidate_id TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    sample INTEGER NOT NULL,
                    variant TEXT NOT NULL,
                    role TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    class TEXT NOT NULL,
                    http_status INTEGER,
                    ttft REAL,
                    e2e REAL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    estimated INTEGER NOT NULL,
                    retry_after REAL,
                    message TEXT,
                    cost_usd REAL NOT NULL,
                    PRIMARY KEY (run_id, candidate_id, case_id, sample, variant, role, number)
                );
                CREATE INDEX attempt_ttft ON attempt(run_id, candidate_id, role, class, ttft);
                CREATE INDEX attempt_e2e ON attempt(run_id, candidate_id, role, class, e2e);
                """
        ),
        Migration(
            id: "v2-variants-and-recovery",
            sql: """
                ALTER TABLE outcome ADD COLUMN input TEXT;
                ALTER TABLE outcome ADD COLUMN system TEXT;
                ALTER TABLE outcome ADD COLUMN clarified INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE outcome ADD COLUMN abstained INTEGER NOT NULL DEFAULT 0;
                """
        ),
        Migration(
            id: "v3-load-runs",
            sql: """
                CREATE TABLE load_run (
                    id TEXT PRIMARY KEY,
                    suite_name TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    report_json TEXT NOT NULL
                );
                """
        ),
        // Variants become typed columns; rows written before are converted once, here.
        Migration(
            id: "v4-typed-variants",
            sql: """
                ALTER TABLE outcome ADD COLUMN variant_kind TEXT NOT NULL DEFAULT 'original';
                ALTER TABLE outcome ADD COLUMN variant_index INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE outcome ADD COLUMN variant_perturbation TEXT;
                UPDATE outcome SET
                    variant_kind = CASE WHEN variant = '' THEN 'original'
                        WHEN substr(variant, 1, 7) = 'prompt#' THEN 'prompt' ELSE 'perturbation' END,
                    variant_index = CASE WHEN variant = '' THEN 0
                        ELSE CAST(substr(variant, instr(variant, '#') + 1) AS INTEGER) END,
                    variant_perturbation = CASE WHEN variant = '' OR substr(variant, 1, 7) = 'prompt#' THEN NULL
                        ELSE substr(variant, 1, instr(variant, '#') - 1) END;
                """
        ),
        Migration(
            id: "v5-private-cases",
            sql: """
                ALTER TABLE test_case ADD COLUMN private INTEGER NOT NULL DEFAULT 0
                """
        ),
        Migration(
            id: "v6-fallback-and-drills",
            sql: """
                ALTER TABLE attempt ADD COLUMN candidate TEXT;
                ALTER TABLE outcome ADD COLUMN served_by TEXT;
                ALTER TABLE outcome ADD COLUMN started_at REAL;
                ALTER TABLE outcome ADD COLUMN elapsed REAL;
                CREATE TABLE drill (
                    run_id TEXT PRIMARY KEY,
                    clean_run_id TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    report_json TEXT NOT NULL
                );
                """
        ),
        Migration(
            id: "v7-strategies",
            sql: """
                ALTER TABLE attempt ADD COLUMN strategy_sample INTEGER;
                ALTER TABLE outcome ADD COLUMN answer_key TEXT;
                """
        ),
        Migration(
            id: "v8-tools-and-attacks",
            sql: """
                ALTER TABLE outcome ADD COLUMN tool_calls INTEGER;
                ALTER TABLE outcome ADD COLUMN tool_turns INTEGER;
                ALTER TABLE outcome ADD COLUMN max_turns_reached INTEGER;
                ALTER TABLE outcome ADD COLUMN transcript TEXT;
                ALTER TABLE outcome ADD COLUMN attack_pack TEXT;
                ALTER TABLE outcome ADD COLUMN attack_succeeded INTEGER;
                ALTER TABLE outcome ADD COLUMN attack_evidence TEXT;
                ALTER TABLE outcome ADD COLUMN attack_highlight TEXT;
                """
        ),
        Migration(
            id: "v9-gateway",
            sql: """
                CREATE TABLE gateway_request (
                    id TEXT PRIMARY KEY,
                    received_at REAL NOT NULL,
                    route TEXT,
                    served_by TEXT,
                    status INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    stream INTEGER NOT NULL,
                    ttft REAL,
                    e2e REAL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    cost_usd REAL NOT NULL,
                    attempts INTEGER NOT NULL,
                    fell_back INTEGER NOT NULL
                );
                CREATE INDEX gateway_request_time ON gateway_request (received_at);
                """
        ),
        Migration(
            id: "v10-shadow",
            sql: """
                CREATE TABLE shadow_pair (
                    request_id TEXT NOT NULL,
                    shadow_candidate TEXT NOT NULL,
                    route TEXT NOT NULL,
                    received_at REAL NOT NULL,
                    input TEXT NOT NULL,
                    live_candidate TEXT NOT NULL,
                    live_output TEXT NOT NULL,
                    live_outcome TEXT NOT NULL,
                    live_e2e REAL,
                    live_cost_usd REAL NOT NULL,
                    shadow_output TEXT NOT NULL,
                    shadow_outcome TEXT NOT NULL,
                    shadow_e2e REAL,
                    shadow_cost_usd REAL NOT NULL,
                    PRIMARY KEY (request_id, shadow_candidate)
                );
                CREATE INDEX shadow_pair_route ON shadow_pair (route, received_at);
                """
        ),
        Migration(
            id: "v11-feedback",
            sql: """
                CREATE TABLE gateway_body (
                    request_id TEXT PRIMARY KEY,
                    route TEXT NOT NULL,
                    system TEXT,
                    input TEXT NOT NULL,
                    output TEXT NOT NULL,
                    received_at REAL NOT NULL
                );
                CREATE TABLE feedback (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    subject TEXT NOT NULL,
                    rating TEXT NOT NULL,
                    score REAL NOT NULL,
                    correction TEXT,
                    comment TEXT,
                    created_at REAL NOT NULL,
                    source TEXT NOT NULL
                );
                CREATE INDEX feedback_subject ON feedback (subject);
                """
        ),
        Migration(
            id: "v12-distributed",
            sql: """
                CREATE TABLE trial_queue (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    candidate_id TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    sample INTEGER NOT NULL,
                    variant TEXT NOT NULL,
                    variant_kind TEXT NOT NULL,
                    variant_index INTEGER NOT NULL,
                    variant_perturbation TEXT,
                    case_index INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    worker TEXT,
                    lease_until REAL,
                    claims INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (run_id, candidate_id, case_id, sample, variant)
                );
                CREATE INDEX trial_queue_claim ON trial_queue (run_id, state, seq);
                CREATE TABLE worker (
                    id TEXT PRIMARY KEY,
                    host TEXT NOT NULL,
                    run_id TEXT,
                    started_at REAL NOT NULL,
                    heartbeat_at REAL NOT NULL,
                    finished INTEGER NOT NULL DEFAULT 0,
                    trials INTEGER NOT NULL DEFAULT 0
                );
                """
        ),
        // Cases are stored one per row (the run's suite is stored without them), so a large suite is never encoded
        // or read back whole.
        Migration(
            id: "v13-case-rows",
            sql: """
                ALTER TABLE test_case ADD COLUMN position INTEGER;
                ALTER TABLE test_case ADD COLUMN case_json TEXT;
                """
        ),
        // The gateway's budgets and per-token rate limits, kept in the store so every gateway process on a shared
        // (PostgreSQL) store enforces one of each (`GatewayLedger`). A SQLite store leaves them empty.
        Migration(
            id: "v14-gateway-ledger",
            sql: """
                CREATE TABLE gateway_budget (
                    route TEXT NOT NULL,
                    day INTEGER NOT NULL,
                    spent REAL NOT NULL DEFAULT 0,
                    reserved REAL NOT NULL DEFAULT 0,
                    PRIMARY KEY (route, day)
                );
                CREATE TABLE gateway_rate (
                    client TEXT PRIMARY KEY,
                    tokens REAL NOT NULL,
                    at REAL NOT NULL
                );
                """
        ),
    ]
}
