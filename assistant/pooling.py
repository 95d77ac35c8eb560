"""Sentence vectors from a transformer's token vectors, as sentence-transformers' Pooling and Normalize modules make
them: used by the ONNX Runtime embedder and by the check of an ONNX export."""

from __future__ import annotations

import numpy as np


def pool(hidden: np.ndarray, mask: np.ndarray, cls: bool = False, normalize: bool = True) -> np.ndarray:
    """One vector per text from token vectors: the CLS token's or the mean of those the mask keeps, L2-normalised
    unless told not to (what sentence-transformers' Pooling and Normalize modules do)."""
    if cls:
        v = hidden[:, 0, :].astype(np.float32)
    else:
        m = mask[..., None].astype(np.float32)
        v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    if normalize:
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return v.astype(np.float32)
