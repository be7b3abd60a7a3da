// libFuzzer entry point for the 'npy' harness (scripts/fuzz.sh); the body is FuzzTargets.npy.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.npy(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
