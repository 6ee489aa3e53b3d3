import Foundation
import GRDB

extension SQLiteStore {
    /// The schema, one migration per change; run when a store is opened.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
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
            )
        }
        migrator.registerMigration("v2-variants-and-recovery") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outcome ADD COLUMN input TEXT;
                    ALTER TABLE outcome ADD COLUMN system TEXT;
                    ALTER TABLE outcome ADD COLUMN clarified INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE outcome ADD COLUMN abstained INTEGER NOT NULL DEFAULT 0;
                    """
            )
        }
        migrator.registerMigration("v3-load-runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE load_run (
                        id TEXT PRIMARY KEY,
                        suite_name TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        report_json TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v4-typed-variants") { db in
            // Variants become typed columns; rows written before are converted once, here.
            try db.execute(
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
            )
        }
        migrator.registerMigration("v5-private-cases") { db in
            try db.execute(sql: "ALTER TABLE test_case ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6-fallback-and-drills") { db in
            try db.execute(
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
            )
        }
        migrator.registerMigration("v7-strategies") { db in
            try db.execute(
                sql: """
                    ALTER TABLE attempt ADD COLUMN strategy_sample INTEGER;
                    ALTER TABLE outcome ADD COLUMN answer_key TEXT;
                    """
            )
        }
        migrator.registerMigration("v8-tools-and-attacks") { db in
            try db.execute(
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
            )
        }
        migrator.registerMigration("v9-gateway") { db in
            try db.execute(
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
            )
        }
        migrator.registerMigration("v10-shadow") { db in
            try db.execute(
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
            )
        }
        migrator.registerMigration("v11-feedback") { db in
            try db.execute(
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
            )
        }
        return migrator
    }
}
