public import Logging
import NIOCore

/// A ``ConnectionPoster`` that only logs what it would send, at info level.
///
/// For running a backend with no API Gateway to post to. It never reports a connection gone.
public struct LoggingPoster: ConnectionPoster {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        logger.info(
            "post to connection (not delivered: LoggingPoster)",
            metadata: [
                "apigw.connection.id": "\(connection)", "apigw.api.id": "\(gateway.apiID)",
                "apigw.payload": "\(String(buffer: payload.bytes).prefix(200))",
            ]
        )
        return .sent
    }

    public func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        logger.info("close connection (not done: LoggingPoster)", metadata: ["apigw.connection.id": "\(connection)"])
        return .sent
    }
}
