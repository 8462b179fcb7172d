"""``notMNIST_<split>.tar.gz``: the split folder as notMNIST shipped it, with reproducible bytes.

Members, sorted by name::

    notMNIST_<split>/
    notMNIST_<split>/A/
    notMNIST_<split>/A/<key>.png        the split's PNG files, copied byte for byte
    ...
    notMNIST_<split>/manifest.csv       when the split has one, so extracting gives a fontglyphs split

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
        "members": "sorted by name",
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
    files = {f"{prefix}/{path}": root / path for path in data.index.paths}
    if data.index.has_manifest:
        files[f"{prefix}/{MANIFEST_NAME}"] = root / MANIFEST_NAME
    folders = {f"{prefix}/"} | {f"{prefix}/{path.rsplit('/', 1)[0]}/" for path in data.index.paths}
    members = sorted([(name, None) for name in folders] + list(files.items()))
    with (
        atomic_open(directory / filenames(data.name)[0]) as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, compresslevel=COMPRESSION_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        progress_bar(len(files), f"{data.name}: tar", config.progress) as bar,
    ):
        for name, source in members:
            if source is None:
                tar.addfile(_member(name.rstrip("/"), None))
                continue
            payload = _read_source(source)
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


def read_tar(path: Path) -> ArraySet:
    """Decode every PNG of a notMNIST-layout tar (any top folder name), in its manifest's order.

    Strict: a member that does not decode, an image of another size, or a disagreement between the
    members and the embedded manifest raises ``ExportFormatError``.
    """
    images: dict[str, np.ndarray] = {}
    class_dirs: set[str] = set()
    manifest = None
    with reading(path, "tar.gz"), tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/")
            if any(part.startswith(".") for part in parts):
                continue
            if len(parts) == 2 and member.isdir():
                class_dirs.add(parts[1])
            elif len(parts) == 2 and parts[1] == MANIFEST_NAME and member.isfile():
                manifest = tar.extractfile(member).read()
            elif len(parts) == 3 and member.isfile():
                try:
                    images[f"{parts[1]}/{parts[2]}"] = read_png(
                        tar.extractfile(member), f"{path}: {member.name}"
                    )
                except DatasetError as error:
                    raise ExportFormatError(str(error)) from None
    if not images:
        raise ExportFormatError(f"{path}: holds no <top>/<LETTER>/<file>.png members")
    index = _index(path, manifest, class_dirs, images)
    missing = [p for p in index.paths if p not in images]
    extra = sorted(set(images) - set(index.paths))
    if missing or extra:
        problem = (
            f"lacks {missing[0]}, listed in its manifest"
            if missing
            else f"holds {extra[0]}, not in its manifest"
        )
        raise ExportFormatError(f"{path}: {problem} ({len(missing)} missing, {len(extra)} unlisted)")
    shape = images[index.paths[0]].shape
    stacked = np.empty((len(index), *shape), dtype=np.uint8)
    for row, member_path in enumerate(index.paths):
        image = images.pop(member_path)
        if image.shape != shape:
            raise ExportFormatError(
                f"{path}: {member_path} is {image.shape[1]}x{image.shape[0]}, not {shape[1]}x{shape[0]}"
            )
        stacked[row] = image
    return index.arrays(stacked)


def iter_chunks(path: Path, chunk_size: int) -> Iterator[ArraySet]:
    """Chunks of :func:`read_tar` (gzip allows no random access, and labels need the manifest at the end)."""
    yield from chunks_of(read_tar(path), chunk_size)
