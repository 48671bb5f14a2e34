/// Assigns every run-time value an offset in one arena so that values alive at the same
/// time never overlap, and dead values' memory is reused ("greedy by size": largest first,
/// each at the lowest offset that fits between already placed, overlapping lifetimes).
struct MemoryPlan {
    /// Offset in floats of each value's storage (views share their source's offset).
    var offsets: [String: Int]
    /// Arena size in floats.
    var arenaFloats: Int

    static let alignment = 16

    /// Plans `nodes` (already in execution order). `isView(i)` marks nodes whose first
    /// output aliases their first input.
    static func make(nodes: [Node], inputs: [String], outputs: [String], infos: [String: ValueInfo],
                     constants: Set<String>, isView: (Int) -> Bool) -> MemoryPlan {
        var root: [String: String] = [:]
        func find(_ v: String) -> String { root[v].map { $0 == v ? v : find($0) } ?? v }
        var start: [String: Int] = [:], end: [String: Int] = [:]
        for name in inputs { root[name] = name; start[name] = -1; end[name] = -1 }
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && !constants.contains(input) {
                let r = find(input)
                end[r] = max(end[r] ?? i, i)
            }
            for (k, out) in node.outputs.enumerated() where !out.isEmpty {
                if k == 0, isView(i), let source = node.inputs.first, !constants.contains(source) {
                    root[out] = find(source)
                } else {
                    root[out] = out
                    start[out] = i
                    end[out] = i
                }
            }
        }
        for out in outputs where !constants.contains(out) {
            let r = find(out)
            end[r] = nodes.count
        }
        struct Item { var name: String; var size: Int; var start: Int; var end: Int }
        var items: [Item] = start.keys.map { name in
            // 8-bit tensors take a quarter of the floats; sizes stay multiples of 64 bytes.
            let floats = ((infos[name]?.byteCount ?? 0) + 3) / 4
            let size = (floats + alignment - 1) / alignment * alignment
            return Item(name: name, size: max(size, alignment), start: start[name]!, end: end[name]!)
        }
        items.sort { $0.size != $1.size ? $0.size > $1.size : $0.name < $1.name }
        var placed: [(offset: Int, item: Item)] = []
        var offsets: [String: Int] = [:]
        var arena = 0
        for item in items {
            let overlapping = placed.filter { $0.item.start <= item.end && item.start <= $0.item.end }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for p in overlapping {
                if offset + item.size <= p.offset { break }
                offset = max(offset, p.offset + p.item.size)
            }
            placed.append((offset, item))
            offsets[item.name] = offset
            arena = max(arena, offset + item.size)
        }
        for name in root.keys { offsets[name] = offsets[find(name)] }
        return MemoryPlan(offsets: offsets, arenaFloats: arena)
    }
}
