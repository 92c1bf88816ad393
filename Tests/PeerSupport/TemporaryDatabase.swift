import Foundation

/// A temporary SQLite file path, removed (with its WAL files) by `cleanUp`.
public struct TemporaryDatabase: Sendable {
    public init() {}

    public let path = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-\(UUID().uuidString).sqlite").path

    public func cleanUp() {
        for suffix in ["", "-wal", "-shm", ".local-gateway.json"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
