"""A numpy reference for `moeseg eval`, written from docs/evaluation.md (the definitions), not from
the Swift code. It reads the per-frame dump of `moeseg eval --dump DIR` (probabilities C x H x W,
labels H x W, maps H x W, frame scores) and recomputes every quantity of the report, then compares
with the report JSON.

    eval_reference.py DUMP_DIR REPORT.json [--tolerance 1e-4]

Prints the worst absolute difference per section and exits 1 if any exceeds the tolerance, or if a
key of the report is missing or defined on one side only.
"""
import argparse, glob, json, math, os, sys
import numpy as np

UNKNOWN = 254
TAUS = 0.01 + 0.02 * np.arange(50)
PATCH = 4
LEVELS = 65536


def calibration(conf, correct, brier_terms, nll_terms):
    """15 equal-width bins (lo, hi], the first closed at 0."""
    if conf.size == 0:
        return dict(ece=None, mce=None, brier=None, nll=None)
    edges = np.linspace(0.0, 1.0, 16)
    idx = np.searchsorted(edges, conf, side="left") - 1  # conf in (edges[b], edges[b+1]]
    idx = np.clip(idx, 0, 14)
    ece, mce = 0.0, 0.0
    n = conf.size
    for b in range(15):
        sel = idx == b
        nb = int(sel.sum())
        if nb == 0:
            continue
        gap = abs(correct[sel].mean() - conf[sel].mean())
        ece += nb / n * gap
        mce = max(mce, gap)
    return dict(ece=ece, mce=mce, brier=float(brier_terms.mean()), nll=float(nll_terms.mean()))


