"""The export stage: ``output/{small,large}`` -> ``output/export/`` in the formats people load.

One module per format, each a ``write``/``read`` pair over the same split data (docs/formats.md
draws every layout)::

    tar    notMNIST_<split>.tar.gz                 the notMNIST folder layout, reproducible bytes
    mat    notMNIST_<split>.mat                    MATLAB v5 (< 2 GB) or v7.3 (HDF5-based)
    hdf5   notMNIST_<split>.h5                     images (N, 28, 28) chunked + gzip, labels, keys, families
    idx    <split>-{images-idx3,labels-idx1}-ubyte.gz   byte-exact MNIST IDX
    npz    notMNIST_<split>.npz                    numpy, with a fixed zip timestamp

Exports stream: a split is indexed (paths, labels, keys), then its pixels pass once, in chunks, through
every array writer at the same time, so memory stays bounded whatever the split size. The tar.gz copies
the PNG files byte for byte in a pass of its own. Every file is written under a temporary name and
renamed when complete; ``manifest.json`` (what each file holds and where it came from) and
``SHA256SUMS`` (``sha256sum -c`` compatible) are updated last::

    from fontglyphs.export import ExportConfig, export_splits, parse_formats
    export_splits(ExportConfig(formats=parse_formats("hdf5,npz"), splits=("small",)))

Each array-format module provides ``filenames(split)``, ``settings(data, config)``, a ``writer(directory,
data, config)`` context manager yielding ``add(images)``, and ``iter_chunks(path, chunk_size)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

from .. import __version__
from ..datasets import DEFAULT_CHUNK, ArraySet, SplitIndex, index_split, iter_png_folder, read_png
from ..errors import DatasetError, ExportFormatError, UsageError
from ..manifest import MANIFEST_NAME, atomic_write_text

FORMATS = ("tar", "mat", "hdf5", "idx", "npz")
SPLITS = ("small", "large")
EXPORT_DIRNAME = "export"
INDEX_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
COMPRESSION_LEVEL = 6  # zlib/gzip level of every format: -9 costs twice the time for ~2% smaller files

_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")  # a folder name, never "." or ".."
_FILE_FORMATS = (  # how a file name tells its format, for readers
    (re.compile(r"\.(tar\.gz|tgz|tar)$"), "tar"),
    (re.compile(r"\.mat$"), "mat"),
    (re.compile(r"\.(h5|hdf5)$"), "hdf5"),
    (re.compile(r"-(images-idx3|labels-idx1)-ubyte(\.gz)?$"), "idx"),
    (re.compile(r"\.npz$"), "npz"),
)


def parse_formats(spec: str) -> tuple[str, ...]:
    """``all`` or a comma list such as ``tar,hdf5``, in the canonical order of :data:`FORMATS`."""
    names = {name.strip().lower() for name in spec.split(",") if name.strip()}
    if "all" in names:
        names = (names - {"all"}) | set(FORMATS)
    unknown = sorted(names - set(FORMATS))
    if unknown or not names:
        raise ExportFormatError(
            f"--format {spec!r}: unknown format {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(FORMATS)} or all"
        )
    return tuple(name for name in FORMATS if name in names)


def parse_splits(spec: str) -> tuple[str, ...]:
    """``all`` (small and large) or a comma list of split folder names under the output folder."""
    names: list[str] = []
    for name in (n.strip() for n in spec.split(",")):
        for split in SPLITS if name == "all" else (name,):
            if not _SPLIT_NAME.match(split):
                raise UsageError(f"--split {spec!r}: {split!r} is not a split name like small or large")
            if split not in names:
                names.append(split)
    return tuple(names)


@dataclass(frozen=True)
class ExportConfig:
    """What ``fontglyphs export`` was asked to do; defaults are the CLI's."""

    formats: tuple[str, ...] = FORMATS
    splits: tuple[str, ...] = SPLITS
    output_dir: Path = Path("output")
    export_dir: Path | None = None  # default: <output_dir>/export
    force: bool = False
    mat_version: str = "auto"  # "auto" (v5 under 2 GB, else 7.3), "5" or "7.3"
    chunk_size: int = DEFAULT_CHUNK
    progress: bool = False

    @property
    def target_dir(self) -> Path:
        return (
            Path(self.export_dir) if self.export_dir is not None else Path(self.output_dir) / EXPORT_DIRNAME
        )


@dataclass(frozen=True)
class SplitData:
    """Everything about one split but its pixels, which stream through the writers in ``index`` order."""

    name: str
    index: SplitIndex
    shape: tuple[int, int]  # (height, width) of every image
    source: dict  # recorded in manifest.json and the files' attributes

    @property
    def label_dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if len(self.index.letters) <= 256 else np.int32)

    @property
    def labels(self) -> np.ndarray:
        return self.index.labels.astype(self.label_dtype)

    @property
    def image_bytes(self) -> int:
        return len(self.index) * self.shape[0] * self.shape[1]

    def counts_per_class(self) -> list[int]:
        return np.bincount(self.index.labels, minlength=len(self.index.letters)).tolist()


