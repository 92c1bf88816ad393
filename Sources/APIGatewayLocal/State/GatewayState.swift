import Foundation
import Synchronization

/// The APIs and custom domains the gateway serves, and the file they persist in.
///
/// Every change is a read-modify-write under one lock, so concurrent control-plane calls never
/// lose each other's items, and saves are ordered: a snapshot is written only if no later one
/// has been. The file is replaced atomically (a temporary file renamed over it) with mode 0600,
/// since it holds the gateway secret in the integrations' request parameters.
final class GatewayState: Sendable {
    struct Held: Sendable {
        var apis: [String: LocalAPI]
        var domainNames: [String: LocalDomainName] = [:]
        /// The `apigateway` (v1) API's keys and usage plans, by id: they span APIs.
        var apiKeys: [String: LocalAPIKey] = [:]
        var usagePlans: [String: LocalUsagePlan] = [:]
    }

    private struct Versioned {
        var held: Held
        var version: UInt64 = 0
    }

    let file: String?
    private let current: Mutex<Versioned>
    /// The version last written to ``file``; writes happen under this lock, in order.
    private let saved = Mutex<UInt64>(0)

    init(apis: [LocalAPI], file: String?) {
        self.file = file
        self.current = Mutex(Versioned(held: Held(apis: Dictionary(apis.map { ($0.apiId, $0) }, uniquingKeysWith: { _, last in last }))))
    }

    var apis: [LocalAPI] { current.withLock { Array($0.held.apis.values) } }
    var domainNames: [LocalDomainName] { current.withLock { Array($0.held.domainNames.values) } }
    func api(_ id: String) -> LocalAPI? { current.withLock { $0.held.apis[id] } }
    func domainName(_ name: String) -> LocalDomainName? { current.withLock { $0.held.domainNames[name] } }

    /// Reads `body` against the state as it is now.
    func read<T>(_ body: (Held) throws -> T) rethrows -> T { try current.withLock { try body($0.held) } }

    /// Changes the state in one step and saves it. A `body` that throws changes nothing.
    /// - Throws: `body`'s error, or ``LocalGatewayError`` when the file cannot be written (the
    ///   change stays in memory, and the next successful save writes it).
    @discardableResult
    func update<T>(_ body: (inout Held) throws -> T) throws -> T {
        let (result, snapshot, version) = try current.withLock { state in
            var held = state.held
            let result = try body(&held)
            state.held = held
            state.version += 1
            return (result, held, state.version)
        }
        try save(snapshot, version: version)
        return result
    }

    /// Merges what the state file holds over the configured APIs.
    /// - Throws: ``LocalGatewayError`` when the file exists but does not decode; it is not touched.
    func load() throws {
        guard let file, FileManager.default.fileExists(atPath: file) else { return }
        let loaded: Held
        do {
            loaded = try Self.decode(Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw LocalGatewayError.unreadableStateFile(file, reason: Self.describe(error))
        }
        current.withLock { state in
            state.held.apis.merge(loaded.apis) { _, saved in saved }
            state.held.domainNames = loaded.domainNames
            state.held.apiKeys = loaded.apiKeys
            state.held.usagePlans = loaded.usagePlans
        }
    }

    private func save(_ held: Held, version: UInt64) throws {
        guard let file else { return }
        try saved.withLock { last in
            guard version > last else { return }  // a later snapshot is already on disk
            do {
                try Self.write(Self.encode(held), to: file)
            } catch {
                throw LocalGatewayError.unwritableStateFile(file, reason: "\(error)")
            }
            last = version
        }
    }

    // MARK: The file

    /// `{"apis": […], "domainNames": […]}`; the bare API array of earlier versions still reads.
    private struct SavedState: Codable {
        var apis: [LocalAPI]
        var domainNames: [LocalDomainName]
        /// Absent from files written before keys and plans were served.
        var apiKeys: [LocalAPIKey]?
        var usagePlans: [LocalUsagePlan]?
    }

    static func decode(_ data: Data) throws -> Held {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let saved: SavedState
        if data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
            saved = SavedState(apis: try decoder.decode([LocalAPI].self, from: data), domainNames: [], apiKeys: nil, usagePlans: nil)
        } else {
            saved = try decoder.decode(SavedState.self, from: data)
        }
        return Held(
            apis: Dictionary(saved.apis.map { ($0.apiId, $0) }, uniquingKeysWith: { _, last in last }),
            domainNames: Dictionary(saved.domainNames.map { ($0.domainName, $0) }, uniquingKeysWith: { _, last in last }),
            apiKeys: Dictionary((saved.apiKeys ?? []).map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }),
            usagePlans: Dictionary((saved.usagePlans ?? []).map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        )
    }

    static func encode(_ held: Held) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(
            SavedState(
                apis: held.apis.values.sorted { $0.apiId < $1.apiId },
                domainNames: held.domainNames.values.sorted { $0.domainName < $1.domainName },
                apiKeys: held.apiKeys.values.sorted { $0.id < $1.id }, usagePlans: held.usagePlans.values.sorted { $0.id < $1.id }))
    }

    /// Writes a temporary file beside `path` with mode 0600, then renames it over `path`.
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw POSIXFailure(operation: "open \(temporary)", code: errno) }
        var failure: POSIXFailure?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = POSIXFailure(operation: "write \(temporary)", code: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = POSIXFailure(operation: "fsync \(temporary)", code: errno) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = POSIXFailure(operation: "rename to \(path)", code: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): "not JSON: \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context): "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(path(context.codingPath)): \(context.debugDescription)"
        default: "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

struct POSIXFailure: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}
