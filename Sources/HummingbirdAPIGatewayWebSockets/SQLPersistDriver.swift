public import APIGatewayWebSocketsSQL
import Foundation
public import Hummingbird
import ServiceLifecycle

/// Hummingbird's key-value storage in the framework's web-session table (`WebSessionStore`):
/// give it to hummingbird-auth's `SessionMiddleware` and the app's logins live in the same
/// database as its connections, under the same rules as the Vapor door's: keys stored as their
/// SHA-256, an expired value never read, and the cleanup's sweep deleting what expired
/// (`gateway.services(cleanupSteps: [store.cleanupStep], …)`).
///
/// ```swift
/// let sessions = SQLPersistDriver(store: WebSessionStore(store: fluentStore))
/// router.add(middleware: SessionMiddleware(storage: sessions))
/// ```
///
/// A value stored with no expiry lasts the store's `WebSessionPolicy.absoluteTimeout`: every
/// row of the table has an end.
public struct SQLPersistDriver: PersistDriver {
    public let store: WebSessionStore

    public init(store: WebSessionStore) { self.store = store }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let end = Date().addingTimeInterval(Self.seconds(expires ?? store.policy.absoluteTimeout))
        guard try await store.insert(key: key, json: try Self.encode(value), expiresAt: end) else { throw PersistError.duplicate }
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await store.put(key: key, json: try Self.encode(value), expiresAt: expires.map { Date().addingTimeInterval(Self.seconds($0)) })
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        guard let stored = try await store.value(key: key) else { return nil }
        // A value of another type is `invalidConversion`, on which hummingbird-auth's session
        // middleware drops the session and its cookie.
        guard let object = try? JSONDecoder().decode(Object.self, from: Data(stored.json.utf8)) else { throw PersistError.invalidConversion }
        return (object, .milliseconds(Int64(max(0, stored.expiresAt.timeIntervalSinceNow) * 1000)))
    }

    public func remove(key: String) async throws { try await store.delete(key) }

    /// Nothing runs in the background (the cleanup sweeps what expired): as a service it only
    /// waits for the group's shutdown, since a service that returns would end the group.
    public func run() async throws { try? await gracefulShutdown() }

    private static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
