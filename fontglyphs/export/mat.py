"""``notMNIST_<split>.mat``: the variables notMNIST's .mat had, for MATLAB and GNU Octave.

MATLAB's view (``load notMNIST_small.mat``)::

    images    28 x 28 x N  uint8    images(:, :, k) is image k, row-major as drawn: images(r, c, k)
    labels    N x 1        uint8    0-9, the index of the letter in ``letters`` (int32 past 256 classes)
    letters   1 x C        char     'ABCDEFGHIJ'; a class without a letter name is a space
    keys      N x K        char     font key of each image, right-padded with spaces (cellstr trims)
    families  N x F        char     font family of each image, padded the same way

Version 5 (the default under 2 GB of pixels; MATLAB's own limit for v5/v7 variables) is written
with ``scipy.io.savemat`` for the small variables and a streamed, zlib-compressed ``images`` element
after them, so memory stays bounded. Past 2 GB, or with ``--mat-version 7.3``, the file is MATLAB
v7.3: HDF5 behind a 512-byte MATLAB header, every dataset stored transposed (HDF5 is row-major,
MATLAB column-major) and tagged with ``MATLAB_class``; chars are UTF-16 code units. Both headers
carry a fixed date so the same split gives the same bytes.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .. import __version__
from ..datasets import ArraySet
from ..errors import ExportFormatError, UsageError
from ..manifest import atomic_open
from . import COMPRESSION_LEVEL, ExportConfig, SplitData, reading

V5_LIMIT = 2**31  # bytes of one variable: MATLAB's v5/v7 limit (sizes are 32-bit, signed in MATLAB)
HEADER_TEXT = (
    "MATLAB {version} MAT-file, Platform: fontglyphs {fontglyphs}, Created on: Thu Jan  1 00:00:00 1970"
)
H5_CHUNK_ROWS = 1024

# Data and class types of MAT-file level 5 (MathWorks, "MAT-File Format", R2024a, tables 1-2 and 1-3)
MI_INT8, MI_INT32, MI_UINT8, MI_UINT32, MI_MATRIX, MI_COMPRESSED = 1, 5, 2, 6, 14, 15
MX_UINT8_CLASS = 9
_MATLAB_CLASS = {np.dtype(np.uint8): "uint8", np.dtype(np.int32): "int32", np.dtype(np.uint16): "char"}


def filenames(split: str) -> tuple[str, ...]:
    return (f"notMNIST_{split}.mat",)


def choose_version(data: SplitData, requested: str) -> str:
    """``auto`` means v5 while the pixels fit one v5 variable, v7.3 beyond."""
    if requested not in ("auto", "5", "7.3"):
        raise UsageError(f"--mat-version {requested!r}: choose 5, 7.3 or auto")
    if requested == "5" and data.image_bytes >= V5_LIMIT:
        raise UsageError(
            f"--mat-version 5: split {data.name} has {data.image_bytes / 2**30:.1f} GiB of pixels, past the "
            "2 GiB a v5 variable holds; use --mat-version 7.3"
        )
    if requested == "auto":
        return "5" if data.image_bytes < V5_LIMIT else "7.3"
    return requested


def settings(data: SplitData, config: ExportConfig) -> dict:
    return {
        "mat_version": choose_version(data, config.mat_version),
        "compression": f"zlib level {COMPRESSION_LEVEL}",
    }


def _header(version: str) -> bytes:
    """The 128-byte MAT header: text, subsystem offset, version (0x0100 v5, 0x0200 v7.3), "IM"."""
    text = HEADER_TEXT.format(version="5.0" if version == "5" else "7.3", fontglyphs=__version__)
    if version == "7.3":
        text += " HDF5 schema 1.00 ."
    return (
        text.encode("ascii").ljust(116, b" ")
        + bytes(8)
        + struct.pack("<H", 0x0100 if version == "5" else 0x0200)
        + b"IM"
    )


def _tag(data_type: int, size: int) -> bytes:
    return struct.pack("<II", data_type, size)


def _padded(payload: bytes) -> bytes:
    return payload + bytes(-len(payload) % 8)


def _uint8_matrix_start(name: str, dims: tuple[int, ...]) -> bytes:
    """A v5 miMATRIX element of class uint8 up to its first data byte (the data and its padding follow)."""
    size = int(np.prod(dims))
    body = (
        _tag(MI_UINT32, 8)
        + struct.pack("<II", MX_UINT8_CLASS, 0)
        + _tag(MI_INT32, 4 * len(dims))
        + _padded(struct.pack(f"<{len(dims)}i", *dims))
        + _tag(MI_INT8, len(name))
        + _padded(name.encode("ascii"))
        + _tag(MI_UINT8, size)
    )
    return _tag(MI_MATRIX, len(body) + size + (-size % 8)) + body


def _column_major(images: np.ndarray) -> bytes:
    """(n, rows, cols) C-order -> the bytes of MATLAB's rows x cols x n column-major array."""
    return np.ascontiguousarray(images.transpose(0, 2, 1)).tobytes()


def _char_matrix(texts: list[str] | tuple[str, ...]) -> np.ndarray:
    """Rows of UTF-16 code units padded with spaces: MATLAB's N x K char array, as uint16."""
    units = [np.frombuffer(text.encode("utf-16-le"), dtype="<u2") for text in texts]
    width = max((len(u) for u in units), default=0)
    matrix = np.full((len(units), max(width, 1)), ord(" "), dtype=np.uint16)
    for row, unit in enumerate(units):
        matrix[row, : len(unit)] = unit
    return matrix


def _small_variables(data: SplitData) -> dict[str, np.ndarray]:
    return {
        "labels": data.labels,
        "letters": np.asarray(["".join(letter or " " for letter in data.index.letters)]),
        "keys": np.asarray(data.index.keys, dtype=str),
        "families": np.asarray(data.index.families, dtype=str),
    }


