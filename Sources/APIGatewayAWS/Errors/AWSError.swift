import Foundation

/// An error answer from an AWS API, read as botocore reads it: the code from `x-amzn-ErrorType`
/// (with anything after `:` and the namespace before `#` stripped), else the body's
/// `code`/`Code`/`__type`, else the HTTP status.
///
/// ```swift
/// do { try await client.post(data, to: id, endpoint: endpoint) }
/// catch let error as AWSError where error.isGone { … }
/// ```
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An AWS error code, e.g. `GoneException`. An open set: compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// 410: the connection is closed or never existed.
        public static let gone: Code = "GoneException"
        /// 403: bad signature, or no `execute-api:ManageConnections`.
        public static let forbidden: Code = "ForbiddenException"
        /// 429: throttled, or the client's buffer is full.
        public static let limitExceeded: Code = "LimitExceededException"
        /// 413: the payload is over 128 KiB.
        public static let payloadTooLarge: Code = "PayloadTooLargeException"
        /// 400: e.g. a malformed connection id.
        public static let badRequest: Code = "BadRequestException"
        /// 404: the resource does not exist (control plane).
        public static let notFound: Code = "NotFoundException"
        /// 409: the resource exists or is being changed (control plane).
        public static let conflict: Code = "ConflictException"
        /// 429: throttled (control plane).
        public static let tooManyRequests: Code = "TooManyRequestsException"
        /// 403: not allowed (control plane).
        public static let accessDenied: Code = "AccessDeniedException"
    }

    public let status: Int
    public let code: Code
    public let message: String?
    /// `x-amzn-RequestId`, for AWS support.
    public let requestID: String?

    public init(status: Int, code: Code, message: String? = nil, requestID: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// The connection is gone: `GoneException`, or any 410 (a proxy's answer, or one without
    /// `x-amzn-ErrorType` and body, still means the connection does not exist).
    public var isGone: Bool { code == .gone || status == 410 }

    /// Worth retrying with backoff: throttling and server errors.
    public var isRetryable: Bool {
        status == 429 || status >= 500 || code == .limitExceeded || code == .tooManyRequests
    }

    public var description: String {
        "\(code) (\(status))" + (message.map { ": \($0)" } ?? "") + (requestID.map { " [request \($0)]" } ?? "")
    }

    /// Reads an error answer.
    static func parse(status: Int, errorTypeHeader: String?, requestID: String?, body: [UInt8]) -> AWSError {
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        var code: String?
        if let header = errorTypeHeader, !header.isEmpty {
            var text = Substring(header)
            if let colon = text.firstIndex(of: ":") { text = text[..<colon] }
            if let hash = text.lastIndex(of: "#") { text = text[text.index(after: hash)...] }
            code = String(text)
        }
        if code == nil || code!.isEmpty {
            let raw = (json?["code"] ?? json?["Code"] ?? json?["__type"]) as? String
            code = raw.map { $0.split(separator: "#").last.map(String.init) ?? $0 }
        }
        let message = (json?["message"] ?? json?["Message"]) as? String
        return AWSError(
            status: status, code: Code(code.flatMap { $0.isEmpty ? nil : $0 } ?? String(status)), message: message, requestID: requestID)
    }
}
