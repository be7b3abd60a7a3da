// libFuzzer entry point for the 'liberty' harness (scripts/fuzz.sh); the body is FuzzTargets.liberty.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.liberty(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
