"""Load fontglyphs datasets as arrays, as chunk streams, and (for torch users) as Datasets.

A split on disk is the notMNIST layout, readable by torchvision's ImageFolder::

    root/
      manifest.csv          (optional: fontglyphs writes it; gives labels, font keys and families)
      A/<key>.png
      B/<key>.png
      ...

Folders without a manifest (e.g. the original notMNIST_small) are read in sorted order, labels from
the sorted class folders, the file name standing in for the font key and family.

Every export file of ``fontglyphs export`` loads too (docs/formats.md draws each layout)::

    load_arrays("small")                                  # output/small, the PNG folder
    load_arrays("output/export/notMNIST_small.h5")        # also .npz, .mat, .tar.gz and IDX
    for chunk in iter_arrays("large", chunk_size=4096):   # bounded memory, whatever the size
        ...

The torch Datasets (``GlyphFolder``, ``GlyphTar``, ``GlyphMat``, ``GlyphHDF5``, ``GlyphIDX``,
``GlyphNpz``) follow torchvision's ``(root, split, transform, target_transform)`` contract. They are
built on first access, so ``import fontglyphs.datasets`` never imports torch (the clean stage uses
this module and must not pay torch's start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import DatasetError
from .letters import letter_from_dirname
from .manifest import MANIFEST_NAME, GlyphRecord, read_manifest

DEFAULT_CHUNK = 4096  # images per streamed chunk: 3 MB of 28x28 pixels


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
            self.images[index],
            self.labels[index],
            self.letters,
            self.keys[index],
            self.families[index],
            paths,
        )


@dataclass
class SplitIndex:
    """What a split folder holds, without the pixels: the order and metadata every stream follows.

    Lists rather than numpy string arrays, because they share the manifest's string objects: a
    500,000-image split costs tens of MB here instead of hundreds.
    """

    root: Path
    letters: tuple[str, ...]
    paths: list[str]  # "<LETTER-DIR>/<key>.png", relative to ``root``
    labels: np.ndarray  # (N,) int64
    keys: list[str]
    families: list[str]
    pixel_sha256: list[str]  # from the manifest; "" where unknown (a folder without manifest)
    has_manifest: bool

    def __len__(self) -> int:
        return len(self.paths)

    def arrays(self, images: np.ndarray, start: int = 0) -> ArraySet:
        """The ArraySet of ``images``, which are entries ``start:start + len(images)`` of this index."""
        stop = start + len(images)
        return ArraySet(
            images=images,
            labels=self.labels[start:stop],
            letters=self.letters,
            keys=np.asarray(self.keys[start:stop], dtype=str),
            families=np.asarray(self.families[start:stop], dtype=str),
            paths=self.paths[start:stop],
        )


def read_png(source: str | os.PathLike | BinaryIO, name: str | None = None) -> np.ndarray:
    """Decode one grayscale PNG (a path or an open binary file) into a 2-D uint8 array.

    Raises ``DatasetError`` naming the file (``name``, e.g. a tar member, for a file object).
    """
    try:
        with Image.open(source) as image:
            image.load()
            if image.mode != "L":
                image = image.convert("L")
            return np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise DatasetError(f"{name or source}: not a readable image ({error})") from None


def index_from_records(root: Path, records: Iterable[GlyphRecord]) -> SplitIndex:
    """Index of the ``ok`` rows of a manifest, in manifest order; a label no row uses gets letter ""."""
    records = [r for r in records if r.status == "ok"]
    if not records:
        raise DatasetError(f"{root / MANIFEST_NAME}: no image has status ok")
    by_label = {r.label: r.letter for r in records}
    letters = tuple(by_label.get(i, "") for i in range(max(by_label) + 1))
    return SplitIndex(
        root=root,
        letters=letters,
        paths=[r.path for r in records],
        labels=np.fromiter((r.label for r in records), dtype=np.int64, count=len(records)),
        keys=[r.key for r in records],
        families=[r.family for r in records],
        pixel_sha256=[r.pixel_sha256 for r in records],
        has_manifest=True,
    )


def index_from_layout(root: Path, class_dirs: Iterable[str], paths: Iterable[str]) -> SplitIndex:
    """Index ``<DIR>/<file>`` paths without a manifest: the sorted class folders give the labels
    (an empty folder still takes a label, as in torchvision's ImageFolder)."""
    by_dir: dict[str, list[str]] = {name: [] for name in class_dirs}
    for path in paths:
        class_dir, _, name = path.partition("/")
        by_dir.setdefault(class_dir, []).append(name)
    ordered = [(label, f"{d}/{name}") for label, d in enumerate(sorted(by_dir)) for name in sorted(by_dir[d])]
    stems = [Path(path).stem for _, path in ordered]
    return SplitIndex(
        root=root,
        letters=tuple(letter_from_dirname(d) for d in sorted(by_dir)),
        paths=[path for _, path in ordered],
        labels=np.asarray([label for label, _ in ordered], dtype=np.int64),
        keys=stems,
        families=list(stems),
        pixel_sha256=[""] * len(ordered),
        has_manifest=False,
    )


def index_split(root: str | os.PathLike) -> SplitIndex:
    """Index a split folder from its manifest, or from its class folders when it has none."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder; run `fontglyphs render` (and `clean`) first")
    manifest = root / MANIFEST_NAME
    if manifest.is_file():
        return index_from_records(root, read_manifest(manifest))
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [
        f"{class_dir.name}/{file.name}"
        for class_dir in class_dirs
        for file in class_dir.iterdir()
        if file.is_file() and not file.name.startswith(".")
    ]
    return index_from_layout(root, [d.name for d in class_dirs], files)


def read_png_folder(root: str | os.PathLike, expected_size: tuple[int, int] | None = None) -> ArraySet:
    """Read a split folder. Unreadable or wrongly sized images are skipped and listed in ``problems``.

    ``expected_size`` is (height, width); by default the size of the first readable image.
    """
    root = Path(root)
    index = index_split(root)
    if not index.paths:
        raise DatasetError(f"{root}: no images found (expected {root}/<LETTER>/<key>.png)")
    images, kept, problems = [], [], []
    for i, path in enumerate(index.paths):
        try:
            image = read_png(root / path)
        except DatasetError as error:
            problems.append((path, str(error).split(": ", 1)[1]))
            continue
        if expected_size is None:
            expected_size = image.shape
        if image.shape != tuple(expected_size):
            problems.append(
                (
                    path,
                    f"size {image.shape[1]}x{image.shape[0]}, expected {expected_size[1]}x{expected_size[0]}",
                )
            )
            continue
        images.append(image)
        kept.append(i)
    if not kept:
        raise DatasetError(
            f"{root}: none of the {len(index)} images could be read "
            f"(first: {problems[0][0]}: {problems[0][1]})"
        )
    return ArraySet(
        images=np.stack(images),
        labels=index.labels[kept],
        letters=index.letters,
        keys=np.asarray([index.keys[i] for i in kept], dtype=str),
        families=np.asarray([index.families[i] for i in kept], dtype=str),
        paths=[index.paths[i] for i in kept],
        problems=problems,
    )


def iter_png_folder(
    root: str | os.PathLike, chunk_size: int = DEFAULT_CHUNK, index: SplitIndex | None = None
) -> Iterator[ArraySet]:
    """Stream a split folder in index order, ``chunk_size`` images at a time.

    Strict, unlike :func:`read_png_folder`: an unreadable image or one of another size raises
    ``DatasetError``, because a stream cannot drop an image without breaking the count its consumer
    (an export header, say) has already promised.
    """
    index = index or index_split(root)
    shape = None
    for start in range(0, len(index), chunk_size):
        paths = index.paths[start : start + chunk_size]
        batch = None
        for row, path in enumerate(paths):
            image = read_png(index.root / path)
            if shape is None:
                shape = image.shape
            if image.shape != shape:
                raise DatasetError(
                    f"{index.root / path}: size {image.shape[1]}x{image.shape[0]}, "
                    f"expected {shape[1]}x{shape[0]} "
                    "like the first image of the split"
                )
            if batch is None:
                batch = np.empty((len(paths), *shape), dtype=np.uint8)
            batch[row] = image
        yield index.arrays(batch, start)


def resolve_split(source: str | os.PathLike, output_dir: str | os.PathLike = "output") -> Path:
    """A split name ("large", "small", "glyphs") means ``<output_dir>/<name>``; anything else is a path."""
    path = Path(source)
    if not path.exists() and os.sep not in str(source) and (Path(output_dir) / str(source)).exists():
        return Path(output_dir) / str(source)
    if not path.exists():
        raise DatasetError(
            f"{source}: no such split or path (looked in {Path(output_dir) / str(source)} too)"
        )
    return path


def iter_arrays(
    source: str | os.PathLike, chunk_size: int = DEFAULT_CHUNK, output_dir: str | os.PathLike = "output"
) -> Iterator[ArraySet]:
    """Stream any dataset source (split name, folder or export file) in chunks of bounded size."""
    path = resolve_split(source, output_dir)
    if path.is_dir():
        return iter_png_folder(path, chunk_size)
    from .export import iter_export

    return iter_export(path, chunk_size)


def concat_arrays(chunks: Iterable[ArraySet], name: str) -> ArraySet:
    """Join streamed chunks into one ArraySet (``name`` is only for the error of an empty stream)."""
    chunks = list(chunks)
    if not chunks:
        raise DatasetError(f"{name}: holds no images")
    return ArraySet(
        images=np.concatenate([c.images for c in chunks]),
        labels=np.concatenate([c.labels for c in chunks]),
        letters=chunks[0].letters,
        keys=np.concatenate([c.keys for c in chunks]),
        families=np.concatenate([c.families for c in chunks]),
        paths=[p for c in chunks for p in c.paths],
    )


def load_arrays(source: str | os.PathLike, output_dir: str | os.PathLike = "output") -> ArraySet:
    """Load any dataset source as arrays: a split name, a notMNIST-layout folder or an export file
    (``.h5``/``.hdf5``, ``.npz``, ``.mat``, ``.tar.gz``, ``*-images-idx3-ubyte[.gz]``)."""
    path = resolve_split(source, output_dir)
    if path.is_dir():
        return read_png_folder(path)
    from .export import iter_export

    return concat_arrays(iter_export(path, DEFAULT_CHUNK), str(path))


# ---------------------------------------------------------------------------------------------------
# torch Datasets. The logic lives in plain classes here; ``__getattr__`` below mixes in
# torch.utils.data.Dataset on first access, so torch is imported only by those who ask for it.
# ---------------------------------------------------------------------------------------------------


class _GlyphDataset:
    """torchvision-style: index -> PIL "L" image -> transform; label -> target_transform."""

    export_format: ClassVar[str] = ""  # the ``fontglyphs export --format`` that writes it
    file_pattern: ClassVar[str] = ""  # file name under ``root``; ``{split}`` is filled in
    fix: ClassVar[str] = "fontglyphs export --format {format} --split {split}"

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "small",
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.transform = transform
        self.target_transform = target_transform
        self.location = self.root / self.file_pattern.format(split=split)
        if not self.location.exists():
            fix = self.fix.format(format=self.export_format, split=split)
            raise DatasetError(f"Dataset not found at {self.location}; run `{fix}`")
        self.letters, self.labels = self._load()
        self.classes = list(self.letters)
        self.class_to_idx = {letter: i for i, letter in enumerate(self.classes)}

    def _load(self) -> tuple[tuple[str, ...], np.ndarray]:
        self.data = load_arrays(self.location)
        return self.data.letters, self.data.labels

    def _image(self, index: int) -> np.ndarray:
        return self.data.images[index]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = Image.fromarray(self._image(index)), int(self.labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [
            f"{type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {self.split} ({self.location.name}, {len(self.classes)} classes)",
        ]
        lines += [
            f"    {name}: {value}"
            for name, value in (("Transform", self.transform), ("Target transform", self.target_transform))
            if value
        ]
        return "\n".join(lines)


class _FolderDataset(_GlyphDataset):
    """A PNG split folder, read one image per item (like torchvision's ImageFolder).

    Layout::

        root/                       e.g. output
          <split>/                  small or large
            manifest.csv            optional: labels, keys and families
            A/<key>.png ... J/<key>.png
    """

    export_format = "folder"
    file_pattern = "{split}"
    fix = "fontglyphs clean"

    def _load(self) -> tuple[tuple[str, ...], np.ndarray]:
        self.index = index_split(self.location)
        return self.index.letters, self.index.labels

    def _image(self, index: int) -> np.ndarray:
        return read_png(self.index.root / self.index.paths[index])


class _TarDataset(_GlyphDataset):
    """``notMNIST_<split>.tar.gz``, decoded into memory on load.

    Layout::

        root/                       e.g. output/export
          notMNIST_<split>.tar.gz   notMNIST_<split>/A/<key>.png ... + notMNIST_<split>/manifest.csv
    """

    export_format = "tar"
    file_pattern = "notMNIST_{split}.tar.gz"


class _MatDataset(_GlyphDataset):
    """``notMNIST_<split>.mat`` (MATLAB v5 or v7.3), loaded into memory.

    Layout::

        root/                       e.g. output/export
          notMNIST_<split>.mat      images 28x28xN uint8, labels Nx1, letters, keys, families
    """

    export_format = "mat"
    file_pattern = "notMNIST_{split}.mat"


class _HDF5Dataset(_GlyphDataset):
    """``notMNIST_<split>.h5``, loaded into memory.

    Layout::

        root/                       e.g. output/export
          notMNIST_<split>.h5       /images (N,28,28) uint8, /labels (N,), /keys, /families
    """

    export_format = "hdf5"
    file_pattern = "notMNIST_{split}.h5"


class _IDXDataset(_GlyphDataset):
    """MNIST IDX files (the Fashion-MNIST convention), loaded into memory.

    Layout::

        root/                               e.g. output/export
          <split>-images-idx3-ubyte.gz      magic 0x00000803, N, 28, 28, pixels
          <split>-labels-idx1-ubyte.gz      magic 0x00000801, N, labels
          manifest.json                     optional: gives the class letters (else A, B, ...)
    """

    export_format = "idx"
    file_pattern = "{split}-images-idx3-ubyte.gz"


class _NpzDataset(_GlyphDataset):
    """``notMNIST_<split>.npz``, loaded into memory.

    Layout::

        root/                       e.g. output/export
          notMNIST_<split>.npz      images (N,28,28) uint8, labels (N,), letters, keys, families
    """

    export_format = "npz"
    file_pattern = "notMNIST_{split}.npz"


_PLAIN_DATASETS = {
    "GlyphFolder": _FolderDataset,
    "GlyphTar": _TarDataset,
    "GlyphMat": _MatDataset,
    "GlyphHDF5": _HDF5Dataset,
    "GlyphIDX": _IDXDataset,
    "GlyphNpz": _NpzDataset,
}


def __getattr__(name: str) -> type:
    plain = _PLAIN_DATASETS.get(name)
    if plain is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from torch.utils.data import Dataset

    cls = type(name, (plain, Dataset), {"__doc__": plain.__doc__, "__module__": __name__})
    globals()[name] = cls
    return cls


def dataset_class(export_format: str) -> type:
    """The torch Dataset class of "folder" or an export format ("tar", "mat", "hdf5", "idx", "npz")."""
    for name, plain in _PLAIN_DATASETS.items():
        if plain.export_format == export_format:
            return __getattr__(name)
    raise DatasetError(
        f"no dataset class for format {export_format!r}; choose folder, tar, mat, hdf5, idx or npz"
    )
