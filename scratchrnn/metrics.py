"""Classification metrics from predictions: accuracy, balanced accuracy, confusion matrix."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def per_class_recall(cm: np.ndarray) -> np.ndarray:
    """recall_i = C[i, i] / Σ_j C[i, j] (nan for a class with no samples), in percent."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * np.diag(cm) / support


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict:
    """accuracy, balanced accuracy (mean recall over classes present) and the details."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    recall = per_class_recall(cm)
    return {
        "acc": 100.0 * float(np.trace(cm)) / max(1, int(cm.sum())),
        "balanced_acc": float(np.nanmean(recall)),
        "per_class_recall": recall,
        "confusion_matrix": cm,
    }
