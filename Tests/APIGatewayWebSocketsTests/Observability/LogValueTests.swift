import APIGatewayWebSockets
import Testing

/// A value a client controls cannot break a log line.
@Suite struct LogValueTests {
    @Test func controlCharactersAreEscapedNotWritten() {
        let forged = "/ws/default\n2026-12-03T08:00:00Z critical admin logged in\r\u{1b}[31m\u{2028}x\\"
        let logged = LogValue(forged).description
        #expect(!logged.contains("\n") && !logged.contains("\r") && !logged.contains("\u{1b}") && !logged.contains("\u{2028}"))
        #expect(logged == #"/ws/default\n2026-12-03T08:00:00Z critical admin logged in\r\u{1b}[31m\u{2028}x\\"#)
    }

    @Test func longValuesAreCut() {
        #expect(LogValue(String(repeating: "a", count: 600), limit: 8).description == "aaaaaaaa…")
        #expect(LogValue("short", limit: 8).description == "short")
        #expect(LogValue("é✓", limit: 8).description == "é✓", "text outside ASCII stays as it is")
    }
}
