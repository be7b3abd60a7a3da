// libFuzzer entry point for the 'safetensors' harness (scripts/fuzz.sh); the body is FuzzTargets.safetensors.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.safetensors(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
