#!/usr/bin/env python3
"""Checks the committed demo model (models/demo/) with onnxruntime + numpy only (no torch, no
moeseg): for every variant (each folder with a moe.toml) it validates the manifest
(validate_moe.py), then computes each committed test frame's output exactly as
docs/model-format.md defines it, and checks it is sane:
- every expert gives logits [1, C, H, W] at the manifest's input size and features [1, F, h, w];
- gate weights (softmax of the gate logits over the expert axis) have shape [1, E] / [1, E, C],
  lie in [0, 1] and sum to 1 over the experts;
- the class probabilities sum to 1 per pixel and the prediction is not constant (>= 4 classes);
- the frame's mIoU (labels 254/255 skipped) is above a floor, and for mixtures the gate routes the
  highway frame mostly to the highway expert and the urban frame to the urban expert.
Prints one line per variant and frame and a JSON summary; exits 1 on any failed check.

    check_demo_model.py [models/demo]                    # what the Swift test runs (< 10 s)
    check_demo_model.py --write-frame models/demo        # (re)writes models/demo/testdata/ from out/data
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "train"))
from metrics import confusion, mean_iou  # noqa: E402
from onnx_sessions import Sessions, softmax  # noqa: E402
from validate_moe import validate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# One frame per in-distribution domain from the held-out test drives (make_data.sh seeds).
FRAMES = {"highway": ("test_highway_12000.mcap", 20), "urban": ("test_urban_22000.mcap", 20)}
# mIoU floors on the test frames, well under what the committed model measures (models/demo/README.md):
# a broken export, a wrong normalisation or a swapped expert order falls far below them.
MIOU_FLOOR = {"mixture": 0.30, "expert": 0.30, "ensemble": 0.25, "mc_dropout": 0.22}
ROUTING_FLOOR = 0.6  # mean gate weight of the matching expert on its own domain's frame


class Checker(Sessions):
    """The shared sessions (one thread: CI runs tests in parallel), expert outputs shared by the
    variants, and the failures found."""

    def __init__(self):
        super().__init__(threads=1)
        self.expert_outputs: dict[tuple[Path, str], dict[str, np.ndarray]] = {}
        self.failures: list[str] = []

    def expect(self, condition: bool, message: str) -> bool:
        if not condition:
            self.failures.append(message)
        return condition


def model_input(manifest: dict, image: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] RGB -> float32 [1, 3, H, W] by the manifest's [input] rule."""
    spec = manifest["input"]
    if image.shape[:2] != (spec["height"], spec["width"]):
        raise SystemExit(f"test frame is {image.shape[1]}x{image.shape[0]}, the model wants {spec['width']}x{spec['height']}")
    pixels = image[..., ::-1] if spec["color"] == "bgr" else image
    x = (pixels.astype(np.float32) * np.float32(spec["scale"]) - np.float32(spec["mean"])) / np.float32(spec["std"])
    return np.ascontiguousarray(np.moveaxis(x, -1, 0)[None], dtype=np.float32)


