"""``notMNIST_<split>.h5``: one HDF5 file per split, for h5py, PyTables, HDFView and h5dump.

Layout (C order, as h5py shows it)::

    /images     (N, 28, 28) uint8   chunks of 1024 images, gzip level 6 + shuffle; ink 255 on 0
    /labels     (N,) uint8          index into the ``letters`` attribute (int32 past 256 classes)
    /keys       (N,) UTF-8 string   font key of each image
    /families   (N,) UTF-8 string   font family of each image
    attributes of /: letters (UTF-8 strings), split, fontglyphs_version, source (JSON: the split folder,
                     its manifest's SHA-256, the image count), convention

One file per split rather than one file with a group per split: each file stands alone, can be
exported, checked and shipped without the other, and has the same layout as the .npz.
Dataset creation times are not tracked, so the same split gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .. import __version__
from ..datasets import ArraySet
from ..manifest import atomic_open
from . import COMPRESSION_LEVEL, ExportConfig, SplitData, reading

CHUNK_ROWS = 1024  # images per HDF5 chunk: 800 KB uncompressed, a good unit for both slicing and gzip
CONVENTION = "28x28 uint8 grayscale, ink 255 on background 0 (MNIST convention)"


def filenames(split: str) -> tuple[str, ...]:
    return (f"notMNIST_{split}.h5",)


def settings(data: SplitData, config: ExportConfig) -> dict:
    return {"compression": f"gzip level {COMPRESSION_LEVEL} + shuffle", "chunk_rows": CHUNK_ROWS}


@contextlib.contextmanager
def writer(directory: Path, data: SplitData, config: ExportConfig) -> Iterator[Callable[[np.ndarray], None]]:
    import h5py

    n = len(data.index)
    compressed = {
        "compression": "gzip",
        "compression_opts": COMPRESSION_LEVEL,
        "shuffle": True,
        "track_times": False,
    }
    text = h5py.string_dtype("utf-8")
    with atomic_open(directory / filenames(data.name)[0], "w+b") as handle, h5py.File(handle, "w") as h5:
        images = h5.create_dataset(
            "images",
            shape=(n, *data.shape),
            dtype=np.uint8,
            chunks=(min(n, CHUNK_ROWS), *data.shape),
            **compressed,
        )
        h5.create_dataset("labels", data=data.labels, **compressed)
        h5.create_dataset("keys", data=np.asarray(data.index.keys, dtype=object), dtype=text, **compressed)
        h5.create_dataset(
            "families", data=np.asarray(data.index.families, dtype=object), dtype=text, **compressed
        )
        h5.attrs.create("letters", list(data.index.letters), dtype=text)
        h5.attrs["split"] = data.name
        h5.attrs["fontglyphs_version"] = __version__
        h5.attrs["source"] = json.dumps(data.source, sort_keys=True)
        h5.attrs["convention"] = CONVENTION
        position = 0

        def add(batch: np.ndarray) -> None:
            nonlocal position
            images[position : position + len(batch)] = batch
            position += len(batch)

        yield add


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """Slices of the datasets: memory stays at one chunk whatever the file size."""
    import h5py

    with reading(path, "HDF5 file"), h5py.File(path, "r") as h5:
        images = h5["images"]
        labels = h5["labels"][()].astype(np.int64)
        letters = tuple(str(letter) for letter in h5.attrs["letters"])
        keys = h5["keys"].asstr()[()].astype(str)
        families = h5["families"].asstr()[()].astype(str)
        for start in range(0, images.shape[0], chunk_size):
            part = slice(start, start + chunk_size)
            yield ArraySet(images[part], labels[part], letters, keys[part], families[part])
