/// One semantic class of the synthetic world: its label id, name and display colour.
public struct SceneClass: Sendable, Equatable, Hashable {
    /// Label id written into label images (0..<ClassTable.classes.count).
    public let id: UInt8
    /// Short lowercase name, e.g. `road`.
    public let name: String
    /// Display colour for colour-coded label images (sRGB).
    public let color: (red: UInt8, green: UInt8, blue: UInt8)

    /// Creates a class entry.
    public init(id: UInt8, name: String, color: (UInt8, UInt8, UInt8)) {
        self.id = id
        self.name = name
        self.color = (color.0, color.1, color.2)
    }

    public static func == (lhs: SceneClass, rhs: SceneClass) -> Bool {
        lhs.id == rhs.id && lhs.name == rhs.name && lhs.color == rhs.color
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(name)
    }
}

/// The label ids of the synthetic world. Ids are dense from 0; two reserved ids sit at the top.
public enum ClassTable {
    // Colours follow the Cityscapes palette where a class exists there, so label images
    // read the same as the paper's figures.
    /// Every class in id order; `classes[i].id == i`.
    public static let classes: [SceneClass] = [
        SceneClass(id: 0, name: "road", color: (128, 64, 128)),
        SceneClass(id: 1, name: "lane marking", color: (255, 255, 255)),
        SceneClass(id: 2, name: "sidewalk", color: (244, 35, 232)),
        SceneClass(id: 3, name: "curb", color: (196, 196, 0)),
        SceneClass(id: 4, name: "building", color: (70, 70, 70)),
        SceneClass(id: 5, name: "vegetation", color: (107, 142, 35)),
        SceneClass(id: 6, name: "terrain", color: (152, 251, 152)),
        SceneClass(id: 7, name: "sky", color: (70, 130, 180)),
        SceneClass(id: 8, name: "pole", color: (153, 153, 153)),
        SceneClass(id: 9, name: "traffic sign", color: (220, 220, 0)),
        SceneClass(id: 10, name: "guard rail", color: (180, 165, 180)),
        SceneClass(id: 11, name: "car", color: (0, 0, 142)),
        SceneClass(id: 12, name: "truck", color: (0, 0, 70)),
        SceneClass(id: 13, name: "person", color: (220, 20, 60)),
    ]

    /// Label of pixels showing an object that never occurs in training (highway/urban) data.
    public static let unknownObject: UInt8 = 254
    /// Label of pixels that carry no ground truth; metrics skip them.
    public static let ignore: UInt8 = 255

    /// Display colour of the unknown-object label.
    public static let unknownObjectColor: (red: UInt8, green: UInt8, blue: UInt8) = (255, 128, 0)
    /// Display colour of the ignore label.
    public static let ignoreColor: (red: UInt8, green: UInt8, blue: UInt8) = (0, 0, 0)

    /// A 256-entry RGB palette (768 bytes) mapping every label id to its display colour;
    /// ids without a class are black.
    public static var palette: [UInt8] {
        var table = [UInt8](repeating: 0, count: 256 * 3)
        for entry in classes {
            let base = Int(entry.id) * 3
            table[base] = entry.color.red
            table[base + 1] = entry.color.green
            table[base + 2] = entry.color.blue
        }
        let unknown = Int(unknownObject) * 3
        table[unknown] = unknownObjectColor.red
        table[unknown + 1] = unknownObjectColor.green
        table[unknown + 2] = unknownObjectColor.blue
        return table
    }

    /// True for ids a label image may contain: a class id, unknown object or ignore.
    public static func isValidLabel(_ id: UInt8) -> Bool {
        Int(id) < classes.count || id == unknownObject || id == ignore
    }
}

/// Class ids by name, for the generator's own use.
enum ClassID {
    static let road: UInt8 = 0
    static let laneMarking: UInt8 = 1
    static let sidewalk: UInt8 = 2
    static let curb: UInt8 = 3
    static let building: UInt8 = 4
    static let vegetation: UInt8 = 5
    static let terrain: UInt8 = 6
    static let sky: UInt8 = 7
    static let pole: UInt8 = 8
    static let trafficSign: UInt8 = 9
    static let guardRail: UInt8 = 10
    static let car: UInt8 = 11
    static let truck: UInt8 = 12
    static let person: UInt8 = 13
    static let unknown: UInt8 = ClassTable.unknownObject
}
