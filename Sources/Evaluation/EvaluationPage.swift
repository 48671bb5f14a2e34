import Foundation

/// The `--report DIR` page: reliability diagrams, PAvPU curves, frame-score histograms ID vs
/// OOD, and the contact sheet image, as one HTML file with inline SVG (no scripts, no fetches).
public enum EvaluationPage {
    /// The HTML page; `contactSheet` is the file name of the frames image beside it, if any.
    public static func html(_ state: EvaluationState, model: String, contactSheet: String?) -> String {
        let report = EvaluationReport.object(state)
        var body = "<h1>moeseg eval: \(escape(model))</h1>\n"
        let miou = (report["miou"] as? Double).map { String(format: "%.3f", $0) } ?? "-"
        body += "<p>\(state.idFrames) in-distribution frames, \(state.oodFrames) OOD frames; mIoU \(miou).</p>\n"
        body += "<h2>Reliability</h2>\n<div class=row>\n"
        body += reliability(state.topLabel, title: "top label (max p̄)")
        for name in state.maps.keys.sorted() {
            body += reliability(state.maps[name]!.calibration, title: "1 − \(name)")
        }
        body += "</div>\n<h2>PAvPU over τ (4×4 patches)</h2>\n<div class=row>\n"
        for name in state.maps.keys.sorted() { body += pavpu(state.maps[name]!.conditional, title: name) }
        body += "</div>\n<h2>Frame scores, in-distribution (blue) vs OOD (orange)</h2>\n<div class=row>\n"
        for name in state.frameScores.keys.sorted() { body += histogram(state.frameScores[name]!, title: name) }
        body += "</div>\n"
        if let contactSheet {
            body += "<h2>Frames</h2>\n<p>Each row: input, prediction, principal MI, gate entropy (white = high); "
                + "the first in-distribution and OOD frames.</p>\n<img src=\"\(escape(contactSheet))\" alt=\"frames\">\n"
        }
        let style = "body{font-family:sans-serif;margin:1.5em;color:#222}.row{display:flex;flex-wrap:wrap;gap:12px}"
            + "svg{background:#fff;border:1px solid #ddd}img{max-width:100%;image-rendering:pixelated}"
        return "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>moeseg eval</title><style>\(style)</style></head>\n<body>\n"
            + body + "</body></html>\n"
    }

    static let size = 220.0, margin = 30.0

    static func frame(_ title: String, _ content: String) -> String {
        let s = size + 2 * margin
        return "<svg width=\"\(Int(s))\" height=\"\(Int(s))\" viewBox=\"0 0 \(s) \(s)\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<text x=\"\(margin)\" y=\"18\" font-size=\"12\">\(escape(title))</text>"
            + "<rect x=\"\(margin)\" y=\"\(margin)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#888\"/>"
            + content + "</svg>\n"
    }

    static func x(_ v: Double) -> Double { margin + v * size }
    static func y(_ v: Double) -> Double { margin + (1 - v) * size }

    static func reliability(_ bins: CalibrationBins, title: String) -> String {
        var content = "<line x1=\"\(x(0))\" y1=\"\(y(0))\" x2=\"\(x(1))\" y2=\"\(y(1))\" stroke=\"#aaa\" stroke-dasharray=\"4\"/>"
        let width = 1.0 / Double(CalibrationBins.binCount)
        for b in 0..<CalibrationBins.binCount where bins.counts[b] > 0 {
            let acc = Double(bins.correctCounts[b]) / Double(bins.counts[b])
            content += "<rect x=\"\(x(Double(b) * width) + 1)\" y=\"\(y(acc))\" width=\"\(width * size - 2)\" height=\"\(acc * size)\" fill=\"#4a7ab5\" opacity=\"0.8\"/>"
        }
        let ece = bins.expectedCalibrationError.map { String(format: "ECE %.3f", $0) } ?? ""
        content += "<text x=\"\(x(0.05))\" y=\"\(y(0.9))\" font-size=\"11\">\(ece)</text>"
        return frame(title, content)
    }

    static func pavpu(_ counts: ConditionalCounts, title: String) -> String {
        var content = ""
        let curves: [([Double?], String)] = [(counts.pavpu, "#222"), (counts.accurateGivenCertain, "#4a7ab5"),
                                             (counts.uncertainGivenInaccurate, "#e08a2c")]
        for (values, color) in curves {
            let points = zip(ConditionalCounts.thresholds, values).compactMap { tau, v in v.map { "\(x(tau)),\(y($0))" } }
            content += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
        }
        content += "<text x=\"\(x(0.05))\" y=\"\(y(0.08))\" font-size=\"10\">black PAvPU, blue p(acc|cert), orange p(unc|inacc)</text>"
        return frame("\(title): τ 0.01-0.99", content)
    }

    static func histogram(_ lists: EvaluationState.FrameScoreLists, title: String) -> String {
        let all = lists.id + lists.ood
        guard let lo = all.min(), let hi = all.max() else { return "" }
        let span = hi > lo ? hi - lo : 1
        let bins = 30
        func counts(_ values: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: bins)
            for v in values { c[min(bins - 1, Int((v - lo) / span * Double(bins)))] += 1 }
            let total = max(1, Double(values.count))
            return c.map { $0 / total }
        }
        let id = counts(lists.id), ood = counts(lists.ood)
        let top = max(id.max() ?? 0, ood.max() ?? 0, 1e-9)
        var content = ""
        for (values, color) in [(id, "#4a7ab5"), (ood, "#e08a2c")] {
            for (b, v) in values.enumerated() where v > 0 {
                content += "<rect x=\"\(x(Double(b) / Double(bins)))\" y=\"\(y(v / top))\" width=\"\(size / Double(bins))\" height=\"\(v / top * size)\" fill=\"\(color)\" opacity=\"0.55\"/>"
            }
        }
        content += "<text x=\"\(x(0))\" y=\"\(margin + size + 14)\" font-size=\"10\">\(String(format: "%.3g", lo))</text>"
            + "<text x=\"\(x(0.85))\" y=\"\(margin + size + 14)\" font-size=\"10\">\(String(format: "%.3g", hi))</text>"
        return frame("\(title) (\(lists.id.count) ID, \(lists.ood.count) OOD)", content)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
