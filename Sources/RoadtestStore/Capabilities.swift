import Foundation
import RoadtestCore

/// Stored documents of the commands whose report is one JSON document: `roadtest load` and `roadtest drill`.
public protocol DocumentStore: Sendable {
    /// Stores a `roadtest load` report (its JSON document).
    func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) async throws
    func loadRunJSON(id: String) async throws -> Data?
    /// Stores a `roadtest drill` report (its JSON document) under the faulted run's id.
    func saveDrill(runID: String, cleanRunID: String, startedAt: String, json: Data) async throws
    func drillJSON(runID: String) async throws -> Data?
}

/// What the gateway keeps: one record per request served, spend per route, shadow pairs and the kept (redacted)
/// inputs and outputs that feedback can point at.
public protocol GatewayStore: Sendable {
    /// Stores requests the gateway served (idempotent on the request id).
    func recordGatewayRequests(_ records: [GatewayRecord]) async throws
    /// The latest gateway requests, newest first.
    func gatewayRequests(limit: Int) async throws -> [GatewayRecord]
    /// USD spent per route on requests received at or after `since` (seconds since 1970).
    func gatewaySpend(since: Double) async throws -> [String: Double]
    /// Stores a live request and a shadow candidate's answer to it.
    func recordShadowPair(_ pair: ShadowPair) async throws
    /// Shadow pairs, oldest first (of one route when given).
    func shadowPairs(route: String?, limit: Int) async throws -> [ShadowPair]
    /// Keeps a gateway request's input and output (a sampled share, already redacted).
    func recordGatewayBody(_ subject: FeedbackSubject) async throws
    /// Whether the gateway served a request with this id.
    func gatewayRequestExists(_ id: String) async throws -> Bool
}

/// Budgets and per-token rate limits that every gateway process on one store shares (a PostgreSQL store): each
/// admission and each settlement is one conditional statement on one row, so any number of replicas enforce one
/// cap and one limit, and no lock is held while a candidate answers.
public protocol GatewayLedger: Sendable {
    /// Reserves `amount` USD on `route` for UTC `day` (days since 1970) when what the route spent that day, what is
    /// reserved and `amount` stay within `cap`; false (and nothing reserved) otherwise. The day's spend starts
    /// from the stored requests of that day.
    func reserve(_ amount: Double, route: String, day: Int, cap: Double) async throws -> Bool
    /// Releases `reserved` and adds `cost` (what the request really cost).
    func settle(reserved: Double, cost: Double, route: String, day: Int) async throws
    /// What `route` spent on `day`, and what requests in flight (on any replica) have reserved.
    func budget(route: String, day: Int) async throws -> (spent: Double, reserved: Double)
    /// Takes one request from `client`'s bucket of `perMinute` a minute (refilled continuously, on the database's
    /// clock); nil when allowed, else the seconds until the next request is.
    func take(client: String, perMinute: Int) async throws -> Double?
}

/// Human feedback on gateway answers and trials, and what a person may review.
public protocol FeedbackStore: Sendable {
    func recordFeedback(_ feedback: Feedback) async throws
    /// Every feedback, oldest first.
    func allFeedback() async throws -> [Feedback]
    /// What a feedback subject (`request:ID` or `trial:...`) was: its input and output, when stored.
    func feedbackSubject(_ subject: String) async throws -> FeedbackSubject?
    /// Items a person may review: kept gateway requests (newest first) and the failing trials of the latest run.
    func reviewSubjects(limit: Int) async throws -> [FeedbackSubject]
}
