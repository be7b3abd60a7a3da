// libFuzzer entry point for the 'codebook' harness (scripts/fuzz.sh); the body is FuzzTargets.codeBook.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.codeBook(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