def check_variant(checker: Checker, folder: Path, manifest: dict, frames: dict, report: dict) -> None:
    c = len(manifest["classes"]["names"])
    h, w = manifest["input"]["height"], manifest["input"]["width"]
    experts = manifest["experts"]
    gate = manifest.get("gate")
    kind = "mc_dropout" if "mc_dropout" in manifest else "mixture" if gate else "ensemble" if len(experts) > 1 else "expert"
    for domain, (image, label) in frames.items():
        tag = f"{folder.name}/{domain}"
        x = model_input(manifest, image)
        weights = None
        if kind == "mc_dropout":
            mc = manifest["mc_dropout"]
            path = folder / experts[0]["file"]
            mask_shape = checker.input_shape(path, "dropout_mask")
            rng = np.random.default_rng(0)
            passes = []
            for _ in range(mc["passes"]):
                mask = (rng.random(mask_shape) >= mc["rate"]).astype(np.float32)
                passes.append(softmax(checker.run(path, {"image": x, "dropout_mask": mask})[experts[0]["logits"]], 1))
            checker.expect(np.abs(passes[0] - passes[1]).max() > 1e-4, f"{tag}: MC-dropout passes are identical")
            probabilities = np.mean(passes, 0)
        else:
            outputs = []
            for e in experts:
                key = ((folder / e["file"]).resolve(), domain)
                if key not in checker.expert_outputs:
                    checker.expert_outputs[key] = checker.run(folder / e["file"], {"image": x})
                outputs.append(checker.expert_outputs[key])
            logits = [o[e["logits"]] for o, e in zip(outputs, experts)]
            for e, z in zip(experts, logits):
                checker.expect(z.shape == (1, c, h, w), f"{tag}: expert {e['name']} logits {z.shape}, want {(1, c, h, w)}")
            z = np.stack(logits, 1)  # [1, E, C, H, W]
            if gate is None:
                probabilities = softmax(z, 2).mean(1)
            else:
                features = [o[e["features"]] for o, e in zip(outputs, experts)]
                for e, f in zip(experts, features):
                    checker.expect(f.ndim == 4 and f.shape[0] == 1, f"{tag}: expert {e['name']} features {f.shape}")
                gate_logits = checker.run(folder / gate["file"], dict(zip(gate["inputs"], features)))[gate["output"]]
                want = (1, len(experts)) if gate["kind"] == "simple" else (1, len(experts), c)
                checker.expect(gate_logits.shape == want, f"{tag}: gate output {gate_logits.shape}, want {want}")
                weights = softmax(gate_logits.astype(np.float64), 1)
                checker.expect(bool(np.all((weights >= 0) & (weights <= 1))), f"{tag}: gate weights outside [0, 1]")
                checker.expect(np.abs(weights.sum(1) - 1).max() < 1e-6, f"{tag}: gate weights do not sum to 1")
                g = weights[:, :, None, None, None] if weights.ndim == 2 else weights[:, :, :, None, None]
                combine = manifest.get("combine", {})
                if combine.get("rule", "logits") == "probabilities":
                    probabilities = (g * softmax(z, 2)).sum(1)
                else:
                    mixed = (g * z).sum(1).astype(np.float32)
                    if "conv" in combine:
                        mixed = checker.run(folder / combine["conv"], {"moe_logits": mixed})["logits"]
                    probabilities = softmax(mixed, 1)
                names = [e["name"] for e in experts]
                if domain in names:
                    share = float(weights.reshape(1, len(experts), -1).mean(2)[0, names.index(domain)])
                    checker.expect(share >= ROUTING_FLOOR,
                                   f"{tag}: gate gives the {domain} expert {share:.2f} on a {domain} frame (< {ROUTING_FLOOR})")
        checker.expect(probabilities.shape == (1, c, h, w), f"{tag}: probabilities {probabilities.shape}")
        checker.expect(np.abs(probabilities.sum(1) - 1).max() < 1e-4, f"{tag}: probabilities do not sum to 1")
        prediction = probabilities[0].argmax(0)
        distinct = len(np.unique(prediction))
        checker.expect(distinct >= 4, f"{tag}: prediction has only {distinct} classes")
        miou = mean_iou(confusion(prediction, label, c))
        checker.expect(miou >= MIOU_FLOOR[kind], f"{tag}: mIoU {miou:.3f} below the floor {MIOU_FLOOR[kind]}")
        entry = {"kind": kind, "miou": round(miou, 4), "classes_predicted": distinct}
        if weights is not None:
            entry["gate_mean"] = [round(float(v), 4) for v in weights.reshape(1, len(experts), -1).mean(2)[0]]
        report[tag] = entry
        print(f"{tag}: {kind}, mIoU {miou:.3f}, {distinct} classes predicted"
              + (f", mean gate weights {entry['gate_mean']}" if weights is not None else ""), file=sys.stderr)


def write_frames(models: Path) -> None:
    """Copies the FRAMES test frames (image + label map) from out/data into models/testdata/."""
    import dataset

    out = models / "testdata"
    out.mkdir(parents=True, exist_ok=True)
    for domain, (recording, index) in FRAMES.items():
        images, labels = dataset.load(ROOT / "out" / "data" / recording)
        np.savez_compressed(out / f"{domain}.npz", image=np.asarray(images[index]), label=np.asarray(labels[index]),
                            source=np.array(f"{recording}:{index}"))
        print(f"{out / (domain + '.npz')}: {recording} frame {index}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="?", default=ROOT / "models" / "demo")
    parser.add_argument("--write-frame", action="store_true", help="write models/testdata/ from out/data and exit")
    args = parser.parse_args()
    if args.write_frame:
        write_frames(args.models)
        return 0
    start = time.monotonic()
    frames = {}
    for domain in FRAMES:
        path = args.models / "testdata" / f"{domain}.npz"
        if not path.is_file():
            print(f"moeseg: error: no test frame {path}", file=sys.stderr)
            return 1
        with np.load(path) as data:
            frames[domain] = (data["image"], data["label"])
    manifests = sorted(args.models.glob("*/moe.toml"))
    checker = Checker()
    checker.expect(len(manifests) >= 5, f"{args.models}: {len(manifests)} variants, want >= 5")
    report: dict = {}
    kinds = set()
    for path in manifests:
        errors, summary = validate(path.parent, root=args.models)
        if not checker.expect(not errors, f"{path}: invalid: {errors}"):
            continue
        manifest = tomllib.loads(path.read_text())
        kinds.add(("mc" if "mc_dropout" in manifest else manifest.get("gate", {}).get("kind", "ensemble"))
                  + ("+conv" if "conv" in manifest.get("combine", {}) else ""))
        check_variant(checker, path.parent, manifest, frames, report)
    for kind in ("simple", "classwise", "ensemble", "mc"):
        checker.expect(kind in kinds, f"no {kind} variant in {args.models}")
    checker.expect(any(k.endswith("+conv") for k in kinds), "no +conv variant")
    print(json.dumps({"variants": len(manifests), "failures": checker.failures, "frames": report,
                      "seconds": round(time.monotonic() - start, 2)}))
    for failure in checker.failures:
        print(f"check_demo_model: FAIL {failure}", file=sys.stderr)
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
