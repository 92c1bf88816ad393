package import APIGatewayWebSockets
package import Foundation

/// Why a provisioning action did not run: one type for validation, records, claims, imports,
/// rotation and the applier's own faults. What API Gateway itself answered stays an `AWSError`.
///
/// ```swift
/// catch let error as ProvisioningError where error.code == .invalid {
///     for problem in error.problems { print(problem.field, problem.message) }
/// }
/// ```
public struct ProvisioningError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which rule stopped the action, for doors that answer with a status (the admin page) and
    /// for tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Fields that cannot be saved: see ``ProvisioningError/problems``.
        public static let invalid = Code("invalid")
        /// No gateway record has the name.
        public static let unknownGateway = Code("unknown_gateway")
        /// No record, or several, where one was needed without a name.
        public static let noSoleGateway = Code("no_sole_gateway")
        /// The gateway has no API in API Gateway yet.
        public static let notApplied = Code("not_applied")
        /// Another process holds the gateway's claim, or took this one's over.
        public static let claimed = Code("claimed")
        /// The API, stage, route or domain asked for does not exist (or is not what was asked).
        public static let notFound = Code("not_found")
        /// Something the request needs is missing or conflicts with what is recorded.
        public static let conflict = Code("conflict")
        /// The applier could not go on: API Gateway answered without an id it needs, or a plan
        /// was out of order. A fault of this side, not of the request.
        public static let internalFault = Code("internal")
    }

    /// One field that cannot be saved.
    public struct Problem: Sendable, Hashable {
        public let field: String
        public let message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public let code: Code
    /// For ``Code/invalid``: every bad field.
    public let problems: [Problem]
    private let message: String

    private init(_ code: Code, _ message: String, problems: [Problem] = []) {
        self.code = code
        self.message = message
        self.problems = problems
    }

    public var description: String { message }

    // MARK: Validation

    static func invalid(_ problems: [Problem]) -> ProvisioningError {
        ProvisioningError(.invalid, problems.map { "\($0.field): \($0.message)" }.joined(separator: "; "), problems: problems)
    }

    static func invalid(field: String, _ message: String) -> ProvisioningError { .invalid([Problem(field: field, message: message)]) }

    // MARK: Records

    package static func unknownGateway(_ name: String) -> ProvisioningError {
        ProvisioningError(
            .unknownGateway, "no gateway named '\(name)': create it with `gateway configure --gateway \(name) --public-url …`")
    }

    package static func noGateways() -> ProvisioningError {
        ProvisioningError(.noSoleGateway, "no gateway records yet: create one with `gateway configure --gateway NAME --public-url URL`")
    }

    package static func severalGateways(_ names: [String]) -> ProvisioningError {
        ProvisioningError(.noSoleGateway, "several gateways (\(names.sorted().joined(separator: ", "))): choose one with --gateway")
    }

    package static func notApplied(_ name: String) -> ProvisioningError {
        ProvisioningError(.notApplied, "gateway '\(name)' has no API yet: run `gateway apply --gateway \(name)` first")
    }

    package static func servedByController(_ routeKey: RouteKey) -> ProvisioningError {
        .invalid(field: "routeKey", "'\(routeKey)' is served by a controller of this app")
    }

    package static func unknownRoute(_ routeKey: RouteKey, gateway: String) -> ProvisioningError {
        ProvisioningError(.notFound, "gateway '\(gateway)' has no additional route '\(routeKey)'")
    }

    package static func noCustomDomain(_ name: String) -> ProvisioningError {
        ProvisioningError(.conflict, "gateway '\(name)' has no custom domain: set --domain and --certificate-arn with `gateway configure`")
    }

    // MARK: Claims

    package static func claimHeld(_ name: String, since: Date?, timeout: TimeInterval) -> ProvisioningError {
        ProvisioningError(
            .claimed,
            "gateway '\(name)' is being applied by another process\(since.map { " since \($0.formatted(.iso8601))" } ?? ""); "
                + "try again when it finishes (a claim older than \(Int(timeout)) s is taken over)")
    }

    package static func claimLost(_ name: String, timeout: TimeInterval) -> ProvisioningError {
        ProvisioningError(
            .claimed, "gateway '\(name)': another apply took over this one's claim (older than \(Int(timeout)) s); this apply stopped")
    }

    package static func needsSQL() -> ProvisioningError {
        ProvisioningError(.internalFault, "provisioning needs an SQL database for its claim")
    }

    // MARK: Import

    package static func notWebSocket(_ apiID: APIID, protocolType: String) -> ProvisioningError {
        ProvisioningError(.conflict, "API \(apiID) is \(protocolType), not a WebSocket API")
    }

    package static func unknownStage(_ stage: String, apiID: APIID, stages: [String]) -> ProvisioningError {
        ProvisioningError(.notFound, "API \(apiID) has no stage '\(stage)' (it has: \(stages.joined(separator: ", ")))")
    }

    package static func ambiguousStage(_ apiID: APIID, stages: [String]) -> ProvisioningError {
        ProvisioningError(
            .conflict, "API \(apiID) has \(stages.count) stages (\(stages.joined(separator: ", "))): choose one with --stage")
    }

    package static func noBaseURL(_ apiID: APIID) -> ProvisioningError {
        ProvisioningError(
            .conflict, "no route of API \(apiID) points at a route this app registers: give the backend's URL with --public-url")
    }

    package static func nameTaken(_ name: String, apiID: APIID, recordedAs existing: String) -> ProvisioningError {
        ProvisioningError(.conflict, "another gateway is named '\(name)'; API \(apiID) is recorded as '\(existing)'")
    }

    // MARK: Secret rotation

    package static func noSecret() -> ProvisioningError {
        .invalid(field: "secret", "no secret to rotate to: give --secret, or list one in GatewayConfiguration.secrets")
    }

    package static func secretNotAccepted() -> ProvisioningError {
        .invalid(
            field: "secret",
            "the app does not accept this secret yet: add it to GatewayConfiguration.secrets (first) and restart before rotating, or every event would be refused"
        )
    }

    package static func weakSecret() -> ProvisioningError {
        .invalid(field: "secret", "the secret must be at least 16 printable ASCII characters without spaces or quotes")
    }

    // MARK: The applier's own faults

    static func missingID(_ what: String, after step: PlanStep) -> ProvisioningError {
        ProvisioningError(.internalFault, "API Gateway answered '\(step.summary)' without the \(what) id")
    }

    static func noIntegration(for routeKey: RouteKey) -> ProvisioningError {
        ProvisioningError(.internalFault, "route \(routeKey) has no integration to target: the plan is out of order")
    }

    static func nothingApplied() -> ProvisioningError {
        ProvisioningError(.internalFault, "the plan created no API and named none")
    }
}
