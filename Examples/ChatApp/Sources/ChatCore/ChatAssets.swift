import Foundation

/// The chat page's script and style, shared by both examples, which render the page itself each in
/// its framework's templates.
public enum ChatAssets {
    /// `chat.js` and `chat.css`, by name, with their content types.
    public static func files() throws -> [(name: String, contentType: String, body: String)] {
        try [("chat.js", "text/javascript"), ("chat.css", "text/css")].map { name, type in
            let parts = name.split(separator: ".")
            guard let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1])) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
            }
            return (name, type + "; charset=utf-8", try String(contentsOf: url, encoding: .utf8))
        }
    }
}
