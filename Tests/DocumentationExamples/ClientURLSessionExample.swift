import APIGatewayWebSocketsClient
import Foundation
// APIGatewayWebSocketsClient.docc: the URLSession transport.
import APIGatewayWebSocketsClientURLSession

func connectOverURLSession(to url: URL) async throws -> GatewayClient {
    let client = GatewayClient(url: url, configuration: .init(channels: ["lobby"]), transport: URLSessionTransport())
    try await client.connect()
    return client
}
