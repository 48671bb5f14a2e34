"""The paper's comparisons on the synthetic benchmark with the committed demo models: every
variant evaluated by `moeseg eval` on the same held-out drives, printed as markdown tables
(docs/evaluation.md, "Comparisons").

    compare_models.py [--moeseg BIN] [--frames N] [--work DIR] [--corruptions [--corruption-frames N]]

ID = highway + urban drives, OOD = ambiguous drives, all fresh seeds (not the training ones).
With --corruptions four models are also evaluated on the ID drives corrupted at severities 1-5
(`moeseg eval --corruption`).
"""
import argparse, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = ["moe-simple", "moe-simple-int8", "moe-simple-conv", "moe-classwise", "moe-classwise-conv", "ensemble", "baseline-mc"]
ID = [("highway", 501), ("highway", 502), ("urban", 503), ("urban", 504)]
OOD = [("ambiguous", 505), ("ambiguous", 506)]
CORRUPTIONS = ["gaussian_noise", "motion_blur", "fog", "contrast", "jpeg_compression"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return r.stdout


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def principal(report, model):
    maps = report["maps"]
    for name in (["mi_weighted"] if "mi_weighted" in maps else []) + ["mi_stacked", "mi_ensemble"]:
        if name in maps:
            return name
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moeseg", default=os.path.join(ROOT, ".build/debug/moeseg"))
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--work")
    ap.add_argument("--corruptions", action="store_true")
    ap.add_argument("--corruption-frames", type=int, default=8)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="moeseg-compare-")
    drives = {}
    for domain, seed in ID + OOD:
        path = os.path.join(work, f"{domain}-{seed}.mcap")
        if not os.path.exists(path):
            run([a.moeseg, "synth", "--domain", domain, "--frames", str(a.frames), "--seed", str(seed), "--size", "512x256", "--out", path])
        drives[(domain, seed)] = path
    ids = ",".join(drives[d] for d in ID)
    oods = ",".join(drives[d] for d in OOD)
    reports = {}
    for model in MODELS:
        out = os.path.join(work, f"{model}.json")
        if not os.path.exists(out):
            run([a.moeseg, "eval", "--model", os.path.join(ROOT, "models/demo", model), "--data", ids, "--ood", oods, "--json", out])
        reports[model] = json.load(open(out))

    print(f"ID: {len(ID)} drives (highway {ID[0][1]}, {ID[1][1]}; urban {ID[2][1]}, {ID[3][1]}), OOD: ambiguous {OOD[0][1]}, {OOD[1][1]}; "
          f"{a.frames} frames each at 512x256.\n")
    print("| model | mIoU | top-label ECE | NLL | Brier | MI map | MI ECE | MI AU-PAvPU | MI peak PAvPU |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for model, r in reports.items():
        t = r["top_label"]
        mi = principal(r, model)
        m = r["maps"].get(mi, {}) if mi else {}
        print(f"| {model} | {fmt(r['miou'])} | {fmt(t['ece'])} | {fmt(t['nll'])} | {fmt(t['brier'])} | {mi or '-'} | "
              f"{fmt(m.get('ece'))} | {fmt(m.get('au_pavpu'))} | {fmt((m.get('peak') or {}).get('pavpu'))} |")
    print()
    print("OOD detection, frame level (ambiguous vs highway + urban), AUROC / FPR at 95 % TPR:\n")
    scores = ["gate_entropy", "mean_mi", "uncertain_fraction"]
    print("| model | " + " | ".join(scores) + " |")
    print("|---|" + "---:|" * len(scores))
    for model, r in reports.items():
        cells = []
        for s in scores:
            d = r["ood_frame"].get(s)
            cells.append("-" if not d else f"{d['auroc']:.3f} / {d['fpr_at_95_tpr']:.2f}")
        print(f"| {model} | " + " | ".join(cells) + " |")
    print()
    print("OOD detection, pixel level (unknown objects, label 254, vs valid pixels), AUROC of the principal maps:\n")
    print("| model | " + " | ".join(["pe", "mi", "ev", "gate_entropy"]) + " |")
    print("|---|---:|---:|---:|---:|")
    for model, r in reports.items():
        mi = principal(r, model)
        pe = mi.replace("mi_", "pe_") if mi else None
        cells = []
        for name in [pe, mi, "ev", "gate_entropy"]:
            d = r["ood_pixel"].get(name) if name else None
            cells.append(fmt(d["auroc"]) if d else "-")
        print(f"| {model} | " + " | ".join(cells) + " |")

    if a.corruptions:
        print()
        print(f"Data shift: `moeseg eval --corruption K --severity S` on the ID drives ({a.corruption_frames} frames each), "
              "mean over " + ", ".join(CORRUPTIONS) + "; mIoU / top-label ECE:\n")
        print("| model | clean | 1 | 2 | 3 | 4 | 5 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for model in ["moe-simple", "moe-classwise-conv", "ensemble", "baseline-mc"]:
            clean = os.path.join(work, f"{model}-clean-{a.corruption_frames}.json")
            if not os.path.exists(clean):
                run([a.moeseg, "eval", "--model", os.path.join(ROOT, "models/demo", model), "--data", ids,
                     "--frames", str(a.corruption_frames), "--json", clean])
            c = json.load(open(clean))
            row = [f"{fmt(c['miou'])} / {fmt(c['top_label']['ece'])}"]
            for severity in range(1, 6):
                mious, eces = [], []
                for kind in CORRUPTIONS:
                    out = os.path.join(work, f"{model}-{kind}-{severity}.json")
                    if not os.path.exists(out):
                        run([a.moeseg, "eval", "--model", os.path.join(ROOT, "models/demo", model), "--data", ids,
                             "--frames", str(a.corruption_frames), "--corruption", kind, "--severity", str(severity), "--json", out])
                    r = json.load(open(out))
                    mious.append(r["miou"]); eces.append(r["top_label"]["ece"])
                row.append(f"{fmt(sum(mious) / len(mious))} / {fmt(sum(eces) / len(eces))}")
            print(f"| {model} | " + " | ".join(row) + " |")

if __name__ == "__main__":
    main()
