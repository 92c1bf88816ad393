/// Byte comparison whose time depends only on the lengths, not on where two secrets differ.
///
/// The one compare every secret goes through: the gateway's shared secret, the emulator's
/// SigV4 signatures and the admin's CSRF token.
package enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes, reading every byte of the longer one.
    package static func equals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        equals(Array(a.utf8), Array(b.utf8))
    }

    /// Whether `a` and `b` hold the same bytes, reading every byte of the longer one.
    package static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = a.count ^ b.count
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= Int(x ^ y)
        }
        return difference == 0
    }
}
