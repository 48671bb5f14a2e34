"""Confusion-matrix mIoU over classes 0..C-1; labels 254 and 255 are skipped. numpy only."""
import numpy as np


def confusion(prediction: np.ndarray, label: np.ndarray, num_classes: int) -> np.ndarray:
    """[C, C] counts, rows = ground truth, columns = prediction."""
    valid = label < num_classes
    index = label[valid].astype(np.int64) * num_classes + prediction[valid].astype(np.int64)
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def iou_per_class(matrix: np.ndarray) -> np.ndarray:
    """IoU per class; NaN for classes absent from both ground truth and prediction."""
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def mean_iou(matrix: np.ndarray) -> float:
    """Mean over classes present in ground truth or prediction."""
    return float(np.nanmean(iou_per_class(matrix)))
