import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayAWS

@Suite struct CredentialTests {
    /// The providers' timeouts (1 and 2 s, as boto3's) where a test expects an answer: a full run
    /// on two loaded cores once answered a loopback server past them.
    static let loaded: TimeAmount = .seconds(15)

    let expiry = "2030-01-02T03:04:05Z"

    func document(_ key: String, expiration: String? = nil) -> String {
        #"{"Code":"Success","AccessKeyId":"\#(key)","SecretAccessKey":"secret-\#(key)","Token":"token-\#(key)","Expiration":"\#(expiration ?? expiry)"}"#
    }

    @Test func environment() async throws {
        let credential = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t", "AWS_CREDENTIAL_EXPIRATION": expiry,
        ]).credential()
        #expect(credential == Credential(accessKeyID: "AKIAENV", secretAccessKey: "s", sessionToken: "t", expiration: parseISO8601(expiry)))
        let legacy = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "old",
        ]).credential()
        #expect(legacy.sessionToken == "old")
        await #expect(throws: CredentialError.notConfigured("environment: AWS_ACCESS_KEY_ID is not set")) {
            try await EnvironmentCredentialProvider(environment: [:]).credential()
        }
        await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "A"]).credential()
        }
    }

    @Test func sharedFiles() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let credentials = folder.appendingPathComponent("credentials").path
        let config = folder.appendingPathComponent("config").path
        try """
        # a comment
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default-secret

        [work]
        aws_access_key_id=AKIAWORK
        aws_secret_access_key=work-secret
        aws_session_token = work-token
        """.write(toFile: credentials, atomically: true, encoding: .utf8)
        try """
        [default]
        region = eu-west-1
        [profile onlyconfig]
        aws_access_key_id = AKIACONFIG
        aws_secret_access_key = config-secret
        [profile role]
        role_arn = arn:aws:iam::123456789012:role/x
        source_profile = default
        [onlyconfig]
        aws_access_key_id = WRONG-SECTION-STYLE
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let base = ["HOME": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]
        func profile(_ name: String?) async throws -> Credential {
            var environment = base
            environment["AWS_PROFILE"] = name
            return try await ProfileCredentialProvider(environment: environment).credential()
        }
        #expect(try await profile(nil).accessKeyID == "AKIADEFAULT")
        #expect(
            try await profile("work") == Credential(accessKeyID: "AKIAWORK", secretAccessKey: "work-secret", sessionToken: "work-token"))
        #expect(try await profile("onlyconfig").accessKeyID == "AKIACONFIG", "config files name profiles [profile x]")
        await #expect(throws: CredentialError.self) { try await profile("role") }
        let missing = await #expect(throws: CredentialError.self) { try await profile("nope") }
        #expect(missing?.isNotConfigured == true)
        // ~ expands from HOME.
        let home = ProfileCredentialProvider(environment: ["HOME": "/home/u"])
        #expect(home.credentialsFile == "/home/u/.aws/credentials" && home.configFile == "/home/u/.aws/config")
    }

    @Test func containerRelativeAndFullURIWithToken() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try "file-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let server = try await LoopbackServer { request in
            switch request.uri {
            case "/v2/credentials/abc": .init(body: document("AKIAREL"))
            case "/creds" where request.header("Authorization") == "file-token": .init(body: document("AKIAFULLFILE"))
            case "/creds" where request.header("Authorization") == "env-token": .init(body: document("AKIAFULLENV"))
            default: .init(status: 401, body: "no")
            }
        }
        let relative = try await ContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], timeout: Self.loaded, relativeBase: server.url
        ).credential()
        #expect(
            relative.accessKeyID == "AKIAREL" && relative.sessionToken == "token-AKIAREL" && relative.expiration == parseISO8601(expiry))
        let fromFile = try await ContainerCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token",
        ], timeout: Self.loaded).credential()
        #expect(fromFile.accessKeyID == "AKIAFULLFILE", "the token file is read before the variable")
        let fromEnv = try await ContainerCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token",
        ], timeout: Self.loaded).credential()
        #expect(fromEnv.accessKeyID == "AKIAFULLENV")
        // Plain http only to a literal loopback address (as botocore's `ip_address(host).is_loopback`)
        // or the agent's: `127.attacker.example` is a DNS name that took the token over http.
        for refused in [
            "http://198.51.100.7/creds", "http://127.attacker.example/creds", "http://127.0.0.1.nip.io/creds", "http://127.1/creds",
        ] {
            await #expect(throws: CredentialError.self, "\(refused)") {
                try await ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": refused]).credential()
            }
        }
        #expect(["127.0.0.1", "127.255.0.9", "::1", "[::1]"].allSatisfy(ContainerCredentialProvider.isLoopback))
        #expect(
            !["127.attacker.example", "127.0.0", "127.0.0.256", "127.0.0.1.", "1270.0.0.1", "::2", "localhost."].contains(
                where: ContainerCredentialProvider.isLoopback))
        await #expect(throws: CredentialError.self) {
            try await ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1",
            ]).credential()
        }
        try await server.close()
    }

    @Test func instanceMetadataV2() async throws {
        let server = try await LoopbackServer { request in
            switch (request.method, request.uri) {
            case ("PUT", "/latest/api/token") where request.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600":
                return .init(body: "session-token-1")
            case ("GET", "/latest/meta-data/iam/security-credentials/")
            where request.header("x-aws-ec2-metadata-token") == "session-token-1":
                return .init(body: "my-role\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/my-role")
            where request.header("x-aws-ec2-metadata-token") == "session-token-1":
                return .init(body: document("AKIAIMDS"))
            default:
                return .init(status: 401)
            }
        }
        let credential = try await InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url + "/"], timeout: Self.loaded
        ).credential()
        #expect(credential.accessKeyID == "AKIAIMDS" && credential.sessionToken == "token-AKIAIMDS")
        #expect(
            server.requests.map { "\($0.method) \($0.uri)" } == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/my-role",
            ])
        let disabled = await #expect(throws: CredentialError.self) {
            try await InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"]).credential()
        }
        #expect(disabled?.isNotConfigured == true)
        try await server.close()
    }

    @Test(arguments: [403, 404, 405])
    func instanceMetadataFallsBackToV1UnlessDisabled(_ tokenStatus: Int) async throws {
        let server = try await LoopbackServer { request in
            switch (request.method, request.uri) {
            case ("PUT", _): return .init(status: tokenStatus)
            case ("GET", "/latest/meta-data/iam/security-credentials/") where request.header("x-aws-ec2-metadata-token") == nil:
                return .init(body: "v1-role")
            case ("GET", "/latest/meta-data/iam/security-credentials/v1-role"): return .init(body: document("AKIAV1"))
            default: return .init(status: 401)
            }
        }
        let v1 = try await InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url], timeout: Self.loaded
        ).credential()
        #expect(v1.accessKeyID == "AKIAV1")
        await #expect(throws: CredentialError.self) {
            try await InstanceMetadataCredentialProvider(environment: [
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url, "AWS_EC2_METADATA_V1_DISABLED": "true",
            ]).credential()
        }
        try await server.close()
    }

    @Test func instanceMetadataAgainstMoto() async throws {
        guard let moto = try await MotoServer.start() else { return }
        defer { moto.stop() }
        let credential = try await InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": moto.url], timeout: Self.loaded
        ).credential()
        #expect(
            credential.accessKeyID == "test-key" && credential.secretAccessKey == "test-secret-key"
                && credential.sessionToken == "test-session-token")
    }

    // With no credentials anywhere, the error was the instance-metadata endpoint's 403 (a proxy
    // answering on a machine that is not EC2), which names no fix.
    @Test func noCredentialsAnywhereSaysSoAndNamesTheFix() async throws {
        let server = try await LoopbackServer { _ in .init(status: 403) }
        let error = await #expect(throws: CredentialError.self) {
            try await CredentialProviderChain.default(environment: [
                "HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url,
            ])
            .credential()
        }
        #expect(error?.isNotConfigured == true, "\(String(describing: error))")
        #expect(
            error?.reason.hasPrefix("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") == true
                && error?.reason.contains("AWS_PROFILE") == true, "\(String(describing: error))")
        try await server.close()
    }

    @Test func chainOrderAndStopping() async throws {
        let environment = [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
        ]
        let explicit = Credential(accessKeyID: "AKIAEXPLICIT", secretAccessKey: "x")
        #expect(
            try await CredentialProviderChain.default(explicit: explicit, environment: environment).credential().accessKeyID
                == "AKIAEXPLICIT")
        #expect(try await CredentialProviderChain.default(environment: environment).credential().accessKeyID == "AKIAENV")
        let none = await #expect(throws: CredentialError.self) {
            try await CredentialProviderChain.default(environment: ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
                .credential()
        }
        #expect(none?.isNotConfigured == true)
        #expect(none?.reason.contains("AWS_ACCESS_KEY_ID") == true && none?.reason.contains("instance metadata") == true)
        // A configured provider that fails stops the chain.
        let broken = CredentialProviderChain([
            EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "A"]), StaticCredentialProvider(explicit),
        ])
        await #expect(throws: CredentialError.self) { try await broken.credential() }
    }

    @Test func refreshesAheadOfExpiryOneAtATime() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let source = CountingProvider { n, now in
            try await Task.sleep(for: .milliseconds(20))
            return Credential(accessKeyID: "AKIA\(n)", secretAccessKey: "s", expiration: now.addingTimeInterval(3600))
        }
        source.clock = { clock.withLock { $0 } }
        let provider = RefreshingCredentialProvider(source, refreshAhead: .seconds(300), now: { clock.withLock { $0 } })
        // 20 concurrent callers cause one fetch.
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credential().accessKeyID } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["AKIA1"] && source.calls == 1)
        clock.withLock { $0 = $0.addingTimeInterval(3000) }  // 10 minutes before expiry: still fresh
        #expect(try await provider.credential().accessKeyID == "AKIA1")
        clock.withLock { $0 = $0.addingTimeInterval(400) }  // inside the 5-minute window: refresh
        #expect(try await provider.credential().accessKeyID == "AKIA2" && source.calls == 2)
        // A failed refresh while the old credential is still valid keeps the old one.
        source.failNext = true
        clock.withLock { $0 = $0.addingTimeInterval(3400) }
        #expect(try await provider.credential().accessKeyID == "AKIA2")
        #expect(try await provider.credential().accessKeyID == "AKIA4", "the next call refreshes again")
    }
}

private final class CountingProvider: CredentialProvider, @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var count = 0
    private var failing = false
    private var clockFunction: @Sendable () -> Date = Date.init
    let make: @Sendable (Int, Date) async throws -> Credential

    init(_ make: @escaping @Sendable (Int, Date) async throws -> Credential) { self.make = make }

    var calls: Int { lock.withLock { count } }
    var failNext: Bool {
        get { lock.withLock { failing } }
        set { lock.withLock { failing = newValue } }
    }
    var clock: @Sendable () -> Date {
        get { lock.withLock { clockFunction } }
        set { lock.withLock { clockFunction = newValue } }
    }

    func credential() async throws -> Credential {
        let (n, fail) = lock.withLock { () -> (Int, Bool) in
            count += 1
            defer { failing = false }
            return (count, failing)
        }
        if fail { throw CredentialError.unavailable("test failure") }
        return try await make(n, clock())
    }
}
