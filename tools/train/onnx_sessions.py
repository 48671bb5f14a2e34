"""onnxruntime sessions shared across manifests, and the softmax the evaluation scripts use.
numpy + onnxruntime only (no torch), so the CI check of the committed demo model can import it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Sessions:
    """One onnxruntime session per ONNX file, shared across manifests."""

    def __init__(self, threads: int):
        self.options = ort.SessionOptions()
        self.options.intra_op_num_threads = threads
        self.sessions: dict[Path, ort.InferenceSession] = {}

    def session(self, path: Path) -> ort.InferenceSession:
        path = path.resolve()
        if path not in self.sessions:
            self.sessions[path] = ort.InferenceSession(str(path), self.options, providers=["CPUExecutionProvider"])
        return self.sessions[path]

    def input_shape(self, path: Path, name: str) -> list[int]:
        return next(i.shape for i in self.session(path).get_inputs() if i.name == name)

    def run(self, path: Path, feeds: dict) -> dict[str, np.ndarray]:
        session = self.session(path)
        return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))

    def expert_outputs(self, folder: Path, experts: list[dict], x: np.ndarray, cache: dict) -> list[dict]:
        """Each expert's outputs on image x; `cache` (one per frame) lets manifests that share an
        expert file run it once."""
        outputs = []
        for expert in experts:
            path = (folder / expert["file"]).resolve()
            if path not in cache:
                cache[path] = self.run(path, {"image": x})
            outputs.append(cache[path])
        return outputs
