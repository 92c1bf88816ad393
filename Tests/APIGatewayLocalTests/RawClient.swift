import APIGatewayAWS
import Foundation
import NIOCore
import NIOPosix
import PeerSupport
import Synchronization

@testable import APIGatewayLocal

/// A TCP client on loopback that sends bytes exactly as given (malformed requests, raw frames)
/// and collects what comes back, for the requests no well-behaved client library will make.
final class RawClient: Sendable {
    private final class Received: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let closed = Atomic<Bool>(false)
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: Received
        let reads: Bool
        init(_ received: Received, reads: Bool) {
            self.received = received
            self.reads = reads
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.bytes.withLock { $0 += buffer.readableBytesView }
        }
        func channelInactive(context: ChannelHandlerContext) {
            received.closed.store(true, ordering: .releasing)
            context.fireChannelInactive()
        }
    }

    let channel: any Channel
    private let received: Received

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    /// Connects to `127.0.0.1:port`. With `reads: false` the client never reads after the
    /// handshake answer: a slow reader whose kernel buffers fill.
    static func connect(port: Int, reads: Bool = true) async throws -> RawClient {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received, reads: reads)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel, received: received)
    }

    /// Stops reading from the socket: what the server sends piles up in the kernel, then in the server.
    func stopReading() async throws { try await channel.setOption(.autoRead, value: false).get() }

    func send(_ bytes: some Sequence<UInt8>) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Array(bytes)))
    }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    var bytes: [UInt8] { received.bytes.withLock { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var isClosed: Bool { received.closed.load(ordering: .acquiring) }

    /// The status of the first HTTP response, once its head has arrived; `nil` if the socket
    /// closes or `timeout` passes first.
    func status(timeout: Duration = .seconds(5)) async -> Int? {
        _ = await eventually(timeout: timeout) { self.text.contains("\r\n\r\n") || self.isClosed }
        let text = self.text
        guard text.hasPrefix("HTTP/1.1 "), text.contains("\r\n\r\n") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// The close code of the first close frame the server sent after its 101, waiting for it.
    func closeCode(timeout: Duration = .seconds(5)) async -> Int? {
        func code() -> Int? {
            Self.serverFrames(in: bytes).first { $0.opcode == 0x8 }.map { frame in
                frame.payload.count >= 2 ? Int(frame.payload[0]) << 8 | Int(frame.payload[1]) : 1005
            }
        }
        _ = await eventually(timeout: timeout) { code() != nil || self.isClosed }
        return code()  // read again: the last bytes may have come with the close
    }

    /// The text of every text frame the server sent.
    var texts: [String] {
        Self.serverFrames(in: bytes).filter { $0.opcode == 0x1 }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    func close() { channel.close(promise: nil) }

    // MARK: WebSocket by hand

    /// An upgrade request for `target` (path and query exactly as given).
    static func upgrade(_ target: String, host: String = "127.0.0.1", headers: [(String, String)] = []) -> String {
        var request =
            "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        return request + "\r\n"
    }

    /// A client frame: masked unless told otherwise, with any opcode, FIN and RSV bits.
    static func frame(opcode: UInt8, fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0x0F)]
        let mask: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case 0..<126: bytes.append(mask | UInt8(payload.count))
        case 126..<65_536: bytes += [mask | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: bytes += [mask | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard masked else { return bytes + payload }
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    /// The unmasked frames the server sent after its 101 response head.
    static func serverFrames(in bytes: [UInt8]) -> [(opcode: UInt8, payload: [UInt8])] {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == marker }) else { return [] }
        var index = headEnd + 4
        var frames: [(UInt8, [UInt8])] = []
        while index + 2 <= bytes.count {
            let opcode = bytes[index] & 0x0F
            var length = Int(bytes[index + 1] & 0x7F)
            var start = index + 2
            if length == 126 {
                guard start + 2 <= bytes.count else { break }
                length = Int(bytes[start]) << 8 | Int(bytes[start + 1])
                start += 2
            } else if length == 127 {
                guard start + 8 <= bytes.count else { break }
                length = bytes[start..<(start + 8)].reduce(0) { $0 << 8 | Int($1) }
                start += 8
            }
            guard start + length <= bytes.count else { break }
            frames.append((opcode, Array(bytes[start..<(start + length)])))
            index = start + length
        }
        return frames
    }
}

/// Signed raw requests to the gateway, with any method, path, query and body.
struct SignedRequests {
    let port: Int
    var credential = LocalGatewayConfiguration.developmentCredential
    var region = "us-east-1"

    /// The bytes of a request signed for `service`, with `date` as its `X-Amz-Date`.
    func request(
        _ method: String, _ target: String, body: [UInt8] = [], service: String = "apigateway", date: Date = Date(),
        scopeRegion: String? = nil
    ) -> [UInt8] {
        let (path, query) = splitURI(target)
        var request = SigV4Request(
            method: method, host: "127.0.0.1:\(port)", path: path, query: query ?? "",
            headers: [("Content-Length", "\(body.count)")], body: body)
        SigV4Signer(service: service, region: scopeRegion ?? region).sign(&request, credential: credential, date: date)
        var text = "\(method) \(target) HTTP/1.1\r\n"
        for header in request.headers { text += "\(header.name): \(header.value)\r\n" }
        if request.header("Host") == nil { text += "Host: 127.0.0.1:\(port)\r\n" }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8) + body
    }

    /// Sends one signed request on a fresh connection; its status and body.
    func send(
        _ method: String, _ target: String, body: [UInt8] = [], service: String = "apigateway", date: Date = Date(),
        scopeRegion: String? = nil
    ) async throws -> (status: Int?, body: String) {
        let client = try await RawClient.connect(port: port)
        defer { client.close() }
        try await client.send(request(method, target, body: body, service: service, date: date, scopeRegion: scopeRegion))
        let status = await client.status()
        _ = await eventually { client.isClosed }
        let text = client.text
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