@contextlib.contextmanager
def _writer_v5(path: Path, data: SplitData) -> Iterator[Callable[[np.ndarray], None]]:
    import scipy.io

    with atomic_open(path, "wb") as handle:
        scipy.io.savemat(handle, _small_variables(data), do_compression=True, oned_as="column")
        handle.seek(0)
        handle.write(_header("5"))  # savemat's header holds the time of day
        handle.seek(0, 2)
        tag_at = handle.tell()
        handle.write(_tag(MI_COMPRESSED, 0))  # the compressed size is patched in at the end
        compressor = zlib.compressobj(COMPRESSION_LEVEL)
        written = 0

        def emit(payload: bytes) -> None:
            nonlocal written
            out = compressor.compress(payload)
            handle.write(out)
            written += len(out)

        emit(_uint8_matrix_start("images", (*data.shape, len(data.index))))
        yield lambda images: emit(_column_major(images))
        emit(bytes(-data.image_bytes % 8))
        tail = compressor.flush()
        handle.write(tail)
        handle.seek(tag_at)
        handle.write(_tag(MI_COMPRESSED, written + len(tail)))


def _h5_variable(h5, name: str, array: np.ndarray, **options):
    """A MATLAB variable in a v7.3 file: stored transposed, tagged with its MATLAB class."""
    dataset = h5.create_dataset(name, data=array.T, track_times=False, **options)
    dataset.attrs.create("MATLAB_class", np.bytes_(_MATLAB_CLASS[array.dtype]))
    if array.dtype == np.uint16:
        dataset.attrs.create("MATLAB_int_decode", np.int32(2))
    return dataset


@contextlib.contextmanager
def _writer_v73(path: Path, data: SplitData) -> Iterator[Callable[[np.ndarray], None]]:
    import h5py

    n, (rows, cols) = len(data.index), data.shape
    compression = {"compression": "gzip", "compression_opts": COMPRESSION_LEVEL}
    with atomic_open(path, "w+b") as handle:
        with h5py.File(handle, "w", userblock_size=512) as h5:
            images = h5.create_dataset(
                "images",
                shape=(n, cols, rows),
                dtype=np.uint8,
                chunks=(min(n, H5_CHUNK_ROWS), cols, rows),
                track_times=False,
                **compression,
            )
            images.attrs.create("MATLAB_class", np.bytes_("uint8"))
            _h5_variable(h5, "labels", data.labels[:, None], **compression)
            _h5_variable(
                h5, "letters", _char_matrix(["".join(letter or " " for letter in data.index.letters)])
            )
            _h5_variable(h5, "keys", _char_matrix(data.index.keys), **compression)
            _h5_variable(h5, "families", _char_matrix(data.index.families), **compression)
            position = 0

            def add(batch: np.ndarray) -> None:
                nonlocal position
                images[position : position + len(batch)] = batch.transpose(0, 2, 1)
                position += len(batch)

            yield add
        handle.seek(0)
        handle.write(_header("7.3"))


def writer(directory: Path, data: SplitData, config: ExportConfig):
    path = directory / filenames(data.name)[0]
    if choose_version(data, config.mat_version) == "5":
        return _writer_v5(path, data)
    return _writer_v73(path, data)


def _text_rows(matrix: np.ndarray) -> np.ndarray:
    """uint16 UTF-16 rows (v7.3 chars) -> trimmed strings."""
    return np.asarray(
        [row.astype("<u2").tobytes().decode("utf-16-le").rstrip(" ") for row in matrix], dtype=str
    )


def _letters(text: str) -> tuple[str, ...]:
    return tuple("" if c == " " else c for c in text)


def _iter_v5(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """scipy reads the whole file (under 2 GB by design); chunks are re-laid out one at a time, so the
    pixels are never held twice."""
    import scipy.io

    mat = scipy.io.loadmat(path)
    images = mat["images"]
    if images.ndim == 2:  # MATLAB drops trailing singleton dimensions: one image is 28 x 28
        images = images[:, :, None]
    labels = mat["labels"].ravel().astype(np.int64)
    letters = _letters(str(mat["letters"][0]))
    keys, families = np.char.rstrip(mat["keys"].astype(str)), np.char.rstrip(mat["families"].astype(str))
    for start in range(0, images.shape[2], chunk_size):
        part = slice(start, start + chunk_size)
        chunk = np.ascontiguousarray(images[:, :, part].transpose(2, 0, 1))
        yield ArraySet(chunk, labels[part], letters, keys[part], families[part])


def _iter_v73(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    import h5py

    with h5py.File(path, "r") as h5:
        images = h5["images"]
        labels = h5["labels"][()].T.ravel().astype(np.int64)
        letters = _letters(str(_text_rows(h5["letters"][()].T)[0]))
        keys, families = _text_rows(h5["keys"][()].T), _text_rows(h5["families"][()].T)
        for start in range(0, images.shape[0], chunk_size):
            part = slice(start, start + chunk_size)
            yield ArraySet(
                np.ascontiguousarray(images[part].transpose(0, 2, 1)),
                labels[part],
                letters,
                keys[part],
                families[part],
            )


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """Either version: v7.3 streams from HDF5; v5 is read whole by scipy, then handed out in chunks."""
    import scipy.io.matlab

    with reading(path, "MAT-file", scipy.io.matlab.MatReadError):
        major, _ = scipy.io.matlab.matfile_version(path)
        if major == 2:
            yield from _iter_v73(path, chunk_size)
        elif major == 1:
            yield from _iter_v5(path, chunk_size)
        else:
            raise ExportFormatError(f"{path}: MAT-file version {major} (v4) has no fontglyphs layout")
