// libFuzzer entry point for the 'tahq' harness (scripts/fuzz.sh); the body is FuzzTargets.tahq.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.tahq(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
