"""The experts' input convention, written into moe.toml [input]: x = (pixel * SCALE - MEAN) / STD
per channel, RGB order, NCHW."""
import numpy as np

SCALE = 1.0 / 255.0
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def to_input(image: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] (or [N, H, W, 3]) RGB -> float32 [3, H, W] (or [N, 3, H, W])."""
    x = (np.asarray(image, dtype=np.float32) * np.float32(SCALE) - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(np.moveaxis(x, -1, -3), dtype=np.float32)
