public import Logging

extension Logger {
    /// A logger that discards everything: the default of every library type here, as
    /// async-http-client does. A library logs only where its user hands it a logger.
    @usableFromInline package static let disabled = Logger(label: "apigw-do-not-log", factory: { _ in SwiftLogNoOpLogHandler() })
}
