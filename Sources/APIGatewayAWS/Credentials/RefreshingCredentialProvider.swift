public import AsyncHTTPClient
public import Foundation
import Synchronization

/// Caches another provider's credentials and refreshes them before they expire, one refresh at a
/// time: callers that arrive during a refresh wait for it instead of starting their own.
///
/// Credentials without an expiry are fetched once. If a refresh fails while the cached
/// credentials are still valid, the cached ones are used and the next call tries again.
public final class RefreshingCredentialProvider: CredentialProvider {
    private struct State {
        var cached: Credential?
        var refresh: Task<Credential, any Error>?
    }

    public let base: any CredentialProvider
    /// How long before expiry a refresh starts. Default 5 minutes.
    public let refreshAhead: Duration
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    public init(_ base: any CredentialProvider, refreshAhead: Duration = .seconds(300), now: @escaping @Sendable () -> Date = Date.init) {
        self.base = base
        self.refreshAhead = refreshAhead
        self.now = now
    }

    public func credential() async throws -> Credential {
        let ahead = refreshAhead.timeInterval
        let current = now()
        let (fresh, pending) = state.withLock { state -> (Credential?, Task<Credential, any Error>?) in
            if let cached = state.cached, cached.expiration.map({ $0.timeIntervalSince(current) > ahead }) ?? true {
                return (cached, nil)
            }
            if let running = state.refresh { return (nil, running) }
            let base = self.base
            let task = Task { try await base.credential() }
            state.refresh = task
            return (nil, task)
        }
        if let fresh { return fresh }
        guard let task = pending else { preconditionFailure("either cached or refreshing") }
        do {
            let credential = try await task.value
            state.withLock { state in
                state.cached = credential
                if state.refresh == task { state.refresh = nil }
            }
            return credential
        } catch {
            let stillValid = state.withLock { state -> Credential? in
                if state.refresh == task { state.refresh = nil }
                guard let cached = state.cached, let expiration = cached.expiration, expiration > current else { return nil }
                return cached
            }
            if let stillValid { return stillValid }
            throw error
        }
    }
}

extension CredentialProviderChain {
    /// boto3's order, less the sources this client does not implement (SSO, web identity, process):
    /// explicit values → environment → shared files → container → EC2 instance metadata, cached and
    /// refreshed ahead of expiry.
    public static func `default`(
        explicit: Credential? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: AsyncHTTPClient.HTTPClient = .shared
    ) -> RefreshingCredentialProvider {
        var providers: [any CredentialProvider] = []
        if let explicit { providers.append(StaticCredentialProvider(explicit)) }
        providers += [
            EnvironmentCredentialProvider(environment: environment),
            ProfileCredentialProvider(environment: environment),
            ContainerCredentialProvider(environment: environment, httpClient: httpClient),
            InstanceMetadataCredentialProvider(environment: environment, httpClient: httpClient),
        ]
        return RefreshingCredentialProvider(CredentialProviderChain(providers))
    }
}
