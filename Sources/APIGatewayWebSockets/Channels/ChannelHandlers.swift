import Foundation
import NIOCore

extension HandlerRegistry {
    /// Registers the built-in channel handlers, so clients can move themselves between channels
    /// under the rules without app code:
    ///
    /// | message | answer to the sender |
    /// | --- | --- |
    /// | `{"action":"join","channel":"c"}` | `{"type":"joined","channel":"c","connections":n,"userCount":m}` |
    /// | `{"action":"join","channel":"c","since":{"offset":n,"epoch":"e"}}` | every message of `c` after `n`, then `joined` with `"recovered":true`, `"offset"` and `"epoch"` |
    /// | `{"action":"history","channel":"c","limit":k}` (`"before":n`) | `{"type":"history","channel":"c","offset":n,"epoch":"e","messages":[…]}` |
    /// | `{"action":"resume","since":{"offset":n,"epoch":"e"}}` | the user's stream after `n`, then `{"type":"resumed","user":"ada","recovered":true,…}` |
    /// | `{"action":"leave","channel":"c"}` | `{"type":"left","channel":"c","wasMember":true}` |
    /// | `{"action":"change-channel","channel":"c"}` | `joined`, after leaving every other channel |
    /// | `{"action":"channels"}` | `{"type":"channels","channels":["a","c"]}` |
    /// | `{"action":"presence","channel":"c"}` | `{"type":"presence","channel":"c","connections":n,"userCount":m,"users":["ada"]}` |
    ///
    /// A join the rules refuse is answered 401 or 403 with the reason; presence is only for
    /// members of the channel (403 otherwise), and lists at most `presenceLimit` users.
    ///
    /// With streams on (``GatewayConfiguration/streams``), `joined` carries the channel's position
    /// (`offset`, `epoch`), and a join with `since` replays what the client missed before its answer:
    /// `"recovered": false` says the history no longer reaches back (or the epoch changed) and
    /// nothing was replayed. A stream nothing was published to is at offset 0 of epoch `""`; a
    /// join `since` that position is replayed the stream from its first message. `history` is for anyone the channel's rules let join; `resume` is the
    /// user's own stream. Without streams, `since` is ignored and `history` and `resume` are 400s.
    public mutating func addChannelHandlers(presenceLimit: Int = 500) {
        on("join", ChannelRequest.self) { request, context in
            try await context.join(request.channel)
            var joined = Joined(try await context.channels.count(of: request.channel, apiID: context.gateway.apiID))
            if let streams = context.streams {
                let stream = StreamID.channel(request.channel)
                if let since = request.since {
                    let recovery = try await streams.replay(stream, since: since, to: context.connectionID, on: context.gateway)
                    joined.recovered = recovery.recovered
                    joined.position = recovery.position
                } else {
                    joined.position = try await streams.position(of: stream, apiID: context.gateway.apiID)
                }
            }
            try await context.reply(joined)
        }
        on("history", HistoryRequest.self) { request, context in
            guard let streams = context.streams else { throw StreamError.off }
            let session = context.session
            try await context.channels.check(request.channel, connection: session.connectionID, apiID: session.apiID, userID: session.userID)
            let stream = StreamID.channel(request.channel)
            let head = try await streams.position(of: stream, apiID: context.gateway.apiID)
            let messages = try await streams.history(
                of: stream, apiID: context.gateway.apiID, before: request.before, limit: request.limit ?? streams.configuration.maximumHistory)
            try await context.reply(try HistoryAnswer.payload(channel: request.channel, head: head, messages: messages))
        }
        on("resume", ResumeRequest.self) { request, context in
            guard let streams = context.streams else { throw StreamError.off }
            guard let user = context.session.userID else { throw Refusal.loginRequired("resuming a user's stream") }
            let recovery = try await streams.replay(.user(user), since: request.since, to: context.connectionID, on: context.gateway)
            try await context.reply(Resumed(user: user, recovered: recovery.recovered, position: recovery.position))
        }
        on("change-channel", ChannelRequest.self) { request, context in
            try await context.changeChannel(to: request.channel)
            try await context.reply(Joined(try await context.channels.count(of: request.channel, apiID: context.gateway.apiID)))
        }
        on("leave", ChannelRequest.self) { request, context in
            try await context.reply(Left(channel: request.channel, wasMember: try await context.leave(request.channel)))
        }
        onRaw("channels") { _, context in
            try await context.reply(Joined.List(channels: try await context.joinedChannels()))
        }
        on("presence", ChannelRequest.self) { request, context in
            let apiID = context.gateway.apiID
            guard try await context.joinedChannels().contains(request.channel) else { throw Refusal.notInChannel(request.channel) }
            let count = try await context.channels.count(of: request.channel, apiID: apiID)
            let users = try await context.channels.users(in: request.channel, apiID: apiID, limit: presenceLimit)
            try await context.reply(
                Presence(channel: request.channel, connections: count.connections, userCount: count.users, users: users))
        }
    }
}