@dataclass(frozen=True)
class Written:
    """One export done: its files (the first is the one readers open) and how many images they hold."""

    split: str
    format: str
    paths: tuple[Path, ...]
    images: int
    record: dict = field(repr=False)


def format_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def format_of(path: str | os.PathLike) -> str | None:
    """The export format a file name belongs to, or None."""
    name = Path(path).name
    return next((fmt for pattern, fmt in _FILE_FORMATS if pattern.search(name)), None)


def iter_export(path: str | os.PathLike, chunk_size: int = DEFAULT_CHUNK) -> Iterator[ArraySet]:
    """Stream any export file (or an original MNIST IDX file) as ArraySet chunks."""
    fmt = format_of(path)
    if fmt is None:
        raise ExportFormatError(
            f"{path}: not an export file fontglyphs knows "
            "(.tar.gz, .mat, .h5/.hdf5, .npz, *-images-idx3-ubyte[.gz])"
        )
    return format_module(fmt).iter_chunks(Path(path), chunk_size)


@contextlib.contextmanager
def reading(path: Path, what: str, *errors: type[BaseException]) -> Iterator[None]:
    """Turn a reader library's exceptions into one ExportFormatError naming the file."""
    try:
        yield
    except (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        zlib.error,
        tarfile.TarError,
        zipfile.BadZipFile,
        *errors,
    ) as error:
        raise ExportFormatError(f"{path}: not a readable {what} ({type(error).__name__}: {error})") from None


def chunks_of(arrays: ArraySet, chunk_size: int) -> Iterator[ArraySet]:
    """Views of ``chunk_size`` images at a time, for formats whose reader loads the whole file."""
    for start in range(0, len(arrays), chunk_size):
        part = slice(start, start + chunk_size)
        yield ArraySet(
            arrays.images[part],
            arrays.labels[part],
            arrays.letters,
            arrays.keys[part],
            arrays.families[part],
            arrays.paths[part],
        )


def raw_image_chunks(
    stream, shape: tuple[int, ...], chunk_size: int, what: str
) -> Iterator[tuple[int, np.ndarray]]:
    """(start, block of (count, H, W) uint8) from a raw C-order image array; short reads name ``what``."""
    image_size = shape[1] * shape[2]
    for start in range(0, shape[0], chunk_size):
        count = min(chunk_size, shape[0] - start)
        payload = stream.read(count * image_size)
        if len(payload) != count * image_size:
            raise ExportFormatError(f"{what} ends after {start + len(payload) // image_size} images")
        yield start, np.frombuffer(payload, np.uint8).reshape(count, *shape[1:])


def letters_beside(path: Path, count: int) -> tuple[str, ...]:
    """Class letters of a file that cannot hold them (IDX): from manifest.json beside it, else A, B, ..."""
    index = Path(path).parent / INDEX_NAME
    if index.is_file():
        for record in _read_index(index).values():
            if Path(path).name in record.get("files", ()):
                return tuple(record["letters"])
    return tuple(chr(ord("A") + i) if i < 26 else str(i) for i in range(count))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# The index files: manifest.json and SHA256SUMS
# ---------------------------------------------------------------------------------------------------


