import Foundation
import Testing

/// Every Swift example a reader sees compiles: each ```swift block of the DocC catalogs
/// (`Sources/**/*.docc`) and of `README.md` must appear, line for line, in one of the other
/// files of this folder, where it sits inside a function or a type and is type-checked with the
/// rest of the target. Lines are compared without their leading and trailing whitespace, so the
/// indentation a block takes inside a function does not matter.
@Suite struct ExamplesCompileTests {
    /// The repository: this file is `Tests/DocumentationExamples/ExamplesCompileTests.swift`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let examples = root.appendingPathComponent("Tests/DocumentationExamples")

    /// One fenced block of a document.
    struct Block {
        /// The document, relative to the repository.
        let file: String
        /// The line of the opening fence, counted from 1.
        let line: Int
        /// The block's lines, normalised.
        let lines: [String]
    }

    /// `README.md` and every Markdown file of every `.docc` catalog under `Sources/`, relative to
    /// the repository.
    static func documents() -> [String] {
        var documents = ["README.md"]
        let sources = root.appendingPathComponent("Sources")
        guard let walk = FileManager.default.enumerator(atPath: sources.path) else { return documents }
        var articles: [String] = []
        for case let path as String in walk where path.hasSuffix(".md") {
            if path.split(separator: "/").contains(where: { $0.hasSuffix(".docc") }) { articles.append("Sources/" + path) }
        }
        documents += articles.sorted()
        return documents
    }

    /// A line as it is compared: without leading or trailing whitespace.
    static func normalised(_ line: some StringProtocol) -> String {
        line.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The ```swift blocks of `text`, each without the blank lines that open or close it.
    static func swiftBlocks(in text: String, file: String) -> [Block] {
        var blocks: [Block] = []
        var open: (line: Int, lines: [String])?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = normalised(raw)
            if var block = open {
                if line == "```" {
                    while block.lines.first?.isEmpty == true { block.lines.removeFirst() }
                    while block.lines.last?.isEmpty == true { block.lines.removeLast() }
                    blocks.append(Block(file: file, line: block.line, lines: block.lines))
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if line == "```swift" {
                open = (index + 1, [])
            }
        }
        return blocks
    }

    /// The other files of this folder, normalised line by line and joined, between newlines.
    static func exampleSources() throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: examples.path)
            .filter { $0.hasSuffix(".swift") && $0 != URL(fileURLWithPath: #filePath).lastPathComponent }
            .sorted()
        var lines: [String] = []
        for name in names {
            let text = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).map(normalised)
        }
        return "\n" + lines.joined(separator: "\n") + "\n"
    }

    @Test func theDocumentsHaveSwiftExamples() throws {
        let documents = Self.documents()
        #expect(documents.contains("README.md"))
        #expect(documents.count > 1, "no .docc catalog was found under Sources/")
        var count = 0
        for document in documents {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            count += Self.swiftBlocks(in: text, file: document).count
        }
        #expect(count > 0)
    }

    @Test(arguments: ExamplesCompileTests.documents())
    func everySwiftBlockIsCompiledHere(_ document: String) throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
        let sources = try Self.exampleSources()
        for block in Self.swiftBlocks(in: text, file: document) where !block.lines.isEmpty {
            let needle = "\n" + block.lines.joined(separator: "\n") + "\n"
            #expect(
                sources.contains(needle),
                "\(block.file):\(block.line): the Swift block starting `\(block.lines[0])` is not in Tests/DocumentationExamples")
        }
    }
}
