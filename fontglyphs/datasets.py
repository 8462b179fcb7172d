"""Load fontglyphs datasets as arrays (and, for torch users, as Datasets).

A split on disk is the notMNIST layout, readable by torchvision's ImageFolder::

    root/
      manifest.csv          (optional: fontglyphs writes it; gives labels, font keys and families)
      A/<key>.png
      B/<key>.png
      ...

Folders without a manifest (e.g. the original notMNIST_small) are read in sorted order, labels from
the sorted class folders, the file name standing in for the font key and family.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import DatasetError
from .letters import letter_from_dirname
from .manifest import MANIFEST_NAME, read_manifest


@dataclass
class ArraySet:
    """A split held in memory: images (N, H, W) uint8 and what is known about each image."""

    images: np.ndarray
    labels: np.ndarray  # (N,) int64, index into ``letters``
    letters: tuple[str, ...]
    keys: np.ndarray  # (N,) str, font key (unique per face/instance)
    families: np.ndarray  # (N,) str, font family, for family-disjoint splits
    paths: list[str] = field(default_factory=list)  # relative to the root, when read from a folder
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files skipped

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> ArraySet:
        index = np.asarray(index)
        paths = [self.paths[i] for i in index] if self.paths else []
        return ArraySet(
            self.images[index], self.labels[index], self.letters, self.keys[index], self.families[index], paths
        )


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Decode one grayscale PNG into a 2-D uint8 array (raises ``DatasetError`` naming the file)."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode != "L":
                image = image.convert("L")
            return np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise DatasetError(f"{path}: not a readable image ({error})") from None


def _folder_entries(root: Path) -> tuple[list[tuple[str, int, str, str]], tuple[str, ...]]:
    """(relative path, label, key, family) per image and the letters, from the manifest or the folders."""
    manifest = root / MANIFEST_NAME
    if manifest.is_file():
        records = [r for r in read_manifest(manifest) if r.status == "ok"]
        by_label = {r.label: r.letter for r in records}
        letters = tuple(by_label[i] for i in sorted(by_label))
        if sorted(by_label) != list(range(len(letters))):
            # A split may lack some classes entirely; labels stay as rendered.
            letters = tuple(by_label.get(i, "") for i in range(max(by_label) + 1))
        entries = [(r.path, r.label, r.key, r.family) for r in records]
        return entries, letters
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    letters = tuple(letter_from_dirname(p.name) for p in class_dirs)
    entries = []
    for label, class_dir in enumerate(class_dirs):
        for file in sorted(class_dir.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                entries.append((f"{class_dir.name}/{file.name}", label, file.stem, file.stem))
    return entries, letters


def read_png_folder(root: str | os.PathLike, expected_size: tuple[int, int] | None = None) -> ArraySet:
    """Read a split folder. Unreadable or wrongly sized images are skipped and listed in ``problems``.

    ``expected_size`` is (height, width); by default the size of the first readable image.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder; run `fontglyphs render` (and `clean`) first")
    entries, letters = _folder_entries(root)
    if not entries:
        raise DatasetError(f"{root}: no images found (expected {root}/<LETTER>/<key>.png)")
    images, kept, problems = [], [], []
    for entry in entries:
        try:
            image = read_png(root / entry[0])
        except DatasetError as error:
            problems.append((entry[0], str(error).split(": ", 1)[1]))
            continue
        if expected_size is None:
            expected_size = image.shape
        if image.shape != tuple(expected_size):
            problems.append((entry[0], f"size {image.shape[1]}x{image.shape[0]}, expected {expected_size[1]}x{expected_size[0]}"))
            continue
        images.append(image)
        kept.append(entry)
    if not kept:
        raise DatasetError(f"{root}: none of the {len(entries)} images could be read (first: {problems[0][0]}: {problems[0][1]})")
    paths, labels, keys, families = zip(*kept)
    return ArraySet(
        images=np.stack(images),
        labels=np.asarray(labels, dtype=np.int64),
        letters=letters,
        keys=np.asarray(keys, dtype=str),
        families=np.asarray(families, dtype=str),
        paths=list(paths),
        problems=problems,
    )


def resolve_split(source: str | os.PathLike, output_dir: str | os.PathLike = "output") -> Path:
    """A split name ("large", "small", "glyphs") means ``<output_dir>/<name>``; anything else is a path."""
    path = Path(source)
    if not path.exists() and os.sep not in str(source) and (Path(output_dir) / str(source)).exists():
        return Path(output_dir) / str(source)
    if not path.exists():
        raise DatasetError(f"{source}: no such split or path (looked in {Path(output_dir) / str(source)} too)")
    return path


def load_arrays(source: str | os.PathLike, output_dir: str | os.PathLike = "output") -> ArraySet:
    """Load any dataset source as arrays: a split name, a notMNIST-layout folder (or an export file)."""
    return read_png_folder(resolve_split(source, output_dir))
