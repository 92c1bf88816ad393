import Synchronization
public import Vapor

/// Captures what a command prints.
public final class RecordingConsole: Console {
    public init() {}

    private let state = Mutex<(text: String, userInfo: [AnySendableHashable: any Sendable])>(("", [:]))
    public var size: (width: Int, height: Int) { (200, 50) }
    public var text: String { state.withLock { $0.text } }
    public var userInfo: [AnySendableHashable: any Sendable] {
        get { state.withLock { $0.userInfo } }
        set { state.withLock { $0.userInfo = newValue } }
    }
    public func input(isSecure: Bool) -> String { "" }
    public func output(_ text: ConsoleText, newLine: Bool) { state.withLock { $0.text += text.description + (newLine ? "\n" : "") } }
    public func clear(_ type: ConsoleClear) {}
    public func report(error: String, newLine: Bool) { state.withLock { $0.text += error + (newLine ? "\n" : "") } }
}
