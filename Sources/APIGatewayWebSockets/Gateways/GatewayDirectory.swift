import Foundation
import Synchronization

/// Answers "is this API one of ours, and what do we know of it?" for every event.
public protocol GatewayDirectory: Sendable {
    /// The record for `apiID`, or `nil` when that API is not registered.
    func gateway(_ apiID: APIID) async throws -> GatewayRecord?
}

/// A ``GatewayDirectory`` that keeps every record in memory and reloads them all from a source
/// (the database) only when an unknown API id arrives, at most once per `refreshInterval`.
///
/// Known APIs are answered from memory, so no event costs a query. An API registered by another
/// process is found on the first event that names it once the interval has passed; call
/// ``reload()`` after registering one in this process.
///
/// ```swift
/// let directory = CachedGatewayDirectory { try await GatewayModel.query(on: db).all().map(\.record) }
/// ```
public final class CachedGatewayDirectory: GatewayDirectory {
    private struct State {
        var records: [APIID: GatewayRecord] = [:]
        var lastLoad: ContinuousClock.Instant?
        var inFlight: Task<[APIID: GatewayRecord], any Error>?
    }

    private let source: @Sendable () async throws -> [GatewayRecord]
    private let refreshInterval: Duration
    private let state = Mutex(State())

    /// - Parameters:
    ///   - refreshInterval: the least time between two reloads caused by unknown API ids.
    ///   - source: loads every record; called at the first lookup, on ``reload()``, and on misses.
    public init(refreshInterval: Duration = .seconds(5), source: @escaping @Sendable () async throws -> [GatewayRecord]) {
        self.refreshInterval = refreshInterval
        self.source = source
    }

    /// A directory of fixed records that never reloads.
    public convenience init(_ records: [GatewayRecord]) {
        self.init(refreshInterval: .seconds(Int64.max)) { records }
    }

    public func gateway(_ apiID: APIID) async throws -> GatewayRecord? {
        let now = ContinuousClock.now
        let (hit, mayLoad) = state.withLock { state -> (GatewayRecord?, Bool) in
            if let record = state.records[apiID] { return (record, false) }
            // A reload under way is joined, whatever the interval: it may bring this id.
            guard let last = state.lastLoad, state.inFlight == nil else { return (nil, true) }
            return (nil, last.duration(to: now) >= refreshInterval)
        }
        if let hit { return hit }
        guard mayLoad else { return nil }
        return try await load()[apiID]
    }

    /// Reloads every record and returns them, from a load that starts after this call: a caller
    /// that has just written a record sees it. A load already under way may have read before
    /// that write, so it is waited for, not trusted; callers arriving together share one load.
    @discardableResult
    public func reload() async throws -> [APIID: GatewayRecord] {
        // Only one load runs at a time, so once this one ends, any load in flight began after this call.
        if let running = state.withLock({ $0.inFlight }) { _ = try? await running.value }
        return try await load()
    }

    /// Every record, as last loaded (loaded now if never before): no query when the cache is warm,
    /// so it can be asked inside a transaction holding the database's only connection.
    public func records() async throws -> [APIID: GatewayRecord] {
        if let records = state.withLock({ $0.lastLoad == nil ? nil : $0.records }) { return records }
        return try await load()
    }

    /// Joins the load under way, or starts one.
    private func load() async throws -> [APIID: GatewayRecord] {
        try await state.withLock { state in
            if let running = state.inFlight { return running }
            let task = Task {
                // The load stores its own result and retires itself before anyone sees its value,
                // so a caller resuming after it never finds it still in flight.
                defer { self.state.withLock { $0.inFlight = nil } }
                let records = Dictionary(try await self.source().map { ($0.apiID, $0) }, uniquingKeysWith: { _, last in last })
                self.state.withLock { $0.records = records }
                return records
            }
            state.inFlight = task
            state.lastLoad = ContinuousClock.now
            return task
        }.value
    }
}

extension CachedGatewayDirectory {
    /// The API `apiID`, or the one registered API when none is named: what a send or publish from
    /// the app (a route, a job, a command) goes through. `cached`: from the cache, with no query
    /// when it is warm (inside a transaction holding the database's only connection).
    /// - Throws: ``GatewaySendError`` when that API is not registered, or when none is named and
    ///   there is not exactly one.
    public func record(for apiID: APIID?, cached: Bool = false) async throws -> GatewayRecord {
        if let apiID {
            let record = cached ? try await records()[apiID] : try await gateway(apiID)
            guard let record else { throw GatewaySendError.unknownAPI(apiID) }
            return record
        }
        let records = cached ? try await records() : try await reload()
        guard records.count == 1, let only = records.values.first else {
            throw records.isEmpty ? GatewaySendError.noAPI : GatewaySendError.severalAPIs(records.keys.map(\.rawValue).sorted())
        }
        return only
    }
}

/// A send from the app that has no API to go through.
public struct GatewaySendError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    static let noAPI = GatewaySendError(description: "no API is registered to send through: apply or register one first")
    static func unknownAPI(_ apiID: APIID) -> GatewaySendError {
        GatewaySendError(description: "the API \(apiID) is not registered")
    }
    static func severalAPIs(_ ids: [String]) -> GatewaySendError {
        GatewaySendError(description: "several APIs are registered (\(ids.joined(separator: ", "))): name the one to send through")
    }
}
