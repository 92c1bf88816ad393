import Foundation
import Testing

/// The PostgreSQL server `.ci/run` starts (a cluster of its own, as its own user), named by
/// `APIGW_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:55432/apigw_test`). Outside CI a
/// missing one skips the test with a message; with `CI=true` it fails.
public enum PostgresPeer {
    public static var url: String? {
        ProcessInfo.processInfo.environment["APIGW_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The server's URL, for a test that needs one; without it the test is skipped with a message
    /// naming `test`, or, in CI, fails.
    public static func require(test: String = #function) -> String? {
        if let url { return url }
        let message =
            "no PostgreSQL: set APIGW_POSTGRES_URL to a server the tests may create schemas in (.ci/run starts one)"
        if PythonPeer.required { Issue.record(Comment(rawValue: message)) } else { print("SKIPPED \(test): \(message)") }
        return nil
    }
}
