/// Waits until `condition` holds, checking every 10 ms for at most `timeout`: how a test waits
/// for state that another task or process changes, instead of sleeping a guessed time.
public func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
