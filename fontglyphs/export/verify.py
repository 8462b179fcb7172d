"""``fontglyphs verify``: re-read every export with the same readers the loaders use, and check it.

For each export recorded in ``manifest.json`` (one per split and format)::

    sha256     every file against SHA256SUMS
    content    image count, image shape and dtype, letters, label range and counts per class
               against the record written at export time
    pixels     keys and the SHA-256 of every image's pixels against the split's manifest.csv
               (``pixel_sha256``), when the split folder is still where the export came from

Files that look like exports but are not recorded fail too (stale or foreign). The report is a table
and one line per problem, naming the file; ``ok`` is False on any problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets import DEFAULT_CHUNK, SplitIndex, index_split
from ..errors import DatasetError, FontGlyphsError
from ..manifest import MANIFEST_NAME
from . import INDEX_NAME, SUMS_NAME, format_of, iter_export, read_index, read_sums, sha256_file

MAX_LISTED = 3  # mismatching images named per problem; the rest are counted


@dataclass
class ExportCheck:
    """The verdict on one recorded export (or on one unrecorded file)."""

    name: str  # the file readers open, e.g. notMNIST_small.h5
    split: str = "-"
    format: str = "-"
    images: int | None = None
    sha256: str = "-"  # "ok", "BAD" or "-" (not checked)
    content: str = "-"
    pixels: str = "-"  # also "n/a (why)" when the split's manifest is not at hand
    problems: list[str] = field(default_factory=list)

    def fail(self, column: str, problem: str) -> None:
        if column:
            setattr(self, column, "BAD")
        self.problems.append(problem)


@dataclass
class VerifyReport:
    export_dir: Path
    checks: list[ExportCheck]

    @property
    def ok(self) -> bool:
        return not any(check.problems for check in self.checks)

    def table(self) -> str:
        header = ("file", "split", "format", "images", "sha256", "content", "pixels", "result")
        rows = [header] + [
            (
                c.name,
                c.split,
                c.format,
                "-" if c.images is None else str(c.images),
                c.sha256,
                c.content,
                c.pixels,
                "FAIL" if c.problems else "OK",
            )
            for c in self.checks
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines += [f"FAIL {c.name}: {problem}" for c in self.checks for problem in c.problems]
        verdict = (
            "all exports verified" if self.ok else f"{sum(bool(c.problems) for c in self.checks)} failed"
        )
        return "\n".join(lines + [f"{self.export_dir}: {len(self.checks)} checked, {verdict}"])


def _check_sums(check: ExportCheck, export_dir: Path, files: list[str], sums: dict[str, str]) -> None:
    check.sha256 = "ok"
    for name in files:
        path = export_dir / name
        which = "" if name == check.name else f"{name}: "  # an IDX pair: say which of the two
        if not path.is_file():
            check.fail("sha256", f"{which}file is missing")
        elif name not in sums:
            check.fail("sha256", f"{which}not listed in {SUMS_NAME}")
        elif sha256_file(path) != sums[name]:
            check.fail("sha256", f"{which}SHA-256 differs from {SUMS_NAME} (file changed after export)")


def _read_source(root: Path) -> tuple[SplitIndex, str] | str:
    """A split's index and its manifest's SHA-256, or why it cannot be read."""
    try:
        return index_split(root), sha256_file(root / MANIFEST_NAME)
    except DatasetError as error:
        return str(error)


def _source_index(check: ExportCheck, export_dir: Path, record: dict, sources: dict) -> SplitIndex | None:
    """The split the export came from, when it is still there with a manifest that has pixel hashes.

    ``sources`` caches each split across the records of one run: every format of a split shares it.
    """
    root = (export_dir / record["source"]["path"]).resolve()
    if not (root / MANIFEST_NAME).is_file():
        check.pixels = f"n/a (no {root / MANIFEST_NAME})"
        return None
    if root not in sources:
        sources[root] = _read_source(root)
    if isinstance(sources[root], str):
        check.fail("pixels", f"source split unreadable: {sources[root]}")
        return None
    index, manifest_sha256 = sources[root]
    if manifest_sha256 != record["source"]["manifest_sha256"]:
        check.fail(
            "pixels", f"{root / MANIFEST_NAME} changed since this export (stale export: run export --force)"
        )
        return None
    if not any(index.pixel_sha256):
        check.pixels = "n/a (manifest has no pixel_sha256)"
        return None
    return index


class _Tally:
    """Running checks over a stream of chunks, so a 500k-image file is never held whole."""

    def __init__(self, record: dict, source: SplitIndex | None) -> None:
        self.record, self.source = record, source
        self.count = 0
        self.per_class = np.zeros(len(record["letters"]), dtype=np.int64)
        self.content: dict[str, str] = {}  # kind -> first problem of that kind
        self.pixel_mismatch: list[int] = []
        self.key_mismatch: list[int] = []

    def add(self, chunk) -> None:
        record = self.record
        if chunk.images.shape[1:] != tuple(record["image_shape"]) or chunk.images.dtype != np.uint8:
            self.content.setdefault(
                "shape",
                f"images are {chunk.images.dtype} {chunk.images.shape[1:]}, "
                f"expected uint8 {tuple(record['image_shape'])}",
            )
        if list(chunk.letters) != record["letters"]:
            self.content.setdefault("letters", f"letters {list(chunk.letters)}, expected {record['letters']}")
        bad = (chunk.labels < 0) | (chunk.labels >= len(record["letters"]))
        if bad.any():
            first = self.count + int(np.argmax(bad))
            self.content.setdefault(
                "labels", f"labels outside 0-{len(record['letters']) - 1} (first: image {first})"
            )
        self.per_class += np.bincount(chunk.labels[~bad], minlength=len(self.per_class))[
            : len(self.per_class)
        ]
        if self.source is not None:
            self._compare(chunk)
        self.count += len(chunk)

    def _compare(self, chunk) -> None:
        for row, image in enumerate(chunk.images):
            position = self.count + row
            if position >= len(self.source):
                return
            if chunk.keys[row] and chunk.keys[row] != self.source.keys[position]:
                self.key_mismatch.append(position)
            if hashlib.sha256(image.tobytes()).hexdigest() != self.source.pixel_sha256[position]:
                self.pixel_mismatch.append(position)

    def finish(self, check: ExportCheck) -> None:
        check.images = self.count
        for problem in self.content.values():
            check.fail("content", problem)
        if self.count != self.record["images"]:
            check.fail("content", f"{self.count} images, manifest.json says {self.record['images']}")
        elif self.per_class.tolist() != self.record["counts_per_class"]:
            check.fail(
                "content",
                f"counts per class {self.per_class.tolist()}, expected {self.record['counts_per_class']}",
            )
        if self.source is None:
            return
        if self.count != len(self.source):
            check.fail("pixels", f"{self.count} images, the split's manifest has {len(self.source)}")
        for what, positions in (
            ("font key", self.key_mismatch),
            ("pixels (pixel_sha256)", self.pixel_mismatch),
        ):
            if positions:
                named = ", ".join(f"#{p} {self.source.paths[p]}" for p in positions[:MAX_LISTED])
                more = f" and {len(positions) - MAX_LISTED} more" if len(positions) > MAX_LISTED else ""
                differ = f"{len(positions)} of {self.count} images differ from the manifest in {what}"
                check.fail("pixels", f"{differ}: {named}{more}")
        if check.pixels == "-":
            check.pixels = "ok"


def _check_export(
    export_dir: Path, record: dict, sums: dict[str, str], sources: dict, chunk_size: int
) -> ExportCheck:
    files = list(record["files"])
    check = ExportCheck(files[0], record["split"], record["format"])
    _check_sums(check, export_dir, files, sums)
    if not (export_dir / files[0]).is_file():
        return check
    source = _source_index(check, export_dir, record, sources)
    tally = _Tally(record, source)
    try:
        for chunk in iter_export(export_dir / files[0], chunk_size):
            tally.add(chunk)
    except FontGlyphsError as error:
        check.fail("content", str(error))
        check.images = tally.count
        return check
    check.content = "ok"
    tally.finish(check)
    return check


def verify_exports(export_dir: str | Path, chunk_size: int = DEFAULT_CHUNK) -> VerifyReport:
    """Check every export in ``export_dir``; raises DatasetError only when there is nothing to verify."""
    export_dir = Path(export_dir)
    if not (export_dir / INDEX_NAME).is_file():
        raise DatasetError(
            f"{export_dir}: no {INDEX_NAME}, so no fontglyphs export to verify; run `fontglyphs export`"
        )
    records = read_index(export_dir)
    checks = []
    sums_path = export_dir / SUMS_NAME
    sums = read_sums(sums_path) if sums_path.is_file() else {}
    if not sums_path.is_file():
        checks.append(ExportCheck(SUMS_NAME, problems=[f"{SUMS_NAME} is missing"]))
    index_check = ExportCheck(INDEX_NAME)
    _check_sums(index_check, export_dir, [INDEX_NAME], sums)
    checks.append(index_check)
    sources: dict = {}
    checks += [_check_export(export_dir, records[key], sums, sources, chunk_size) for key in sorted(records)]
    recorded = {name for record in records.values() for name in record["files"]}
    for path in sorted(export_dir.iterdir()):
        if format_of(path) and path.name not in recorded:
            checks.append(
                ExportCheck(path.name, problems=[f"not recorded in {INDEX_NAME} (stale or foreign file)"])
            )
    return VerifyReport(export_dir, checks)
