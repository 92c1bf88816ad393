import Foundation
import Synchronization

/// Where the local gateway writes the access log of stages that have `accessLogSettings` (AWS
/// sends it to the CloudWatch log group of `destinationArn`).
public enum AccessLogDestination: Sendable, Hashable {
    case standardOutput
    /// Appended to, created with mode 0600 if missing.
    case file(String)
}

/// What an event's access-log line needs beyond its context: how it ended.
struct AccessRecord: Sendable {
    var status: Int
    var errorMessage: String?
    /// AWS's gateway response type: `UNAUTHORIZED`, `ACCESS_DENIED`, `THROTTLED`, `QUOTA_EXCEEDED`,
    /// `INTEGRATION_FAILURE`, `INTEGRATION_TIMEOUT`, `AUTHORIZER_FAILURE`, `API_CONFIGURATION_ERROR`.
    var responseType: String?
    var integrationStatus: Int?
    var integrationLatency: Int?
    var authorizerStatus: Int?
    var authorizerLatency: Int?
}

/// Writes one line per event in the stage's `accessLogSettings.format`, its `$context.NAME`
/// variables filled in (`-` for one with no value, as AWS writes it).
///
/// Lines are written on a queue of their own, never on the task that logs: a standard output
/// nobody reads (a full pipe) blocks that queue, not connects and messages. At most
/// ``pendingLimit`` lines wait; past that, lines are dropped and counted (``dropped``).
final class AccessLogWriter: Sendable {
    static let pendingLimit = 10_000

    private let destination: AccessLogDestination
    private let queue = DispatchQueue(label: "apigw.access-log")
    /// Touched on ``queue`` only.
    private let descriptor = Mutex<Int32?>(nil)
    private let pending = Atomic<Int>(0)
    private let droppedLines = Atomic<Int>(0)

    init(destination: AccessLogDestination) { self.destination = destination }

    deinit { descriptor.withLock { if let fd = $0, fd > 2 { close(fd) } } }

    /// Lines dropped because too many were waiting.
    var dropped: Int { droppedLines.load(ordering: .relaxed) }

    func write(_ line: String) {
        guard pending.wrappingAdd(1, ordering: .relaxed).newValue <= Self.pendingLimit else {
            pending.wrappingSubtract(1, ordering: .relaxed)
            droppedLines.wrappingAdd(1, ordering: .relaxed)
            return
        }
        queue.async {
            self.append(line)
            self.pending.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    /// Waits until every line written so far is out (tests).
    func flush() { queue.sync {} }

    /// Waits, at most `limit`, until no line is waiting; a destination that blocks does not hold
    /// up a shutdown.
    func drained(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while pending.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func append(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        descriptor.withLock { held in
            if held == nil {
                switch destination {
                case .standardOutput: held = STDOUT_FILENO
                case .file(let path):
                    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { return }
                    held = fd
                }
            }
            guard let fd = held else { return }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    /// `format` with each `$context.NAME` replaced by `value(NAME)`, or `-`.
    static func render(_ format: String, _ value: (Substring) -> String?) -> String {
        var output = ""
        output.reserveCapacity(format.utf8.count + 64)
        var rest = format[...]
        while let marker = rest.range(of: "$context.") {
            output += rest[..<marker.lowerBound]
            var end = marker.upperBound
            while end < rest.endIndex, rest[end].isLetter || rest[end].isNumber || rest[end] == "." || rest[end] == "_" {
                end = rest.index(after: end)
            }
            var name = rest[marker.upperBound..<end]
            while name.hasSuffix(".") {  // a sentence's full stop is not part of the name
                name = name.dropLast()
                end = rest.index(before: end)
            }
            output += name.isEmpty ? "$context." : (value(name).flatMap { $0.isEmpty ? nil : $0 } ?? "-")
            rest = rest[end...]
        }
        output += rest
        return output
    }
}

extension EventContext {
    /// `dd/MMM/yyyy:HH:mm:ss +0000`, API Gateway's `requestTime`.
    static func commonLogTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// A `$context` variable of the access log: the mapping's context values, then the ones
    /// only logs have.
    func logValue(_ name: Substring, _ record: AccessRecord) -> String? {
        switch name {
        case "status": return String(record.status)
        case "integrationStatus", "integration.status": return record.integrationStatus.map(String.init)
        case "integrationLatency", "integration.latency": return record.integrationLatency.map(String.init)
        case "authorizer.status", "authorize.status": return record.authorizerStatus.map(String.init)
        case "authorizer.latency", "authorize.latency": return record.authorizerLatency.map(String.init)
        case "error.message", "error.messageString":
            guard let message = record.errorMessage else { return nil }
            return name == "error.messageString" ? "\"\(message)\"" : message
        case "error.responseType": return record.responseType
        case "requestTime": return Self.commonLogTime(requestTime)
        case "messageDirection": return "IN"
        default: return value(of: "context." + name, body: nil)
        }
    }
}
