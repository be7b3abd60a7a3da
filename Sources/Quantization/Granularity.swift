/// Which elements share one scale in symmetric weight quantization. Rows are output channels.
public enum Granularity: Equatable, Sendable, CustomStringConvertible {
    /// One scale for the whole tensor.
    case tensor
    /// One scale per row (output channel; per token for activations).
    case channel
    /// One scale per run of `size` consecutive elements of a row; a row's last group may be
    /// shorter. Groups never straddle rows.
    case group(Int)

    public var description: String {
        switch self {
        case .tensor: return "tensor"
        case .channel: return "channel"
        case .group(let g): return "group:\(g)"
        }
    }

    /// Parses "tensor", "channel" or "group:G" (G ≥ 1).
    public init?(parsing text: String) {
        switch text {
        case "tensor": self = .tensor
        case "channel": self = .channel
        default:
            guard text.hasPrefix("group:"), let g = Int(text.dropFirst(6)), g >= 1 else { return nil }
            self = .group(g)
        }
    }

    /// Shape of the scale array for a rows × columns tensor.
    public func scaleShape(rows: Int, columns: Int) -> [Int] {
        switch self {
        case .tensor: return [1]
        case .channel: return [rows]
        case .group(let g): return [rows, (columns + g - 1) / g]
        }
    }
}