def detection(pos, neg):
    """AUROC (ties half), average precision over distinct thresholds, FPR at 95 % TPR."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    if pos.size == 0 or neg.size == 0:
        return None
    # AUROC: Mann-Whitney U with average ranks for ties.
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(allv.size)
    sorted_v = allv[order]
    i = 0
    while i < sorted_v.size:
        j = i
        while j + 1 < sorted_v.size and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    auroc = u / (pos.size * neg.size)
    # Thresholds at distinct values, descending: predicted positive if score >= t.
    thresholds = np.unique(allv)[::-1]
    tp = np.array([(pos >= t).sum() for t in thresholds], np.float64)
    fp = np.array([(neg >= t).sum() for t in thresholds], np.float64)
    recall = tp / pos.size
    precision = tp / (tp + fp)
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    reach = np.nonzero(recall >= 0.95)[0]
    fpr95 = float(fp[reach[0]] / neg.size) if reach.size else 1.0
    return dict(auroc=float(auroc), aupr=ap, fpr_at_95_tpr=fpr95)


def detection_from_levels(pos_levels, neg_levels):
    """Pixel scores: each quantisation level is one tied score (compared as integers)."""
    if pos_levels.size == 0 or neg_levels.size == 0:
        return None
    hp = np.bincount(pos_levels, minlength=LEVELS).astype(np.float64)[::-1]
    hn = np.bincount(neg_levels, minlength=LEVELS).astype(np.float64)[::-1]
    keep = (hp + hn) > 0
    hp, hn = hp[keep], hn[keep]
    P, N = hp.sum(), hn.sum()
    tp, fp = np.cumsum(hp), np.cumsum(hn)
    below = N - fp  # negatives strictly below each level
    auroc = float(np.sum(hp * (below + 0.5 * hn)) / (P * N))
    recall = tp / P
    precision = tp / (tp + fp)
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    reach = np.nonzero(recall >= 0.95)[0]
    fpr95 = float(fp[reach[0]] / N) if reach.size else 1.0
    return dict(auroc=auroc, aupr=ap, fpr_at_95_tpr=fpr95)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump"), ap.add_argument("report")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    report = json.load(open(a.report))
    stems = sorted(p[: -len("_frame.json")] for p in glob.glob(os.path.join(a.dump, "*_frame.json")))
    if not stems:
        sys.exit(f"no frames in {a.dump}")
    classes = np.load(stems[0] + "_probs.npy").shape[0]

    confusion = np.zeros((classes, classes), np.int64)
    top = dict(conf=[], correct=[], brier=[], nll=[])
    maps = {}
    frame_scores = {}
    n_id = n_ood = 0
    for stem in stems:
        meta = json.load(open(stem + "_frame.json"))
        ood = meta["ood"]
        probs = np.load(stem + "_probs.npy").astype(np.float64)
        labels = np.load(stem + "_labels.npy").astype(np.int64)
        H, W = labels.shape
        pred = np.argmax(probs, axis=0)
        valid = labels < classes
        unknown = labels == UNKNOWN
        for name, value in meta["scores"].items():
            frame_scores.setdefault(name, ([], []))[1 if ood else 0].append(value)
        if ood:
            n_ood += 1
        else:
            n_id += 1
            y, p = labels[valid], pred[valid]
            np.add.at(confusion, (y, p), 1)
            pv = probs[:, valid]  # C x n
            onehot = np.zeros_like(pv)
            onehot[y, np.arange(y.size)] = 1.0
            top["conf"].append(pv.max(axis=0))
            top["correct"].append((p == y).astype(np.float64))
            top["brier"].append(((pv - onehot) ** 2).sum(axis=0))
            py = pv[y, np.arange(y.size)]
            top["nll"].append(-np.log(np.maximum(py, np.float64(np.finfo(np.float32).smallest_subnormal))))
        for path in sorted(glob.glob(stem + "_map_*.npy")):
            name = path[len(stem + "_map_"): -len(".npy")]
            u = np.load(path).astype(np.float32)
            m = maps.setdefault(name, dict(conf=[], correct=[], cond=np.zeros((50, 4), np.int64), pos=[], neg=[]))
            lev = np.clip(np.floor(u.astype(np.float64) * LEVELS), 0, LEVELS - 1).astype(np.int64)
            m["pos"].append(lev[unknown])
            m["neg"].append(lev[valid])
            if ood:
                continue
            c = 1.0 - u.astype(np.float64)[valid]
            m["conf"].append(c)
            m["correct"].append((pred[valid] == labels[valid]).astype(np.float64))
            # 4 x 4 patches from the top-left, partial ones dropped, valid pixels only.
            hh, ww = H // PATCH * PATCH, W // PATCH * PATCH
            def blocks(x):
                return x[:hh, :ww].reshape(hh // PATCH, PATCH, ww // PATCH, PATCH).swapaxes(1, 2).reshape(-1, PATCH * PATCH)
            vb = blocks(valid).astype(np.float64)
            cb = blocks((pred == labels) & valid).astype(np.float64)
            ub = blocks(np.where(valid, u.astype(np.float64), 0.0))
            nv = vb.sum(axis=1)
            keep = nv > 0
            acc = cb.sum(axis=1)[keep] / nv[keep] >= 0.5
            mean_u = ub.sum(axis=1)[keep] / nv[keep]
            for t, tau in enumerate(TAUS):
                unc = mean_u >= tau
                m["cond"][t] += [np.sum(acc & ~unc), np.sum(acc & unc), np.sum(~acc & ~unc), np.sum(~acc & unc)]

    ours = {}
    tp = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - np.diag(confusion)
    iou = [float(tp[c] / union[c]) if union[c] > 0 else None for c in range(classes)]
    present = [v for v in iou if v is not None]
    ours["miou"] = float(np.mean(present)) if present else None
    ours["iou"] = iou
    ours["frames"] = dict(id=n_id, ood=n_ood)
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in top.items()}
    ours["top_label"] = calibration(cat["conf"], cat["correct"], cat["brier"], cat["nll"])
    ours["maps"], ours["ood_pixel"] = {}, {}
    for name, m in maps.items():
        conf = np.concatenate(m["conf"]) if m["conf"] else np.zeros(0)
        corr = np.concatenate(m["correct"]) if m["correct"] else np.zeros(0)
        clipped = np.clip(conf, 1e-7, 1 - 1e-7)
        entry = calibration(np.clip(conf, 0, 1), corr, (conf - corr) ** 2,
                            -(corr * np.log(clipped) + (1 - corr) * np.log(1 - clipped)))
        ac, au, ic, iu = (m["cond"][:, k].astype(np.float64) for k in range(4))
        def ratio(x, y):
            return [float(a / b) if b > 0 else None for a, b in zip(x, y)]
        pac, pui, pav = ratio(ac, ac + ic), ratio(iu, ic + iu), ratio(ac + iu, ac + au + ic + iu)
        entry["tau"] = [float(t) for t in TAUS]
        entry["p_accurate_certain"], entry["p_uncertain_inaccurate"], entry["pavpu"] = pac, pui, pav
        def peak(xs):
            d = [x for x in xs if x is not None]
            return max(d) if d else None
        entry["peak"] = dict(p_accurate_certain=peak(pac), p_uncertain_inaccurate=peak(pui), pavpu=peak(pav))
        entry["au_pavpu"] = float(np.trapezoid(pav, TAUS) / 0.98) if all(x is not None for x in pav) else None
        ours["maps"][name] = entry
        pos, neg = np.concatenate(m["pos"]), np.concatenate(m["neg"])
        if pos.size and neg.size:
            ours["ood_pixel"][name] = detection_from_levels(pos, neg)
    ours["ood_frame"] = {}
    for name, (idv, oodv) in frame_scores.items():
        if idv and oodv:
            ours["ood_frame"][name] = detection(oodv, idv)

    worst = {}
    problems = []

    def compare(path, x, y):
        section = path.split(".")[1].split("[")[0] if "." in path else path
        if isinstance(x, dict) or isinstance(y, dict):
            if not isinstance(x, dict) or not isinstance(y, dict):
                problems.append(f"{path}: {type(x).__name__} vs {type(y).__name__}")
                return
            for k in set(x) | set(y):
                if k not in x or k not in y:
                    problems.append(f"{path}.{k}: missing on one side")
                    continue
                compare(f"{path}.{k}", x[k], y[k])
        elif isinstance(x, list) or isinstance(y, list):
            if not isinstance(x, list) or not isinstance(y, list) or len(x) != len(y):
                problems.append(f"{path}: lists differ in shape")
                return
            for i, (u, v) in enumerate(zip(x, y)):
                compare(f"{path}[{i}]", u, v)
        elif x is None or y is None:
            if x is not y:
                problems.append(f"{path}: {x} vs {y}")
        else:
            d = abs(float(x) - float(y))
            worst[section] = max(worst.get(section, 0.0), d)
            if not d <= a.tolerance:
                problems.append(f"{path}: moeseg {y} vs numpy {x} (|diff| {d:.3g})")

    compare("report", ours, {k: report[k] for k in ours})
    for section, d in sorted(worst.items()):
        print(f"{section}: worst |diff| {d:.3g}")
    print(json.dumps(dict(frames=len(stems), sections=len(worst), problems=problems[:20])))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
