import APIGatewayWebSockets
import APIGatewayAWS
import APIGatewayWebSocketsTesting
import Foundation
import HTTPTypes
import InMemoryTracing
import Instrumentation
import Logging
import NIOCore
import PeerSupport
import ServiceContextModule
import Synchronization
import Testing

/// An event's span continues the caller's trace, with child spans for the store and the handler,
/// and the event's log lines carry API Gateway's trace id.
@Suite struct TracingTests {
    /// The tracer, bootstrapped once per process.
    static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    /// Log lines, with their metadata.
    final class Lines: Sendable {
        let recorded = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
    }

    struct Recorder: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.recorded.withLock { $0.append(("\(event.message)", all)) }
        }
    }

    @Test func theAmazonTraceHeaderIsRead() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        let trace = AmazonTraceID(header)
        #expect(trace?.root == "1-5759e988-bd862e3fe1be46a994272793")
        #expect(trace?.traceparent == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01", "W3C trace context continues it")
        #expect(AmazonTraceID("Root=1-5759e988-bd862e3fe1be46a994272793")?.traceparent == nil, "no parent: a root to continue from")
        #expect(AmazonTraceID("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")?.sampled == false)
        // Fields in any order, spaces after `;`, fields of its own ignored, hex in either case.
        let mixed = AmazonTraceID(
            "Self=1-67891234-12456789abcdef012345678;Sampled=1; Parent=53995C3F42CD8AD8; Root=1-5759E988-BD862E3FE1BE46A994272793")
        #expect(mixed?.traceparent == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
        #expect(mixed?.root == "1-5759E988-BD862E3FE1BE46A994272793", "the root as written, for the logs")
        for bad in [
            "", "Root=2-5759e988-bd862e3fe1be46a994272793", "Root=1-zz59e988-bd862e3fe1be46a994272793", "Parent=53995c3f42cd8ad8",
            "Root=1-00000000-000000000000000000000000", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz",
            "Root=1-5759e988-bd862e3fe1be46a99427279", "Root=1-5759e988-bd862e3fe1be46a9942727933",
            "Root=1-5759e988bd862e3fe1be46a994272793",
            "Root=1-5759e988-bd862e3fe1be46a99427279\u{FF13}", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad",
        ] {
            #expect(AmazonTraceID(bad) == nil, "'\(bad)'")
        }
    }

    @Test func anEventsSpansShareTheCallersTraceAndItsLogsTheTraceID() async throws {
        let tracer = Self.tracer
        let lines = Lines()
        let logger = Logger(label: "test") { _ in Recorder(lines: lines) }
        let store = InMemoryConnectionStore()
        let poster = RecordingPoster()
        let records = [GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1")]
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["s3cret"]), store: store, gateways: CachedGatewayDirectory(records),
            poster: poster,
            logger: logger)
        _ = try dispatcher.register(EchoController())
        let gateway = FakeAPIGateway(
            apiID: apiID, stage: "dev", routes: dispatcher.routes, secret: "s3cret", transport: DispatcherTransport(dispatcher: dispatcher))
        let connection = try await gateway.connect()
        // The caller's trace context, in the tracer's own propagation headers.
        let traceID = "trace-" + UUID().uuidString
        var request = try connection.request(for: ByteBuffer(string: #"{"handler":"greet","name":"ada"}"#))
        request.headerFields[HTTPField.Name(InMemoryTracer.traceIDKey)!] = traceID
        request.headerFields[HTTPField.Name(InMemoryTracer.spanIDKey)!] = "caller-span"
        request.headerFields[.amznTraceID] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        #expect(try await gateway.transport.send(request).status == .ok)

        let spans = tracer.finishedSpans.filter { $0.traceID == traceID }
        let server = try #require(spans.first { $0.operationName == "apigw message $default" }, "\(spans.map(\.operationName))")
        #expect(server.parentSpanID == "caller-span" && server.kind == .server, "the event's span continues the caller's")
        let children = spans.filter { $0.parentSpanID == server.spanID }.map(\.operationName)
        #expect(children.contains("store touch") && children.contains("handler greet"), "\(children)")

        // A refused message logs its refusal, with the trace id.
        var refused = try connection.request(for: ByteBuffer(string: #"{"handler":"teapot"}"#))
        refused.headerFields[.amznTraceID] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        #expect(try await gateway.transport.send(refused).status.code == 418)
        let messageLines = lines.recorded.withLock { $0 }.filter { $0.metadata["apigw.event"].map { "\($0)" } == "message" }
        #expect(!messageLines.isEmpty, "the message logged")
        #expect(
            messageLines.allSatisfy { $0.metadata["apigw.trace.id"].map { "\($0)" } == "1-5759e988-bd862e3fe1be46a994272793" },
            "every line of the event carries API Gateway's trace id: \(messageLines.map(\.message))")
    }

    /// A post is one span, the management client's: the HTTP client's own span under it cost 4%
    /// of a posted reply's CPU even with nothing tracing.
    @Test func aPostIsOneSpan() async throws {
        let tracer = Self.tracer
        let sink = try await LoopbackServer { _ in .init(status: 200) }
        let http = ManagementClient.makeHTTPClient(maximumConnections: 1)
        let client = ManagementClient(httpClient: http, credentials: StaticCredentialProvider(Credential(accessKeyID: "AKID", secretAccessKey: "s")))
        var context = ServiceContext.topLevel
        let traceID = "trace-" + UUID().uuidString
        tracer.extract(
            [InMemoryTracer.traceIDKey: traceID, InMemoryTracer.spanIDKey: "caller"], into: &context, using: DictionaryExtractor())
        try await ServiceContext.withValue(context) {
            try await client.post(ByteBuffer(string: "{}"), to: "abc=", endpoint: try ManagementEndpoint(url: sink.url + "/dev"), region: "eu-west-1")
        }
        let spans = tracer.finishedSpans.filter { $0.traceID == traceID }
        #expect(spans.map(\.operationName) == ["@connections POST"])
        try await http.shutdown()
        try await sink.close()
    }

    struct DictionaryExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}
