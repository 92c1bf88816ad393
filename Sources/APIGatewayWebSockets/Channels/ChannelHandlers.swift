extension HandlerRegistry {
    /// Registers the built-in channel handlers, so clients can move themselves between channels
    /// under the rules without app code:
    ///
    /// | message | answer to the sender |
    /// | --- | --- |
    /// | `{"action":"join","channel":"c"}` | `{"type":"joined","channel":"c","connections":n,"userCount":m}` |
    /// | `{"action":"leave","channel":"c"}` | `{"type":"left","channel":"c","wasMember":true}` |
    /// | `{"action":"change-channel","channel":"c"}` | `joined`, after leaving every other channel |
    /// | `{"action":"channels"}` | `{"type":"channels","channels":["a","c"]}` |
    /// | `{"action":"presence","channel":"c"}` | `{"type":"presence","channel":"c","connections":n,"userCount":m,"users":["ada"]}` |
    ///
    /// A join the rules refuse is answered 401 or 403 with the reason; presence is only for
    /// members of the channel (403 otherwise), and lists at most `presenceLimit` users.
    public mutating func addChannelHandlers(presenceLimit: Int = 500) {
        on("join", ChannelRequest.self) { request, context in
            try await context.join(request.channel)
            try await context.reply(Joined(try await context.channels.count(of: request.channel, apiID: context.gateway.apiID)))
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
}

private struct Joined: Encodable {
    let type = "joined"
    let channel: ChannelName
    let connections: Int
    let userCount: Int

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
