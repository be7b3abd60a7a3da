/// What an axis of a look-up table indexes (a template's `variable_N`).
public enum TableVariable: String, Sendable, Equatable {
    case outputLoad = "total_output_net_capacitance"
    case inputTransition = "input_net_transition"
    /// Power templates' name for the input transition.
    case inputTransitionTime = "input_transition_time"
    case relatedPinTransition = "related_pin_transition"
    case constrainedPinTransition = "constrained_pin_transition"
}

/// One NLDM table: 0, 1 or 2 axes, values in dintsim's units (ns, pF, pJ) after the library's
/// unit scaling.
///
/// Look-up (Liberty's rule for `table_lookup` delay models): on each axis find the two
/// neighbouring index points — the first two or the last two when the point lies outside the
/// index, so that values beyond the table are extrapolated linearly — and interpolate linearly,
/// bilinearly on two axes. An axis with one point is constant along it.
public struct LookupTable: Sendable, Equatable {
    public let variables: [TableVariable]
    public let indices: [[Double]]
    /// Row-major: index_1 varies slowest.
    public let values: [Double]

    public init(variables: [TableVariable], indices: [[Double]], values: [Double]) {
        self.variables = variables
        self.indices = indices
        self.values = values
    }

    public static func constant(_ v: Double) -> LookupTable { LookupTable(variables: [], indices: [], values: [v]) }

    /// The table at a point; `value(variable)` gives each axis's coordinate.
    public func lookUp(_ coordinate: (TableVariable) -> Double) -> Double {
        switch variables.count {
        case 0: return values[0]
        case 1:
            let (i, t) = Self.bracket(indices[0], coordinate(variables[0]))
            if indices[0].count == 1 { return values[0] }
            return values[i] + t * (values[i + 1] - values[i])
        default:
            let x = coordinate(variables[0]), y = coordinate(variables[1])
            let (i, tx) = Self.bracket(indices[0], x), (j, ty) = Self.bracket(indices[1], y)
            let n = indices[1].count
            func v(_ a: Int, _ b: Int) -> Double { values[a * n + b] }
            let i1 = indices[0].count == 1 ? i : i + 1, j1 = n == 1 ? j : j + 1
            let low = v(i, j) + ty * (v(i, j1) - v(i, j))
            let high = v(i1, j) + ty * (v(i1, j1) - v(i1, j))
            return low + tx * (high - low)
        }
    }

    /// (lower index, fraction) of `x` between points `i` and `i + 1` of `index`; the fraction is
    /// below 0 or above 1 outside the index (extrapolation).
    static func bracket(_ index: [Double], _ x: Double) -> (Int, Double) {
        if index.count == 1 { return (0, 0) }
        var i = 0
        while i < index.count - 2 && x > index[i + 1] { i += 1 }
        return (i, (x - index[i]) / (index[i + 1] - index[i]))
    }
}
