import Foundation
import NIOCore
import PeerSupport
import Testing

@testable import APIGatewayWebSockets

/// The selector reads `handler` and `action` with a scanner instead of a decode of its own (the
/// body was decoded twice, three times for an unknown handler); it must pick exactly what a full
/// `JSONDecoder` decode would.
@Suite struct HandlerSelectorTests {
    /// What selection read before: the body decoded by `JSONDecoder`, non-strings ignored.
    struct Decoded: Decodable {
        var handler: String?
        var action: String?
        enum Keys: String, CodingKey { case handler, action }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            handler = try? container.decodeIfPresent(String.self, forKey: .handler)
            action = try? container.decodeIfPresent(String.self, forKey: .action)
        }
    }

    func reference(_ text: String) -> (String?, String?) {
        guard text.utf8.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "{"),
            let decoded = try? JSONDecoder().decode(Decoded.self, from: Data(text.utf8))
        else { return (nil, nil) }
        return (decoded.handler, decoded.action)
    }

    func scanned(_ text: String) -> (String?, String?) {
        let selector = HandlerSelector(ByteBuffer(string: text))
        return (selector.handler, selector.action)
    }

    @Test(arguments: [
        #"{"handler":"greet","action":"nested","name":"ada"}"#, #"{"action":"greet"}"#, #"  {"handler" : "x" }  "#,
        #"{"handler":7,"action":["greet"]}"#, #"{"handler":null}"#, #"{"handler":"a\"b","action":"\u00e9"}"#,
        #"{"a":{"handler":"inner"},"action":"outer"}"#, #"{"x":[1,-2.5e3,true,false,null,{"y":"z"}],"handler":"h"}"#,
        #"{"handler":"greet","#, #"{"handler":"greet"} x"#, "hello, not JSON", "[1,2]", "", "{}", "{ }", #"{"handler":"é"}"#,
        #"{"n":01,"handler":"h"}"#, #"{"n":1.,"handler":"h"}"#, #"{"n":-,"handler":"h"}"#, #"{"t":tru,"handler":"h"}"#,
        "{\"handler\":\"tab\there\"}", #"{"handler":"h",}"#, #"{,"handler":"h"}"#, #"{"handler" "h"}"#, #"{"handler":"\x"}"#,
        #"{"handler":"\ud83d\ude00"}"#, #"{"k":"v\\"}"#, #"{"action":"a","handler":"greet","extra":{"deep":[[[]]]}}"#,
    ])
    func picksWhatAFullDecodePicks(_ body: String) {
        let expected = reference(body), actual = scanned(body)
        #expect(actual.0 == expected.0 && actual.1 == expected.1, "\(body): scanned \(actual), decoded \(expected)")
    }

    // Each nesting level was a recursion: 100,000 `[` (under the 128 KiB body limit) would have
    // overflowed the stack and taken the process down.
    @Test func deepNestingNamesNothingAndDoesNotRecurseWithoutBound() {
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000) + #"], "handler":"greet"}"#
        let selector = HandlerSelector(ByteBuffer(string: deep))
        #expect(selector.handler == nil && selector.action == nil)
        let shallow = #"{"a":"# + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + #","handler":"greet"}"#
        #expect(HandlerSelector(ByteBuffer(string: shallow)).handler == "greet", "500 levels are read")
    }

    @Test func invalidUTF8NamesNothing() {
        for bytes: [UInt8] in [
            Array(#"{"handler":"gr"#.utf8) + [0xFF] + Array(#"eet"}"#.utf8),
            Array(#"{"x":""#.utf8) + [0xC3] + Array(#"","handler":"greet"}"#.utf8),
        ] {
            let selector = HandlerSelector(ByteBuffer(bytes: bytes))
            let decoded = try? JSONDecoder().decode(Decoded.self, from: Data(bytes))
            #expect(selector.handler == decoded?.handler && selector.action == decoded?.action, "\(bytes)")
        }
    }

    /// Generated documents and their mutilations: the scanner and the decoder agree on each.
    @Test func agreesWithTheDecoderOnGeneratedBodies() {
        var random = SeededGenerator(seed: 0x5e1ec7)
        let atoms = [
            #""handler""#, #""action""#, #""greet""#, #""x""#, "1", "-0.5e2", "true", "null", "{", "}", "[", "]", ":", ",", " ", #""\n""#,
            #""é""#,
        ]
        var checked = 0
        for _ in 0..<3_000 {
            var body = "{"
            for index in 0..<Int.random(in: 0...4, using: &random) {
                if index > 0 { body += "," }
                body += [#""handler""#, #""action""#, #""other""#].randomElement(using: &random)! + ":"
                body += [#""greet""#, "42", #"{"a":[1,2]}"#, "null", #""n\"q""#, "[]"].randomElement(using: &random)!
            }
            body += "}"
            if Bool.random(using: &random) {
                // Mutilate: insert, drop or replace one token.
                var characters = Array(body)
                let position = Int.random(in: 0..<characters.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: characters.insert(contentsOf: atoms.randomElement(using: &random)!, at: position)
                case 1: characters.remove(at: position)
                default: characters[position] = atoms.randomElement(using: &random)!.first!
                }
                body = String(characters)
            }
            let expected = reference(body), actual = scanned(body)
            #expect(actual.0 == expected.0 && actual.1 == expected.1, "\(body.debugDescription): scanned \(actual), decoded \(expected)")
            checked += 1
        }
        #expect(checked == 3_000)
    }
}
