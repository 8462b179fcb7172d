"""``notMNIST_<split>.npz``: ``np.load`` gives ``images``, ``labels``, ``letters``, ``keys``, ``families``.

Layout (all plain dtypes, so ``np.load`` needs no ``allow_pickle``)::

    images     (N, 28, 28) uint8   ink 255 on 0
    labels     (N,) uint8          index into ``letters`` (int32 past 256 classes)
    letters    (C,) str            class letters, "" for a class without one
    keys       (N,) str            font key of each image
    families   (N,) str            font family of each image

Written as ``np.savez_compressed`` would (deflate, ``<name>.npy`` members) but by hand: every zip entry
gets a fixed 1980-01-01 timestamp and mode, so the same split gives the same bytes, and ``images`` is
streamed into its entry instead of being built in memory first.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..datasets import ArraySet
from ..errors import ExportFormatError
from ..manifest import atomic_open
from . import COMPRESSION_LEVEL, ExportConfig, SplitData, raw_image_chunks, reading

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry
MEMBERS = ("images", "labels", "letters", "keys", "families")
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def filenames(split: str) -> tuple[str, ...]:
    return (f"notMNIST_{split}.npz",)


def settings(data: SplitData, config: ExportConfig) -> dict:
    return {"compression": f"deflate level {COMPRESSION_LEVEL}", "zip_date": "1980-01-01T00:00:00"}


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)  # a 3-int shape is far below version 1.0's 64 KiB
    return buffer.getvalue()


def _entry(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the platform, so external_attr means the same everywhere
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile choose zip64 up front for entries past 2 GiB
    return info


def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    header = _npy_header(array.dtype, array.shape)
    with archive.open(_entry(name, len(header) + array.nbytes), "w") as stream:
        stream.write(header)
        stream.write(np.ascontiguousarray(array).tobytes())


@contextlib.contextmanager
def writer(directory: Path, data: SplitData, config: ExportConfig) -> Iterator[Callable[[np.ndarray], None]]:
    shape = (len(data.index), *data.shape)
    header = _npy_header(np.dtype(np.uint8), shape)
    with (
        atomic_open(directory / filenames(data.name)[0]) as handle,
        zipfile.ZipFile(
            handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
        ) as archive,
    ):
        with archive.open(_entry("images", len(header) + data.image_bytes), "w") as stream:
            stream.write(header)
            yield lambda batch: stream.write(np.ascontiguousarray(batch, dtype=np.uint8).tobytes())
        _write_array(archive, "labels", data.labels)
        _write_array(archive, "letters", np.asarray(data.index.letters, dtype=str))
        _write_array(archive, "keys", np.asarray(data.index.keys, dtype=str))
        _write_array(archive, "families", np.asarray(data.index.families, dtype=str))


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """``np.load`` for the small arrays; ``images`` is streamed from its zip entry by its .npy header."""
    with reading(path, "npz file"), np.load(path) as npz:
        missing = [name for name in MEMBERS if name not in npz.files]
        if missing:
            raise ExportFormatError(f"{path}: no {', '.join(missing)} array (has {', '.join(npz.files)})")
        labels, letters = npz["labels"].astype(np.int64), tuple(npz["letters"].tolist())
        keys, families = npz["keys"], npz["families"]
        with npz.zip.open("images.npy") as stream:
            version = np.lib.format.read_magic(stream)
            read_header = _HEADER_READERS.get(version)
            if read_header is None:
                raise ExportFormatError(
                    f"{path}: images.npy has .npy format version {version}, not 1.0 or 2.0"
                )
            shape, fortran, dtype = read_header(stream)
            if dtype != np.uint8 or len(shape) != 3 or fortran:
                raise ExportFormatError(
                    f"{path}: images should be 3-D C-order uint8, not {len(shape)}-D {dtype}"
                )
            for start, images in raw_image_chunks(stream, shape, chunk_size, f"{path}: images.npy"):
                part = slice(start, start + len(images))
                yield ArraySet(
                    images,
                    labels[part],
                    letters,
                    keys[part],
                    families[part],
                )
