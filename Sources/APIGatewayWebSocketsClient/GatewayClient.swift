public import Foundation

/// A Swift client of a gateway: connects (with a fresh one-time token each time, if the backend
/// wants one), reconnects with jittered, capped backoff, sends a heartbeat, matches answers to
/// requests by id (a refusal is a ``GatewayRefusal``), and keeps its channels: it re-joins them
/// after every reconnect from the last position it saw, so the backend replays what was missed,
/// and drops a message it has already had. What is neither an answer nor a duplicate comes out of
/// ``messages``.
///
/// ```swift
/// let client = GatewayClient(
///     url: URL(string: "ws://127.0.0.1:8081/abc123/local")!,
///     configuration: .init(token: { try await fetchToken() }, channels: ["lobby"]))
/// try await client.connect()
/// let me = try await client.request(["action": "whoami"], as: WhoAmI.self)
/// for await message in client.messages { print(message.channel ?? "", String(decoding: message.data, as: UTF8.self)) }
/// ```
public actor GatewayClient {
    public struct Configuration: Sendable {
        /// Fetches a one-time connection token for each connect (`nil`: connect without one).
        public var token: (@Sendable () async throws -> String)?
        /// The query parameter the token goes in (`ws_token`).
        public var tokenParameter: String
        /// Headers of every handshake.
        public var headers: [(String, String)]
        /// Joined on every connect, the first one through `?channel=`.
        public var channels: [String]
        public var requestTimeout: Duration
        /// Between heartbeats, and the heartbeat's action (`nil`: none).
        public var heartbeatInterval: Duration
        public var heartbeatAction: String?
        /// A connection is renewed (a new one opened, the channels resumed on it) this long after
        /// it opened: ahead of API Gateway's 2-hour cut (1 h 58 min). `nil`: never.
        public var maximumAge: Duration?
        /// The first reconnect's delay, doubled each time up to `maximumBackoff`, each delay
        /// drawn between half and all of it.
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        /// Failed connects in a row before the client gives up, for a first connect (which then
        /// throws) and after a cut alike (`nil`: never).
        public var maximumFailedConnects: Int?
        public var handshakeTimeout: Duration

        public init(
            token: (@Sendable () async throws -> String)? = nil, tokenParameter: String = "ws_token", headers: [(String, String)] = [],
            channels: [String] = [], requestTimeout: Duration = .seconds(10), heartbeatInterval: Duration = .seconds(240),
            heartbeatAction: String? = "ping", initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(30),
            maximumFailedConnects: Int? = nil, handshakeTimeout: Duration = .seconds(15), maximumAge: Duration? = .seconds(7080)
        ) {
            self.maximumAge = maximumAge
            self.token = token
            self.tokenParameter = tokenParameter
            self.headers = headers
            self.channels = channels
            self.requestTimeout = requestTimeout
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatAction = heartbeatAction
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.maximumFailedConnects = maximumFailedConnects
            self.handshakeTimeout = handshakeTimeout
        }
    }

    public enum Status: Sendable, Hashable {
        case idle, connecting, connected, reconnecting, closed
    }

    public nonisolated let url: URL
    public nonisolated let configuration: Configuration
    /// What the backend sends that answers no request: channel messages (each once, in order of
    /// arrival), presence, pushes.
    public nonisolated let messages: AsyncStream<GatewayMessage>
    public private(set) var status = Status.idle
    /// Connects made since ``connect()``, the first included.
    public private(set) var connects = 0

    private let transport: any GatewayTransport
    private let output: AsyncStream<GatewayMessage>.Continuation
    private var connection: (any GatewayConnection)?
    private var channels: [String]
    private var positions: [String: StreamPosition] = [:]
    /// Messages that came before the ones ahead of them, by stream and offset, and the streams
    /// whose gap is being filled.
    private var held: [String: [Int: GatewayMessage]] = [:]
    private var filling: Set<String> = []
    private var pending: [String: CheckedContinuation<Data, any Error>] = [:]
    private var nextID = 1
    private var running: Task<Void, Never>?
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var closedForGood = false
    /// Set while the connection is closed to be renewed.
    private var renewal = false
    /// The ids of this client's requests: `s1`, `s2`, …
    private static let requestIDPrefix = "s"

    public init(url: URL, configuration: Configuration = Configuration(), transport: any GatewayTransport = WebSocketKitTransport()) {
        self.url = url
        self.configuration = configuration
        self.transport = transport
        self.channels = configuration.channels
        (messages, output) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    /// Connects, and keeps reconnecting until ``close()``. Returns once connected (and the
    /// channels joined).
    /// - Throws: the last connect's error once ``Configuration/maximumFailedConnects`` have failed
    ///   in a row, or ``GatewayRefusal`` (status 0) when closed meanwhile.
    public func connect() async throws {
        if status == .connected { return }
        // Closed is for good: its messages have ended.
        if closedForGood { throw GatewayRefusal(status: 0, reason: "closed") }
        if running == nil {
            status = .connecting
            running = Task { await self.run() }
        }
        try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    /// Closes for good: no reconnect; waiting requests fail.
    public func close() async {
        closedForGood = true
        running?.cancel()
        running = nil
        status = .closed
        let open = connection
        connection = nil
        await open?.close()
        failPending(GatewayRefusal(status: 0, reason: "closed"))
        resumeWaiters(throwing: GatewayRefusal(status: 0, reason: "closed"))
        output.finish()
    }

    /// Sends `message` (an object) without waiting for an answer.
    public func send(_ message: some Encodable & Sendable) async throws {
        guard let connection, status == .connected else { throw GatewayRefusal(status: 0, reason: "not connected") }
        try await connection.send(String(decoding: try JSONEncoder().encode(message), as: UTF8.self))
    }

    /// Sends `message` with a fresh `id` and decodes the answer under that id as `Answer`.
    /// - Throws: ``GatewayRefusal`` with the backend's status and reason when it refuses the
    ///   request; status 0 when no answer comes in time or the connection is lost.
    public func request<Answer: Decodable>(
        _ message: some Encodable & Sendable, as type: Answer.Type = Answer.self, timeout: Duration? = nil
    ) async throws -> Answer {
        try JSONDecoder().decode(Answer.self, from: try await requestData(message, timeout: timeout))
    }

    /// Sends `message` to its ``ActionMessage/action``'s handler without waiting for an answer.
    public func send<Message: ActionMessage>(_ message: Message) async throws {
        try await send(ActionFrame(message: message))
    }

    /// Sends `request` to its ``ActionMessage/action``'s handler with a fresh `id` and decodes the
    /// answer under that id as the request's `Answer`.
    /// - Throws: ``GatewayRefusal``, as ``request(_:as:timeout:)`` does.
    public func request<Request: ActionRequest>(_ request: Request, timeout: Duration? = nil) async throws -> Request.Answer {
        try await self.request(ActionFrame(message: request), as: Request.Answer.self, timeout: timeout)
    }

    /// Joins `channel` now and on every reconnect, from the last position seen.
    @discardableResult
    public func join(_ channel: String) async throws -> JoinAnswer {
        let answer: JoinAnswer = try await request(JoinRequest(channel: channel, since: positions["channel:" + channel]))
        if !channels.contains(channel) { channels.append(channel) }
        settle(channel, answer)
        return answer
    }

    /// Leaves `channel`, and stops re-joining it.
    public func leave(_ channel: String) async throws {
        channels.removeAll { $0 == channel }
        _ = try await requestData(["action": "leave", "channel": channel], timeout: nil)
    }

    /// The last position seen in `channel`'s stream.
    public func position(of channel: String) -> StreamPosition? { positions["channel:" + channel] }

    // MARK: The connection's life

    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let open = try await transport.open(try await connectURL(), headers: configuration.headers, timeout: configuration.handshakeTimeout)
                connection = open
                connects += 1
                failures = 0
                let reading = Task { await self.read(open) }
                try await rejoin()
                status = .connected
                resumeWaiters(throwing: nil)
                let beating = Task { await self.heartbeat(open) }
                // Renewed before API Gateway cuts it: closing it ends the reading, and the loop
                // opens the next one at once.
                let renewing = configuration.maximumAge.map { age in
                    Task {
                        try await Task.sleep(for: age)
                        self.markRenewal()
                        await open.close()
                    }
                }
                await reading.value
                beating.cancel()
                renewing?.cancel()
                if renewal {
                    renewal = false
                    connection = nil
                    failPending(GatewayRefusal(status: 0, reason: "the connection was renewed"))
                    continue  // no backoff: a renewal is not a failure
                }
            } catch {
                failures += 1
                if let limit = configuration.maximumFailedConnects, failures >= limit, status != .connected {
                    resumeWaiters(throwing: error)
                    running = nil
                    status = .closed
                    return
                }
            }
            connection = nil
            failPending(GatewayRefusal(status: 0, reason: "the connection was lost"))
            guard !Task.isCancelled else { return }
            status = .reconnecting
            try? await Task.sleep(for: Self.backoff(attempt: failures, initial: configuration.initialBackoff, maximum: configuration.maximumBackoff))
        }
    }

    /// The delay before reconnect `attempt` (0: the first after a cut): the initial delay doubled
    /// per attempt, capped, then drawn between half and all of it.
    public static func backoff(
        attempt: Int, initial: Duration, maximum: Duration, random: Double = Double.random(in: 0.5...1)
    ) -> Duration {
        let doubled = initial * Int(1 << min(max(attempt, 0), 20))
        return min(doubled, maximum) * random
    }

    private func connectURL() async throws -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw GatewayTransportError(description: "\(url) is not a URL")
        }
        var items = components.queryItems ?? []
        if let first = channels.first { items.append(URLQueryItem(name: "channel", value: first)) }
        if let token = configuration.token { items.append(URLQueryItem(name: configuration.tokenParameter, value: try await token())) }
        components.queryItems = items.isEmpty ? nil : items
        guard let connectURL = components.url else { throw GatewayTransportError(description: "\(url) with its query is not a URL") }
        return connectURL
    }

    /// Joins every channel again from its last position (the first was joined by the handshake's
    /// `?channel=` without one: it is joined again with it, so what was missed is replayed).
    private func rejoin() async throws {
        for channel in channels {
            let answer: JoinAnswer = try await request(JoinRequest(channel: channel, since: positions["channel:" + channel]))
            settle(channel, answer)
        }
    }

    private func markRenewal() { renewal = true }

    private func heartbeat(_ open: any GatewayConnection) async {
        guard let action = configuration.heartbeatAction else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            guard !Task.isCancelled else { return }
            try? await open.send(#"{"action":\#(String(decoding: try! JSONEncoder().encode(action), as: UTF8.self))}"#)
        }
    }

    private func read(_ open: any GatewayConnection) async {
        for await text in open.inbound { receive(Data(text.utf8)) }
    }

    private func receive(_ data: Data) {
        let message = GatewayMessage(data: data)
        if let id = message.id, id.hasPrefix(Self.requestIDPrefix) {
            // An answer: to its request, or, when that request has given up, to no one.
            guard let waiter = pending.removeValue(forKey: id) else { return }
            if message.type == "error" {
                waiter.resume(throwing: GatewayRefusal(status: message.status ?? 0, reason: message.reason ?? "refused"))
            } else {
                waiter.resume(returning: data)
            }
            return
        }
        if message.type == "pong" { return }
        guard let key = message.streamKey, let offset = message.offset, let epoch = message.epoch, let known = positions[key],
            known.epoch == epoch
        else {
            // Not in a stream, the first of its stream, or a new epoch: from here on.
            if let key = message.streamKey, let offset = message.offset, let epoch = message.epoch {
                positions[key] = StreamPosition(offset: offset, epoch: epoch)
            }
            output.yield(message)
            return
        }
        if offset <= known.offset { return }  // had it
        if offset > known.offset + 1 {
            // Early: the ones before it are missing. Held, and the channel joined again from the
            // last position seen, so the backend replays them; the position does not jump the gap.
            held[key, default: [:]][offset] = message
            if let channel = message.channel, !filling.contains(key) {
                filling.insert(key)
                Task { await self.fillGap(channel, key: key) }
            }
            return
        }
        deliver(message, key: key)
    }

    /// Yields `message` (the next of its stream), then every held one that follows it.
    private func deliver(_ message: GatewayMessage, key: String) {
        var next = message
        while true {
            guard let offset = next.offset, let epoch = next.epoch else { return }
            positions[key] = StreamPosition(offset: offset, epoch: epoch)
            output.yield(next)
            guard let following = held[key]?.removeValue(forKey: offset + 1) else { return }
            next = following
        }
    }

    /// Asks for what is missing before a held message: a join from the last position seen. What
    /// the replay cannot bring (the history no longer reaches back) is given up, and the held
    /// messages go out from the first of them.
    private func fillGap(_ channel: String, key: String) async {
        defer { filling.remove(key) }
        // The replay comes before the answer; whether the join worked shows in what is still held.
        _ = try? await request(JoinRequest(channel: channel, since: positions[key]), as: JoinAnswer.self)
        guard var waiting = held[key], !waiting.isEmpty else { return }
        if let first = waiting.keys.min(), let message = waiting.removeValue(forKey: first) {
            held[key] = waiting
            deliver(message, key: key)
        }
        if held[key]?.isEmpty == true { held[key] = nil }
    }

    private func settle(_ channel: String, _ answer: JoinAnswer) {
        let key = "channel:" + channel
        guard let epoch = answer.epoch, let offset = answer.offset else { return }
        if answer.recovered == false || positions[key] == nil || positions[key]?.epoch != epoch {
            positions[key] = StreamPosition(offset: offset, epoch: epoch)
        }
    }

    private func requestData(_ message: some Encodable & Sendable, timeout: Duration?) async throws -> Data {
        guard let connection else { throw GatewayRefusal(status: 0, reason: "not connected") }
        let id = "\(Self.requestIDPrefix)\(nextID)"
        nextID += 1
        guard var object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(message)) as? [String: Any] else {
            throw GatewayRefusal(status: 0, reason: "a request is a JSON object")
        }
        object["id"] = id
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let limit = timeout ?? configuration.requestTimeout
        let expiry = Task {
            try await Task.sleep(for: limit)
            self.expire(id)
        }
        defer { expiry.cancel() }
        return try await withCheckedThrowingContinuation { waiter in
            pending[id] = waiter
            Task {
                do { try await connection.send(text) } catch { self.fail(id, error) }
            }
        }
    }

    private func expire(_ id: String) { fail(id, GatewayRefusal(status: 0, reason: "no answer in time")) }

    private func fail(_ id: String, _ error: any Error) { pending.removeValue(forKey: id)?.resume(throwing: error) }

    private func failPending(_ error: any Error) {
        let waiting = pending
        pending = [:]
        for waiter in waiting.values { waiter.resume(throwing: error) }
    }

    private func resumeWaiters(throwing error: (any Error)?) {
        let waiting = waiters
        waiters = []
        for waiter in waiting {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}

/// A refused request (`status` and `reason` as the backend answered), or status 0: no answer in
/// time, the connection lost, the client closed.
public struct GatewayRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public let status: Int
    public let reason: String
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }
    public var description: String { "\(status) \(reason)" }
}

