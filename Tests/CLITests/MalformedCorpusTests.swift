import Foundation
import Testing

/// The malformed-input corpus (Tests/Fixtures/malformed, made by its generate.py): every file is
/// refused with exit code 2 and one line on stderr containing the expected text (the field or
/// value at fault), nothing on stdout, and no output file written.
@Suite struct MalformedCorpusTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let fixtures = repository + "/Tests/Fixtures/malformed"

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String, args: [String], exit: Int32, error: String
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let data = FileManager.default.contents(atPath: fixtures + "/cases.json") ?? Data()
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases)
    func isRefusedWithOneLineNamingTheFault(_ c: Case) throws {
        let out = CLITests.scratch()
        let args = c.args.map {
            $0.replacingOccurrences(of: "{fixtures}", with: Self.fixtures).replacingOccurrences(of: "{out}", with: out)
                .replacingOccurrences(of: "{repository}", with: Self.repository)
        }
        let r = try CLITests.run(args)
        #expect(r.status == c.exit, "exit \(r.status): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(c.error), "expected '\(c.error)' in: \(r.stderr)")
        #expect(r.stdout.isEmpty, "printed: \(r.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "wrote output")
    }
}
