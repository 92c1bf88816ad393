/// What happened to one post to one connection.
public struct PostResult: Hashable, Sendable {
    private enum Kind: Hashable, Sendable { case sent, gone }
    private let kind: Kind

    /// API Gateway accepted the message for the connection.
    public static let sent = PostResult(kind: .sent)
    /// The connection no longer exists (`410 GoneException`).
    public static let gone = PostResult(kind: .gone)
}

/// Posts one message to one connection through API Gateway's `@connections` API.
///
/// The ``Messenger`` fans out over this; the AWS layer's `ManagementClient` implements it with
/// SigV4, and the test kit's `RecordingPoster` records what would have been sent.
public protocol ConnectionPoster: Sendable {
    /// Posts `payload` to `connection` on `gateway`'s API and stage.
    /// - Returns: ``PostResult/sent`` or ``PostResult/gone``.
    /// - Throws: any other failure (throttling, network, signing) after the poster's own retries.
    func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult

    /// Closes `connection` (`DELETE @connections/{id}`; API Gateway then sends `$disconnect`).
    /// - Returns: ``PostResult/sent`` when closed, ``PostResult/gone`` when it was already gone.
    func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult
}