/// A stream's last offset and its epoch.
public struct StreamPosition: Codable, Sendable, Hashable {
    public var offset: Int
    public var epoch: String
    public init(offset: Int, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }
}

/// The answer to a join: where the channel's stream is, and whether the replay lost nothing.
public struct JoinAnswer: Decodable, Sendable, Hashable {
    public var channel: String?
    public var offset: Int?
    public var epoch: String?
    public var recovered: Bool?
}

struct JoinRequest: Encodable, Sendable {
    var action = "join"
    var channel: String
    var since: StreamPosition?
}

/// One message from the backend: its JSON, with the fields the client reads out of it.
public struct GatewayMessage: Sendable, Hashable {
    public let data: Data
    public let type: String?
    public let channel: String?
    public let user: String?
    public let offset: Int?
    public let epoch: String?
    let id: String?
    let status: Int?
    let reason: String?

    init(data: Data) {
        self.data = data
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        type = object["type"] as? String
        channel = object["channel"] as? String
        user = object["user"] as? String
        offset = object["offset"] as? Int
        epoch = object["epoch"] as? String
        id = object["id"] as? String
        status = object["status"] as? Int
        reason = object["reason"] as? String
    }

    /// The stream it belongs to (`channel:lobby`, `user:ada`), when it carries a position.
    var streamKey: String? { channel.map { "channel:" + $0 } ?? user.map { "user:" + $0 } }

    /// The message as `T`: the same `Codable` type the server's handler encoded.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T { try JSONDecoder().decode(T.self, from: data) }
}
