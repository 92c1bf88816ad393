import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets

// Sessions left `connected` (a lost `$disconnect`, a `$connect` that outlived the integration
// timeout) were never swept: they stayed live until a post got 410.
@Suite struct SessionSweepTests {
    @Test func thePeriodicSweepMarksSessionsOlderThanTwoHoursWhileTheAppRuns() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            let store = gateway.dispatcher.store
            let api = APIID("chatlocal")
            let old = try ConnectionID("old-connection="), young = try ConnectionID("young-connection=")
            _ = try await store.connect(
                Session(connectionID: old, apiID: api, stage: "local", createdAt: Date().addingTimeInterval(-7_500)), joining: nil)
            _ = try await store.connect(Session(connectionID: young, apiID: api, stage: "local", createdAt: Date()), joining: nil)
            gateway.scheduleCleanup(every: .milliseconds(20), on: app)
            try await app.asyncBoot()
            #expect(try await eventually { try await store.session(old)?.connected == false }, "the old session was swept within 5 s")
            #expect(try await store.session(young)?.connected == true)
        }
    }
}
