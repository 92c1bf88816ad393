/// A fault on this side of an AWS call: nothing AWS answered with an error, but the call could not
/// be made or its answer could not be read. ``AWSError`` is kept for what AWS said.
///
/// ```swift
/// catch let error as AWSClientError { print("not an AWS answer: \(error)") }
/// ```
public struct AWSClientError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case invalidResponse(operation: String, reason: String)
        case invalidEndpoint(String)
    }

    private let kind: Kind

    /// A success answer whose body is not what the operation returns.
    public static func invalidResponse(_ operation: String, reason: String) -> AWSClientError {
        AWSClientError(kind: .invalidResponse(operation: operation, reason: reason))
    }

    /// An endpoint override that is not an `http(s)` URL with a host.
    public static func invalidEndpoint(_ endpoint: String) -> AWSClientError { AWSClientError(kind: .invalidEndpoint(endpoint)) }

    public var description: String {
        switch kind {
        case .invalidResponse(let operation, let reason): "\(operation): the answer did not decode: \(reason)"
        case .invalidEndpoint(let endpoint): "the endpoint \(endpoint) is not a URL"
        }
    }
}
