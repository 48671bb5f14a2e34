"""Frames and label maps of moeseg MCAP recordings as uint8 numpy arrays, cached as .npy next to
the recording (memory-mapped on later reads), and a PyTorch dataset with random crops and flips.

Topics: /camera/image (foxglove.RawImage rgb8) and /camera/labels (mono8); a frame and its label
map share log_time. Labels: 0..C-1 classes, 254 unknown object, 255 ignore (see docs/classes.md).
The numpy part needs only numpy, mcap and foxglove_schemas_protobuf; torch only for CropDataset.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

IGNORE = 255
UNKNOWN = 254
IMAGE_TOPIC = "/camera/image"
LABEL_TOPIC = "/camera/labels"


def _decode(message: bytes, channels: int) -> np.ndarray:
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage

    raw = RawImage()
    raw.ParseFromString(message)
    expected = {"rgb8": 3, "mono8": 1}.get(raw.encoding)
    if expected != channels:
        raise ValueError(f"unexpected encoding {raw.encoding!r} for {channels} channel(s)")
    if raw.step < raw.width * channels or len(raw.data) < raw.step * raw.height:
        raise ValueError("RawImage data shorter than its geometry")
    rows = np.frombuffer(raw.data, np.uint8, raw.step * raw.height).reshape(raw.height, raw.step)
    pixels = rows[:, : raw.width * channels]
    return pixels.reshape(raw.height, raw.width, channels) if channels > 1 else pixels


def read_recording(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(images [N, H, W, 3], labels [N, H, W]) uint8 from an MCAP file, paired by log_time."""
    from mcap.reader import make_reader

    images: dict[int, np.ndarray] = {}
    labels: dict[int, np.ndarray] = {}
    with open(path, "rb") as stream:
        for _, channel, message in make_reader(stream).iter_messages(topics=[IMAGE_TOPIC, LABEL_TOPIC]):
            if channel.topic == IMAGE_TOPIC:
                images[message.log_time] = _decode(message.data, 3)
            else:
                labels[message.log_time] = _decode(message.data, 1)
    times = sorted(images.keys() & labels.keys())
    if not times:
        raise ValueError(f"{path}: no frame with both an image and a label map")
    return np.stack([images[t] for t in times]), np.stack([labels[t] for t in times])


def load(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Like read_recording, but caches FILE.images.npy / FILE.labels.npy and memory-maps them."""
    path = Path(path)
    image_cache = path.with_suffix(".images.npy")
    label_cache = path.with_suffix(".labels.npy")
    fresh = all(c.exists() and c.stat().st_mtime >= path.stat().st_mtime for c in (image_cache, label_cache))
    if not fresh:
        images, labels = read_recording(path)
        for cache, array in ((image_cache, images), (label_cache, labels)):
            tmp = cache.with_suffix(".part.npy")
            np.save(tmp, array)
            tmp.replace(cache)
    return np.load(image_cache, mmap_mode="r"), np.load(label_cache, mmap_mode="r")


def load_many(paths) -> tuple[np.ndarray, np.ndarray]:
    """Concatenation of several recordings (in memory)."""
    parts = [load(p) for p in paths]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def training_targets(labels: np.ndarray) -> np.ndarray:
    """Label maps for a loss with ignore_index=255: unknown objects (254) are ignored too."""
    out = np.array(labels, dtype=np.int64)
    out[out == UNKNOWN] = IGNORE
    return out


def make_crop_dataset(images: np.ndarray, labels: np.ndarray, crop: tuple[int, int] | None, seed: int):
    """A torch Dataset of (normalised float image [3,h,w], int64 target [h,w]) with random crops of
    size crop=(width, height) and horizontal flips, or whole frames when crop is None."""
    import torch

    from normalisation import to_input

    class CropDataset(torch.utils.data.Dataset):
        def __init__(self):
            self.generator = np.random.default_rng(seed)

        def __len__(self):
            return len(images)

        def __getitem__(self, index):
            image, label = images[index], labels[index]
            if crop is not None:
                width, height = crop
                y = int(self.generator.integers(0, image.shape[0] - height + 1))
                x = int(self.generator.integers(0, image.shape[1] - width + 1))
                image, label = image[y:y + height, x:x + width], label[y:y + height, x:x + width]
                if self.generator.random() < 0.5:
                    image, label = image[:, ::-1], label[:, ::-1]
            return torch.from_numpy(to_input(image)), torch.from_numpy(training_targets(label))

    return CropDataset()
