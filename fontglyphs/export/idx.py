"""MNIST IDX: ``<split>-images-idx3-ubyte.gz`` and ``<split>-labels-idx1-ubyte.gz``.

Byte-exact MNIST (LeCun et al., "THE MNIST DATABASE", the file-format section), so MNIST loaders work
unchanged — the Fashion-MNIST convention. Every number in a header is a big-endian 32-bit integer::

    images: 0x00000803  N  28  28  then N*28*28 uint8 pixels, row-major, ink 255 on 0
    labels: 0x00000801  N          then N uint8 labels (0-9)

The magic is two zero bytes, a type code (0x08 unsigned byte) and the number of dimensions. Past 256
classes labels are int32 (type 0x0C, magic 0x00000C01), which the IDX format allows but MNIST readers
do not expect. gzip headers have mtime 0 and no file name, so the same split gives the same bytes.
IDX has no room for letters or font keys: readers take the letters from manifest.json beside the files.
"""

from __future__ import annotations

import contextlib
import gzip
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..datasets import ArraySet
from ..errors import ExportFormatError
from ..manifest import atomic_open
from . import COMPRESSION_LEVEL, ExportConfig, SplitData, letters_beside, raw_image_chunks, reading

TYPE_CODES = {  # IDX type code -> numpy dtype (big-endian, as IDX stores every multi-byte value)
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_SUFFIX, LABELS_SUFFIX = "-images-idx3-ubyte", "-labels-idx1-ubyte"


def filenames(split: str) -> tuple[str, ...]:
    return (f"{split}{IMAGES_SUFFIX}.gz", f"{split}{LABELS_SUFFIX}.gz")


def settings(data: SplitData, config: ExportConfig) -> dict:
    return {"compression": f"gzip level {COMPRESSION_LEVEL}, mtime 0, no file name"}


def idx_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    codes = {dt.newbyteorder(">"): code for code, dt in TYPE_CODES.items()}
    code = codes.get(np.dtype(dtype).newbyteorder(">"))
    if code is None:
        raise ExportFormatError(f"IDX has no type code for {np.dtype(dtype)}")
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def read_idx_header(stream: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    """Check the magic and return (dtype, shape); raises ExportFormatError saying what was found."""
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in TYPE_CODES or magic[3] == 0:
        raise ExportFormatError(
            f"{path}: not an IDX file "
            f"(expected magic 0x0000TTDD with a known type TT, got 0x{magic.hex() or 'empty'})"
        )
    dims = stream.read(4 * magic[3])
    if len(dims) < 4 * magic[3]:
        raise ExportFormatError(f"{path}: IDX header ends inside its {magic[3]} dimensions")
    return TYPE_CODES[magic[2]], struct.unpack(f">{magic[3]}I", dims)


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read a whole IDX file (gzipped or not) into an array of its own type and shape."""
    path = Path(path)
    with reading(path, "IDX file"), _open(path) as stream:
        dtype, shape = read_idx_header(stream, path)
        expected = int(np.prod(shape)) * dtype.itemsize
        payload = stream.read(expected)
        if len(payload) != expected:
            raise ExportFormatError(f"{path}: {len(payload)} bytes of data, header says {expected}")
        if stream.read(1):
            raise ExportFormatError(f"{path}: data continues past the {expected} bytes its header announces")
    return np.frombuffer(payload, dtype=dtype).reshape(shape)


@contextlib.contextmanager
def _gzip_writer(path: Path) -> Iterator[BinaryIO]:
    with (
        atomic_open(path) as handle,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=handle, compresslevel=COMPRESSION_LEVEL, mtime=0
        ) as stream,
    ):
        yield stream


@contextlib.contextmanager
def writer(directory: Path, data: SplitData, config: ExportConfig) -> Iterator[Callable[[np.ndarray], None]]:
    images_name, labels_name = filenames(data.name)
    with _gzip_writer(directory / labels_name) as labels, _gzip_writer(directory / images_name) as images:
        labels.write(idx_header(data.label_dtype, (len(data.index),)))
        labels.write(data.labels.astype(data.label_dtype.newbyteorder(">")).tobytes())
        images.write(idx_header(np.dtype(np.uint8), (len(data.index), *data.shape)))
        yield lambda batch: images.write(np.ascontiguousarray(batch, dtype=np.uint8).tobytes())


def _pair(path: Path) -> tuple[Path, Path]:
    """(images, labels) paths from either one of them."""
    name = path.name
    if LABELS_SUFFIX in name:
        return path.with_name(name.replace(LABELS_SUFFIX, IMAGES_SUFFIX)), path
    return path, path.with_name(name.replace(IMAGES_SUFFIX, LABELS_SUFFIX))


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """Stream the images file; the labels file beside it is read whole (one byte per image)."""
    images_path, labels_path = _pair(Path(path))
    if not labels_path.exists():
        raise ExportFormatError(f"{images_path}: its labels file {labels_path.name} is missing")
    labels = read_idx(labels_path)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ExportFormatError(
            f"{labels_path}: labels should be 1-D integers, not {labels.ndim}-D {labels.dtype}"
        )
    labels = labels.astype(np.int64)
    letters = letters_beside(images_path, int(labels.max(initial=-1)) + 1)
    with reading(images_path, "IDX file"), _open(images_path) as stream:
        dtype, shape = read_idx_header(stream, images_path)
        if dtype != np.uint8 or len(shape) != 3:
            raise ExportFormatError(f"{images_path}: images should be 3-D uint8, not {len(shape)}-D {dtype}")
        if shape[0] != len(labels):
            raise ExportFormatError(
                f"{images_path}: {shape[0]} images but {labels_path.name} has {len(labels)} labels"
            )
        for start, images in raw_image_chunks(stream, shape, chunk_size, f"{images_path}: data"):
            blank = np.full(len(images), "", dtype=str)
            yield ArraySet(
                images,
                labels[start : start + len(images)],
                letters,
                blank,
                blank,
            )
        if stream.read(1):
            raise ExportFormatError(
                f"{images_path}: data continues past the {shape[0]} images its header announces"
            )
