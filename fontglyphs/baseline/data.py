"""The baseline's data protocol: train on one split, hold out font families for validation, test on another.

Holding out random *images* would leak: the other letters of a held-out font stay in training, and a model
that recognises a font's style scores well on its unseen letters. So validation takes whole families, as
the small/large split of ``fontglyphs clean`` does.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from ..datasets import ArraySet
from ..errors import DatasetError


def split_by_family(families: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): a seeded random ``fraction`` of the families (at least one) is held out.

    Like scikit-learn's GroupShuffleSplit: the fraction counts families, not images, and every image of a
    family lands on the same side.
    """
    names, family_index = np.unique(np.asarray(families), return_inverse=True)
    if len(names) < 2:
        raise DatasetError(
            f"the training set has {len(names)} family; 2 or more are needed to hold some out for validation"
        )
    held_out_count = min(len(names) - 1, max(1, round(fraction * len(names))))
    held_out = np.random.default_rng(seed).permutation(len(names))[:held_out_count]
    is_val = np.isin(family_index, held_out)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def check_compatible(train: ArraySet, test: ArraySet, train_name: str, test_name: str) -> None:
    """Refuse a train/test pair the model cannot be trained on or honestly tested with, in one line."""
    for data, name in ((train, train_name), (test, test_name)):
        if len(data) == 0:
            raise DatasetError(f"{name}: the split has no images")
    if train.images.shape[1:] != test.images.shape[1:]:
        (train_h, train_w), (test_h, test_w) = train.images.shape[1:], test.images.shape[1:]
        raise DatasetError(
            f"{test_name}: images are {test_w}x{test_h} but the training images ({train_name}) are "
            f"{train_w}x{train_h}"
        )
    if tuple(train.letters) != tuple(test.letters):
        raise DatasetError(
            f"{test_name}: letters {''.join(test.letters)!r} differ from the training letters "
            f"{''.join(train.letters)!r} ({train_name}); labels would not mean the same class"
        )
    missing = sorted(set(range(len(train.letters))) - set(np.unique(train.labels).tolist()))
    if missing:
        names = ", ".join(train.letters[i] for i in missing)
        raise DatasetError(f"{train_name}: no training images of {names}")


def dataset_sha256(data: ArraySet) -> str:
    """Checksum of what the model sees: the uint8 pixels (C order) then the labels as little-endian int64."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.images, dtype=np.uint8).tobytes())
    digest.update(np.asarray(data.labels, dtype="<i8").tobytes())
    return digest.hexdigest()


def source_name(source: str) -> str:
    """A short, file-system safe name for a dataset source: ``large``, ``notMNIST_small`` (from ….h5)."""
    name = Path(str(source).rstrip("/\\")).name
    for suffix in (".tar.gz", ".npz", ".h5", ".hdf5", ".mat", ".gz", ".idx", ".tar"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "data"


def default_run_name(model: str, train_source: str, test_source: str, seed: int) -> str:
    """Deterministic, so that re-running the same command overwrites its own reports and nothing else."""
    return f"{model}-{source_name(train_source)}-{source_name(test_source)}-seed{seed}"
