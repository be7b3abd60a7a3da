import Foundation

/// Delay and energy against supply voltage: the alpha-power law (T. Sakurai and A. R. Newton,
/// "Alpha-power law MOSFET model and its applications to CMOS inverter delay and other
/// formulas", IEEE JSSC 25(2), 1990): gate delay ∝ V / (V − Vt)^α. Dynamic energy per
/// transition scales with V² (E = C·V²); leakage power is taken ∝ V (subthreshold current held
/// constant, a first-order simplification stated in docs/cost-model.md).
public struct VoltageScaling: Sendable, Codable, Equatable {
    public let name: String
    public let nominalVolts: Double
    public let thresholdVolts: Double
    public let alpha: Double
    public let source: String

    public init(name: String, nominalVolts: Double, thresholdVolts: Double, alpha: Double, source: String) {
        self.name = name; self.nominalVolts = nominalVolts; self.thresholdVolts = thresholdVolts; self.alpha = alpha; self.source = source
    }

    /// For a 0.18 µm process at `nominalVolts` (OSU's library: 1.8 V): Vt = 0.45 V and α = 1.3.
    public static func process180nm(nominalVolts: Double) -> VoltageScaling {
        VoltageScaling(name: "alpha-power (0.18 µm)", nominalVolts: nominalVolts, thresholdVolts: 0.45, alpha: 1.3,
                       source: "Sakurai & Newton, IEEE JSSC 25(2) 1990 (model); Vt 0.45 V and alpha 1.3: typical 0.18 um CMOS values (nominal long-channel Vt ~0.4-0.5 V; fitted alpha 1.2-1.5 in deep-submicron processes)")
    }

    /// Delay at `volts` relative to the nominal supply.
    public func delayFactor(_ volts: Double) -> Double {
        func g(_ v: Double) -> Double { v / pow(v - thresholdVolts, alpha) }
        return g(volts) / g(nominalVolts)
    }

    /// The lowest supply (≤ nominal) at which a path of `pathNs` at nominal still fits in
    /// `periodNs`; the nominal supply when it does not fit even there.
    public func supply(forPath pathNs: Double, period periodNs: Double) -> Double {
        guard pathNs < periodNs else { return nominalVolts }
        var low = thresholdVolts + 1e-6, high = nominalVolts
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if pathNs * delayFactor(mid) > periodNs { low = mid } else { high = mid }
        }
        return high
    }
}
