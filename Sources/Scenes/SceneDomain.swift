/// The kinds of driving the generator can produce; each has its own scene statistics.
public enum SceneDomain: String, CaseIterable, Sendable {
    /// Wide multi-lane roads, guard rails, trucks, open landscape.
    case highway
    /// Narrow streets, sidewalks and curbs, dense buildings, pedestrians, parked cars.
    case urban
    /// Out-of-distribution: mixed layouts, weather and lighting shifts, and unknown objects (label 254).
    case ambiguous
}