private struct ChannelRequest: Decodable, Sendable {
    let channel: ChannelName
    /// The last position the client had, to replay what came after.
    let since: StreamPosition?
}

private struct HistoryRequest: Decodable, Sendable {
    let channel: ChannelName
    let limit: Int?
    let before: Int?
}

private struct ResumeRequest: Decodable, Sendable {
    let since: StreamPosition
}

private struct Joined: Encodable {
    let type = "joined"
    let channel: ChannelName
    let connections: Int
    let userCount: Int
    var recovered: Bool?
    var position: StreamPosition?

    enum CodingKeys: CodingKey { case type, channel, connections, userCount, recovered, offset, epoch }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(channel, forKey: .channel)
        try container.encode(connections, forKey: .connections)
        try container.encode(userCount, forKey: .userCount)
        try container.encodeIfPresent(recovered, forKey: .recovered)
        try container.encodeIfPresent(position?.offset, forKey: .offset)
        try container.encodeIfPresent(position?.epoch, forKey: .epoch)
    }

    init(_ count: ChannelCount) {
        channel = count.channel
        connections = count.connections
        userCount = count.users
    }

    struct List: Encodable {
        let type = "channels"
        let channels: [ChannelName]
    }
}

private struct Left: Encodable {
    let type = "left"
    let channel: ChannelName
    let wasMember: Bool
}

private struct Presence: Encodable {
    let type = "presence"
    let channel: ChannelName
    let connections: Int
    let userCount: Int
    let users: [String]
}

private struct Resumed: Encodable {
    let type = "resumed"
    let user: String
    let recovered: Bool
    let position: StreamPosition

    enum CodingKeys: CodingKey { case type, user, recovered, offset, epoch }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(user, forKey: .user)
        try container.encode(recovered, forKey: .recovered)
        try container.encode(position.offset, forKey: .offset)
        try container.encode(position.epoch, forKey: .epoch)
    }
}

/// `{"type":"history","channel":…,"offset":…,"epoch":…,"messages":[…]}`, the messages as clients
/// receive them, oldest first; the oldest are left out when all of them would pass API Gateway's
/// 128 KiB (`"complete": false` then).
private enum HistoryAnswer {
    static func payload(channel: ChannelName, head: StreamPosition, messages: [StreamMessage]) throws -> Payload {
        var answer = ByteBuffer()
        answer.writeString(#"{"type":"history","channel":"\#(channel.rawValue)","offset":\#(head.offset),"epoch":"#)
        answer.writeBytes(try JSONEncoder().encode(head.epoch))
        let stamped = try messages.map { try $0.stamped().bytes }
        // The newest that fit, with room for the closing keys and the request's id (`answering`
        // puts it first: up to a few hundred bytes escaped).
        var room = Payload.maxSize - answer.readableBytes - 64 - 1024
        var first = stamped.endIndex
        while first > stamped.startIndex, stamped[first - 1].readableBytes + 1 <= room {
            first -= 1
            room -= stamped[first].readableBytes + 1
        }
        answer.writeString(#","complete":\#(first == stamped.startIndex),"messages":["#)
        for (index, message) in stamped[first...].enumerated() {
            if index > 0 { answer.writeString(",") }
            answer.writeImmutableBuffer(message)
        }
        answer.writeString("]}")
        return try Payload(bytes: answer)
    }
}
