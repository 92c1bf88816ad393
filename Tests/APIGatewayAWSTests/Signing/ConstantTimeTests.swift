import APIGatewayAWS
import Testing

@Suite struct ConstantTimeTests {
    @Test func equalBytesMatchAndAnyDifferenceDoesNot() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(ConstantTime.equals("", ""))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abd", "abc"))
        #expect(!ConstantTime.equals("abc", "abcd"), "a prefix is not a match")
        #expect(!ConstantTime.equals("abcd", "abc"))
        #expect(!ConstantTime.equals("", "a"))
        #expect(!ConstantTime.equals("abc\u{0}", "abc"), "a NUL past the end is not padding")
        #expect(!ConstantTime.equals("n\u{e9}", "ne\u{301}"), "bytes, not Unicode equivalence: é precomposed is not e + accent")
    }
}
