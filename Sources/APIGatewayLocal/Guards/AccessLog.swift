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
final class AccessLogWriter: Sendable {
    private let destination: AccessLogDestination
    private let descriptor = Mutex<Int32?>(nil)

    init(destination: AccessLogDestination) { self.destination = destination }

    deinit { descriptor.withLock { if let fd = $0, fd > 2 { close(fd) } } }

    func write(_ line: String) {
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