def _read_index(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["exports"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportFormatError(f"{path}: not a fontglyphs export manifest ({error})") from None


def read_index(export_dir: Path) -> dict[str, dict]:
    """The records of manifest.json, keyed ``<split>/<format>``; empty when there is none yet."""
    path = Path(export_dir) / INDEX_NAME
    return _read_index(path) if path.is_file() else {}


def read_sums(path: Path) -> dict[str, str]:
    """``sha256sum`` lines as {file name: hex digest}."""
    sums = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = re.match(r"^([0-9a-f]{64}) [ *](.+)$", line)
        if not match:
            raise ExportFormatError(f"{path}:{number}: not a sha256sum line: {line[:60]!r}")
        sums[match.group(2)] = match.group(1)
    return sums


def _update_index_files(export_dir: Path, written: list[Written]) -> None:
    """Merge this run's records into manifest.json and refresh SHA256SUMS for the files written now;
    sums of files from earlier runs are kept, not recomputed, so a later run never blesses tampering."""
    records = read_index(export_dir)
    records.update({f"{w.split}/{w.format}": w.record for w in written})
    atomic_write_text(
        export_dir / INDEX_NAME, json.dumps({"exports": records}, indent=2, sort_keys=True) + "\n"
    )
    sums_path = export_dir / SUMS_NAME
    sums = read_sums(sums_path) if sums_path.is_file() else {}
    sums.update({p.name: sha256_file(p) for w in written for p in w.paths})
    sums[INDEX_NAME] = sha256_file(export_dir / INDEX_NAME)
    listed = {name for record in records.values() for name in record["files"]} | {INDEX_NAME}
    atomic_write_text(
        sums_path, "".join(f"{sums[name]}  {name}\n" for name in sorted(listed) if name in sums)
    )


# ---------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------


def _source_summary(index: SplitIndex, export_dir: Path) -> dict:
    manifest = index.root / MANIFEST_NAME
    return {
        "path": os.path.relpath(index.root.resolve(), export_dir.resolve()),
        "layout": "manifest" if index.has_manifest else "folders",
        "manifest_sha256": sha256_file(manifest) if index.has_manifest else None,
        "images": len(index),
    }


def _check_targets(config: ExportConfig) -> None:
    """Fail before writing anything: a missing split, or a file that exists without --force."""
    for split in config.splits:
        root = Path(config.output_dir) / split
        if not root.is_dir():
            raise UsageError(f"{root}: no such split folder; run `fontglyphs clean` first (or pick --split)")
    if config.force:
        return
    existing = [
        config.target_dir / name
        for split in config.splits
        for fmt in config.formats
        for name in format_module(fmt).filenames(split)
        if (config.target_dir / name).exists()
    ]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]}: exists{more}; pass --force to overwrite")


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar updated by hand (on stderr; ``enabled=False`` for --quiet and for library callers)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", unit_scale=True, disable=not enabled, leave=False)


def _record(data: SplitData, fmt: str, config: ExportConfig) -> dict:
    module = format_module(fmt)
    return {
        "split": data.name,
        "format": fmt,
        "files": list(module.filenames(data.name)),
        "images": len(data.index),
        "image_shape": list(data.shape),
        "letters": list(data.index.letters),
        "counts_per_class": data.counts_per_class(),
        "label_dtype": data.label_dtype.name,
        "settings": module.settings(data, config),
        "source": data.source,
        "fontglyphs_version": __version__,
    }


def _export_arrays(data: SplitData, formats: list[str], config: ExportConfig) -> None:
    """One pass over the pixels, fanned out to every array writer; any failure removes every temp file.

    Each writer runs in a thread of its own: zlib releases the GIL, so the formats compress in parallel
    with each other and with the decoding of the next chunk, while every writer still gets its chunks
    in order (the bytes do not depend on the timing). At most two chunks are in flight.
    """
    with contextlib.ExitStack() as stack:
        writers = [
            stack.enter_context(format_module(fmt).writer(config.target_dir, data, config)) for fmt in formats
        ]
        threads = [stack.enter_context(ThreadPoolExecutor(max_workers=1)) for _ in writers]
        pending: list[Future] = []
        with progress_bar(len(data.index), f"{data.name}: {','.join(formats)}", config.progress) as bar:
            for chunk in iter_png_folder(data.index.root, config.chunk_size, data.index):
                for future in pending:
                    future.result()
                pending = [
                    thread.submit(add, chunk.images) for thread, add in zip(threads, writers, strict=True)
                ]
                bar.update(len(chunk))
            for future in pending:
                future.result()


def export_splits(config: ExportConfig) -> list[Written]:
    """Export every requested split in every requested format; returns what was written."""
    if not config.formats:
        raise ExportFormatError("no export format given; choose from " + ", ".join(FORMATS))
    _check_targets(config)
    written: list[Written] = []
    for split in config.splits:
        index = index_split(Path(config.output_dir) / split)
        if not index.paths:
            raise DatasetError(f"{index.root}: no images to export")
        shape = read_png(index.root / index.paths[0]).shape
        data = SplitData(split, index, shape, _source_summary(index, config.target_dir))
        if "tar" in config.formats:
            format_module("tar").write(config.target_dir, data, config)
        array_formats = [fmt for fmt in config.formats if fmt != "tar"]
        if array_formats:
            _export_arrays(data, array_formats, config)
        done = [
            Written(
                split,
                fmt,
                tuple(config.target_dir / name for name in format_module(fmt).filenames(split)),
                len(index),
                _record(data, fmt, config),
            )
            for fmt in config.formats
        ]
        _update_index_files(config.target_dir, done)  # per split: a later split's failure keeps this one's
        written += done
    return written


__all__ = [
    "FORMATS",
    "SPLITS",
    "ExportConfig",
    "SplitData",
    "Written",
    "export_splits",
    "parse_formats",
    "parse_splits",
    "format_of",
    "iter_export",
    "read_index",
    "read_sums",
    "sha256_file",
]
