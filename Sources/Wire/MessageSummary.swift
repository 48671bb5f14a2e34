import Foundation

/// One-line summaries of received messages for `moeseg sub`: header fields, sizes, map
/// statistics, the class histogram's top three, the verdict. Never raw payloads.
public enum MessageSummary {
    /// The summary as an ordered list of fields (JSON-able values), shared by text and JSON.
    /// `age_ms` (capture → receive) and `transit_ms` (publish → receive) use the receive stamp.
    public static func fields(_ message: WireMessage, meta: Moeseg_V1_Meta?) -> [(String, Any)] {
        let h = message.payload.header
        let nowRealtimeNanoseconds = message.receivedRealtimeNs != 0 ? message.receivedRealtimeNs : realtimeNanoseconds()
        var f: [(String, Any)] = [("topic", message.topic), ("seq", h.sequence), ("src_seq", h.sourceSequence)]
        if h.captureRealtimeNs != 0 {
            f.append(("age_ms", rounded(Double(nowRealtimeNanoseconds - h.captureRealtimeNs) / 1e6, 2)))
        }
        if h.publishRealtimeNs != 0 {
            f.append(("transit_ms", rounded(Double(nowRealtimeNanoseconds - h.publishRealtimeNs) / 1e6, 3)))
        }
        if !h.modelID.isEmpty { f.append(("model", h.modelID)) }
        if h.hasLatency {
            let l = h.latency
            f.append(("latency_us", ["total": l.totalUs, "preprocess": l.preprocessUs, "experts": l.expertsUs,
                                     "gate": l.gateUs, "combine": l.combineUs, "uncertainty": l.uncertaintyUs]))
        }
        f.append(("bytes", message.byteCount))
        switch message.payload {
        case .segmentation(let s):
            f.append(("size", "\(s.width)x\(s.height)"))
            f.append(("top3", topClasses(s, meta: meta)))
            if s.classIds.count != Int(s.width) * Int(s.height) { f.append(("error", "class_ids has \(s.classIds.count) bytes")) }
        case .uncertainty(let u):
            f.append(("map", u.map))
            f.append(("encoding", MapEncoding(wire: u.encoding)?.rawValue ?? "unknown"))
            f.append(("size", "\(u.width)x\(u.height)"))
            if let values = MapCodec.decode(u), !values.isEmpty {
                var lo = Float.infinity, hi = -Float.infinity, total = 0.0, nan = 0
                for v in values {
                    if v.isNaN { nan += 1; continue }
                    lo = min(lo, v); hi = max(hi, v); total += Double(v)
                }
                let finite = values.count - nan
                f.append(("min", rounded(Double(finite > 0 ? lo : .nan), 4)))
                f.append(("mean", rounded(finite > 0 ? total / Double(finite) : .nan, 4)))
                f.append(("max", rounded(Double(finite > 0 ? hi : .nan), 4)))
                if nan > 0 { f.append(("nan", nan)) }
            } else {
                f.append(("error", "data does not fit \(u.width)x\(u.height) in this encoding"))
            }
        case .verdict(let v):
            f.append(("ood", v.ood))
            f.append(("raw_ood", v.rawOod))
            if v.changed { f.append(("changed", true)) }
            f.append(("fired", v.scores.filter(\.fired).map(\.name)))
            var scores: [String: Any] = [:]
            for s in v.scores where s.present {
                scores[s.name] = s.enabled ? ["value": rounded(Double(s.value), 4), "threshold": rounded(Double(s.threshold), 4)]
                                           : ["value": rounded(Double(s.value), 4)]
            }
            f.append(("scores", scores))
        case .status(let s):
            f.append(("fps", rounded(Double(s.fps), 2)))
            f.append(("latency_p50_ms", rounded(Double(s.latencyP50Us) / 1000, 2)))
            f.append(("latency_p90_ms", rounded(Double(s.latencyP90Us) / 1000, 2)))
            f.append(("latency_p99_ms", rounded(Double(s.latencyP99Us) / 1000, 2)))
            f.append(("source", sourceState(s.sourceState)))
            if !s.sourceDetail.isEmpty { f.append(("source_detail", s.sourceDetail)) }
            f.append(("budget", "\(s.budgetMode.isEmpty ? "?" : s.budgetMode)(\(s.budgetLevel))"))
            f.append(("frames", s.framesProcessed))
            f.append(("source_drops", s.sourceDrops))
            f.append(("publish_drops", s.publishDrops))
            f.append(("deadline_misses", s.deadlineMisses))
            f.append(("uptime_s", rounded(s.uptimeS, 1)))
        case .meta(let m):
            f.append(("schema", m.schemaVersion))
            f.append(("model_id", m.modelID))
            f.append(("model_version", m.modelVersion))
            f.append(("input", "\(m.inputWidth)x\(m.inputHeight)"))
            f.append(("classes", m.classes.count))
            f.append(("experts", m.numExperts))
            f.append(("seg", m.segmentation))
            f.append(("maps", m.maps.map { "\($0.map):\(MapEncoding(wire: $0.encoding)?.rawValue ?? "?")" }))
            var thresholds: [String: Any] = [:]
            for t in m.thresholds { thresholds[t.name] = rounded(Double(t.value), 4) }
            f.append(("thresholds", thresholds))
        }
        return f
    }

    /// `topic key=value ...` on one line.
    public static func text(_ message: WireMessage, meta: Moeseg_V1_Meta?) -> String {
        fields(message, meta: meta).map { key, value in
            key == "topic" ? "\(value)" : "\(key)=\(textValue(value))"
        }.joined(separator: " ")
    }

    /// One JSON object (keys sorted) on one line.
    public static func json(_ message: WireMessage, meta: Moeseg_V1_Meta?) -> String {
        var object: [String: Any] = [:]
        for (key, value) in fields(message, meta: meta) { object[key] = jsonValue(value) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{\"topic\":\"\(message.topic)\",\"error\":\"unencodable summary\"}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func topClasses(_ s: Moeseg_V1_Segmentation, meta: Moeseg_V1_Meta?) -> [String] {
        var histogram = [Int](repeating: 0, count: 256)
        for id in s.classIds { histogram[Int(id)] += 1 }
        let total = max(s.classIds.count, 1)
        let names = Dictionary((meta?.classes ?? []).map { (Int($0.id), $0.name) }, uniquingKeysWith: { a, _ in a })
        return histogram.enumerated().filter { $0.element > 0 }
            .sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
            .prefix(3)
            .map { "\(names[$0.offset] ?? "class\($0.offset)"):\(String(format: "%.1f", 100 * Double($0.element) / Double(total)))%" }
    }

    static func sourceState(_ state: Moeseg_V1_SourceState) -> String {
        switch state {
        case .streaming: return "streaming"
        case .unavailable: return "unavailable"
        case .ended: return "ended"
        default: return "unspecified"
        }
    }

    private static func rounded(_ value: Double, _ digits: Int) -> Double {
        guard value.isFinite else { return value }
        let p = pow(10, Double(digits))
        return (value * p).rounded() / p
    }

    private static func textValue(_ value: Any) -> String {
        switch value {
        case let list as [String]: return "[" + list.joined(separator: ",") + "]"
        case let dict as [String: Any]:
            return "{" + dict.keys.sorted().map { "\($0):\(textValue(dict[$0]!))" }.joined(separator: ",") + "}"
        default: return "\(value)"
        }
    }

    private static func jsonValue(_ value: Any) -> Any {
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let dict as [String: Any]: return dict.mapValues(jsonValue)
        default: return value
        }
    }
}
