"""``notMNIST_<split>.tar.gz``: the split folder as notMNIST shipped it, with reproducible bytes.

Members, the manifest first and then sorted by name::

    notMNIST_<split>/
    notMNIST_<split>/manifest.csv       when the split has one, so extracting gives a fontglyphs split
    notMNIST_<split>/A/
    notMNIST_<split>/A/<key>.png        the split's PNG files, copied byte for byte
    ...

The manifest leads so that a reader knows each image's row before the image arrives and can decode the
archive in one streaming pass, holding no PNG bytes (gzip allows no seeking back).

Every member has mtime 0, uid/gid 0, empty owner names and mode 0644 (0755 for folders); the gzip
header has mtime 0 and no file name. The same files give the same SHA-256, run after run.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..datasets import ArraySet, SplitIndex, index_from_layout, index_from_records, read_png
from ..errors import DatasetError, ExportFormatError
from ..manifest import MANIFEST_NAME, atomic_open, read_manifest
from . import COMPRESSION_LEVEL, ExportConfig, SplitData, chunks_of, progress_bar, reading

FIXED_MTIME = 0


def filenames(split: str) -> tuple[str, ...]:
    return (f"notMNIST_{split}.tar.gz",)


def settings(data: SplitData, config: ExportConfig) -> dict:
    return {
        "compression": f"gzip level {COMPRESSION_LEVEL}",
        "mtime": FIXED_MTIME,
        "members": "manifest first, then sorted by name",
    }


def _member(name: str, size: int | None) -> tarfile.TarInfo:
    """A member with every field that varies between machines fixed; ``size`` None makes a folder."""
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_MTIME, 0, 0, "", ""
    if size is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = size, 0o644
    return info


def _read_source(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot read ({error.strerror}); run `fontglyphs clean` again") from None


def write(directory: Path, data: SplitData, config: ExportConfig) -> None:
    """Write the tar.gz in one pass over the split's files (no decoding: the PNG bytes are the data)."""
    prefix = f"notMNIST_{data.name}"
    root = data.index.root
    # Member names only (a folder ends in "/"); the source file is the name without the prefix.
    names = {f"{prefix}/"} | {f"{prefix}/{path}" for path in data.index.paths}
    names |= {f"{prefix}/{path.rsplit('/', 1)[0]}/" for path in data.index.paths}
    manifest_name = f"{prefix}/{MANIFEST_NAME}"
    if data.index.has_manifest:
        names.add(manifest_name)
    with (
        atomic_open(directory / filenames(data.name)[0]) as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, compresslevel=COMPRESSION_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        progress_bar(len(data.index), f"{data.name}: tar", config.progress) as bar,
    ):
        for name in sorted(names, key=lambda name: (name != f"{prefix}/", name != manifest_name, name)):
            if name.endswith("/"):
                tar.addfile(_member(name.rstrip("/"), None))
                continue
            payload = _read_source(root / name[len(prefix) + 1 :])
            tar.addfile(_member(name, len(payload)), io.BytesIO(payload))
            bar.update()


def _index(path: Path, manifest: bytes | None, class_dirs: set[str], images: dict) -> SplitIndex:
    if manifest is None:
        return index_from_layout(path, class_dirs, images)
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / MANIFEST_NAME).write_bytes(manifest)
        try:
            return index_from_records(path, read_manifest(Path(scratch) / MANIFEST_NAME))
        except DatasetError as error:
            raise ExportFormatError(
                f"{path}: its {MANIFEST_NAME} is broken ({str(error).split(': ', 1)[-1]})"
            ) from None


class _Decoder:
    """PNG members decoded into one (N, H, W) array at the rows their manifest gives them."""

    def __init__(self, path: Path, index: SplitIndex):
        self.path, self.index = path, index
        self.rows = {member_path: row for row, member_path in enumerate(index.paths)}
        self.filled = np.zeros(len(index), bool)
        self.images: np.ndarray | None = None

    def add(self, member_path: str, payload: bytes) -> None:
        row = self.rows.get(member_path)
        if row is None:
            raise ExportFormatError(f"{self.path}: holds {member_path}, not in its manifest")
        try:
            image = read_png(io.BytesIO(payload), f"{self.path}: {member_path}")
        except DatasetError as error:
            raise ExportFormatError(str(error)) from None
        if self.images is None:
            self.images = np.empty((len(self.index), *image.shape), dtype=np.uint8)
        if image.shape != self.images.shape[1:]:
            size = f"{image.shape[1]}x{image.shape[0]}, not {self.images.shape[2]}x{self.images.shape[1]}"
            raise ExportFormatError(f"{self.path}: {member_path} is {size}")
        self.images[row] = image
        self.filled[row] = True

    def finish(self) -> ArraySet:
        missing = np.flatnonzero(~self.filled)
        if len(missing):
            first = self.index.paths[missing[0]]
            problem = f"lacks {first}, listed in its manifest ({len(missing)} missing)"
            raise ExportFormatError(f"{self.path}: {problem}")
        return self.index.arrays(self.images)


def read_tar(path: Path) -> ArraySet:
    """Decode every PNG of a notMNIST-layout tar (any top folder name), in its manifest's order.

    When the manifest comes before the images (as fontglyphs writes it), each PNG is decoded into its row
    as it streams past; otherwise (notMNIST's own archives, or a manifest at the end) the PNG bytes are
    gathered first. Strict: a member that does not decode, an image of another size, or a disagreement
    between the members and the manifest raises ``ExportFormatError``.
    """
    payloads: dict[str, bytes] = {}
    class_dirs: set[str] = set()
    manifest, decoder = None, None
    with reading(path, "tar.gz"), tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/")
            if any(part.startswith(".") for part in parts):
                continue
            if len(parts) == 2 and member.isdir():
                class_dirs.add(parts[1])
            elif len(parts) == 2 and parts[1] == MANIFEST_NAME and member.isfile():
                manifest = tar.extractfile(member).read()
                if not payloads:
                    decoder = _Decoder(path, _index(path, manifest, class_dirs, payloads))
            elif len(parts) == 3 and member.isfile():
                payload = tar.extractfile(member).read()
                if decoder is not None:
                    decoder.add(f"{parts[1]}/{parts[2]}", payload)
                else:
                    payloads[f"{parts[1]}/{parts[2]}"] = payload
    if decoder is None:
        if not payloads:
            raise ExportFormatError(f"{path}: holds no <top>/<LETTER>/<file>.png members")
        decoder = _Decoder(path, _index(path, manifest, class_dirs, payloads))
        for member_path in sorted(payloads, key=lambda p: decoder.rows.get(p, -1)):
            decoder.add(member_path, payloads.pop(member_path))
    if decoder.images is None:
        raise ExportFormatError(f"{path}: holds no <top>/<LETTER>/<file>.png members")
    return decoder.finish()


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """Chunks of :func:`read_tar`: the images come in tar order, the chunks in manifest order."""
    yield from chunks_of(read_tar(path), chunk_size)
