"""The render stage: font files in, ``<out>/<LETTER>/<key>.png`` + ``manifest.csv`` + ``rejects.csv`` out.

Order of work, and why:

1. discover font files (sorted) and hash those that share their size and their first 4 KiB with another
   file: identical files are rendered once (copies share both, so no other file needs hashing up front);
   with ``--shard i/N`` every file is hashed, as the hash decides the shard, so copies land in the same one;
2. render each font in a crash-isolated worker (:mod:`fontglyphs.workers`); the worker hashes the bytes
   it reads (unless the parent did), writes the PNGs and returns the manifest rows, which the parent
   appends to a journal, one line per font;
3. a font already in the journal, with the size and modification time it had then, is skipped, so a run
   killed at any moment resumes where it stopped; the journal line is what commits a font's PNGs: one
   cut short by a kill belongs to a font that is not in the journal, so the next run writes it again,
   whole (a temporary file and a rename per PNG would double the cost of writing it, for no gain);
4. the manifest and rejects are assembled from the journal in sorted order, and PNGs no longer in the
   manifest are removed, so the final folder is byte-identical whatever the worker count or history.

    summary = render_fonts(["fonts/"], "output/glyphs", RenderConfig(letters=("A", "B")))
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .errors import FontGlyphsError, FontLoadError, UsageError
from .fonts import file_sha256, find_font_files, read_file
from .letters import letter_dirname
from .manifest import (
    MANIFEST_HEADER,
    MANIFEST_NAME,
    REJECTS_NAME,
    GlyphRecord,
    RejectRecord,
    atomic_write_bytes,
    atomic_write_text,
    csv_fields,
    read_manifest,
    read_rejects,
    sort_records,
    write_manifest,
    write_rejects,
)
from .raster import RenderOptions, encode_pngs, render_font
from .workers import run_isolated

# The manifest columns after pixel_sha256 as render leaves them: GlyphRecord's defaults.
_RENDERED_TAIL = "," + csv_fields([GlyphRecord.split, GlyphRecord.status, GlyphRecord.flags]) + "\n"
JOURNAL_DIR = ".journal"  # the finished fonts of this folder: what makes a run resumable
_JOURNAL_FORMAT = 4  # of its lines; a journal in another format is started afresh


@dataclass(frozen=True)
class RenderConfig:
    """Everything that changes the pixels or the labels; a change invalidates earlier parts."""

    letters: tuple[str, ...]
    options: RenderOptions = field(default_factory=RenderOptions)
    instances: bool = True

    def fingerprint(self) -> str:
        payload = {
            "journal": _JOURNAL_FORMAT,
            "letters": self.letters,
            "options": asdict(self.options),
            "instances": self.instances,
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Shard:
    """The i-th of N deterministic slices of a corpus (``--shard i/N``, 0-based)."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise UsageError(
                f"--shard {text!r}: expected I/N, e.g. 0/4 for the first of four shards"
            ) from None
        if count < 1 or not 0 <= index < count:
            raise UsageError(f"--shard {text!r}: need 0 <= I < N")
        return cls(index, count)

    def holds(self, font_sha256: str) -> bool:
        return int(font_sha256[:16], 16) % self.count == self.index


@dataclass(frozen=True)
class FontTask:
    font_path: str
    font_sha256: str  # "" when the parent did not hash the file: the worker hashes the bytes it reads
    out_dir: str
    config: RenderConfig


@dataclass(frozen=True)
class _TaskRunner:
    """A worker's side of the tasks of one run. The worker gets it once (pickled once, or inherited when
    forked) and then each font as a (path, sha256) pair: a FontTask pickled per font would cost more than
    drawing a glyph."""

    task_function: Callable[[FontTask], dict]
    out_dir: str
    config: RenderConfig

    def __call__(self, font: tuple[str, str]) -> dict:
        return self.task_function(FontTask(*font, self.out_dir, self.config))


@dataclass
class RenderSummary:
    out_dir: Path
    fonts_found: int = 0
    fonts_rendered: int = 0  # fonts that gave at least one image
    fonts_resumed: int = 0  # fonts skipped because an earlier run finished them
    faces: int = 0
    images: int = 0
    rejects: list[RejectRecord] = field(default_factory=list)
    seconds: float = 0.0

    def reject_reasons(self) -> Counter:
        return Counter(_reason_kind(r.reason) for r in self.rejects)

    def text(self) -> str:
        fonts_rejected = len({r.font_path for r in self.rejects if r.letter == "*"})
        lines = [
            f"fonts: {self.fonts_found} found, {self.fonts_rendered} rendered"
            f" ({self.fonts_resumed} from an earlier run), {fonts_rejected} rejected",
            f"images: {self.images} from {self.faces} faces in {self.seconds:.1f} s -> {self.out_dir}",
        ]
        if self.rejects:
            reasons = ", ".join(f"{kind} {n}" for kind, n in self.reject_reasons().most_common())
            lines.append(f"rejects: {len(self.rejects)} rows in {self.out_dir / REJECTS_NAME} ({reasons})")
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    """The reason without the file-specific detail, for counting ("not in cmap", "timed out"...)."""
    return reason.split(" (")[0].split(": ")[0]


# ---------------------------------------------------------------------------------------------------
# Worker side: one font file -> PNG files + manifest rows
# ---------------------------------------------------------------------------------------------------


def render_font_task(task: FontTask) -> dict:
    """Render every face of one font file and write its PNGs; return what the manifest needs of them.

    The result is compact, because it crosses a pipe, the parent journals it and a font's rows repeat its
    face's fields: ``{"sha256": font_sha256, "faces": [[face_index, instance, family, style, license,
    key, letters, pixel_sha256s], ...], "rejects": [[reason, letters], ...]}``. ``letters`` is a string
    of the letters concerned (each is one character; "*" for the whole font) and ``pixel_sha256s`` their
    images' hex digests end to end: a few strings a face, not a list and two strings a glyph, which the
    parent would spend more time unpickling than the worker spends drawing. Faces without an image are
    left out. :func:`_manifest_bytes` and :func:`font_rejects` expand it into manifest and rejects rows."""
    letters = task.config.letters
    try:
        data = read_file(task.font_path)
    except OSError as error:
        return _result([], {f"unreadable file ({error.strerror or error})": "*"})
    digest = task.font_sha256 or hashlib.sha256(data).hexdigest()
    try:
        glyph_sets = render_font(
            task.font_path, letters, task.config.options, task.config.instances, data, digest
        )
    except FontLoadError as error:
        # The row names the font already; keep only the reason.
        return _result([], {str(error).removeprefix(f"{task.font_path}: "): "*"}, digest)
    folder = _letter_folders(task.out_dir, letters)
    faces, rejects = [], {}
    for glyph_set in glyph_sets:
        face = glyph_set.face
        if glyph_set.skipped:
            where = f"face {face.face_index}" + (f" [{face.instance}]" if face.instance else "")
            for letter, reason in glyph_set.skipped:
                reason = f"{reason} ({where})"
                rejects[reason] = rejects.get(reason, "") + letter
        if glyph_set.images:
            images = glyph_set.pixels
            for letter, png in zip(glyph_set.images, encode_pngs(images), strict=True):
                _write_png(f"{folder[letter]}{face.key}.png", png)  # str paths: hot loop
            digests = _pixel_digests(images)
            fields = [face.face_index, face.instance, face.family, face.style, face.license, face.key]
            faces.append([*fields, "".join(glyph_set.images), digests])
    if not faces:
        rejects["no letter could be rendered" if rejects else "no faces"] = "*"
    return _result(faces, rejects, digest)


_EMPTY_SHA256 = hashlib.sha256()


def _pixel_digests(images) -> str:
    """The sha256 hex digests of the images, end to end. Each hasher is a copy of an empty one: with
    Python 3.11's OpenSSL binding, copying costs 1.1 µs an image where a new ``hashlib.sha256`` costs 1.9."""
    digests = []
    for image in images:
        hasher = _EMPTY_SHA256.copy()
        hasher.update(image)
        digests.append(hasher.hexdigest())
    return "".join(digests)


@functools.lru_cache(maxsize=8)
def _letter_folders(out_dir: str, letters: tuple[str, ...]) -> dict[str, str]:
    """Each letter's folder in ``out_dir``, ending in the slash a PNG's name follows: the same for every
    font of a run, so made once a worker rather than once a font."""
    return {letter: f"{out_dir}/{letter_dirname(letter)}/" for letter in letters}


def _result(faces: list[list], rejects: dict[str, str], font_sha256: str = "") -> dict:
    return {"sha256": font_sha256, "faces": faces, "rejects": [list(item) for item in rejects.items()]}


_DIGEST_LENGTH = 64  # hex characters of a sha256


def _manifest_bytes(entries: dict[str, JournalEntry], letters: Sequence[str]) -> tuple[bytes, list[str]]:
    """``manifest.csv`` of the journal's fonts, and the image paths in it.

    The same bytes as :func:`fontglyphs.manifest.write_manifest` of their records (a test holds them to
    it), written straight from the compact results: a face's fields are CSV-encoded once, not once per
    glyph, no record object is built, and the rows come out in the manifest's order (label, then key)
    from the faces sorted once by key, which matters at half a million rows. Each line is encoded on its
    own: one family name outside Latin-1 would otherwise widen the whole text to two bytes a character
    before it is encoded (8.2 ms against 5.8 for the bundled fonts' 4,730 rows)."""
    faces, owner = [], {}
    for font_path, entry in entries.items():
        font_sha256, result = entry.sha256, entry.result
        for face_index, instance, family, style, license, key, drawn, digests in result["faces"]:
            if key in owner:
                raise FontGlyphsError(f"{font_path} and {owner[key]} both render to {key}.png")
            owner[key] = font_path
            fields = csv_fields([key, font_path, font_sha256, face_index, instance, family, style, license])
            faces.append((key, fields, drawn, digests))
    faces.sort()
    lines, paths = [MANIFEST_HEADER.encode()], []
    for label, letter in enumerate(letters):
        # A path is a letter's folder (alphanumeric or U+XXXX) and a face key (_safe_name): never quoted.
        folder, letter_field = letter_dirname(letter), csv_fields([letter])
        for key, fields, drawn, digests in faces:
            at = drawn.find(letter) * _DIGEST_LENGTH  # the k-th letter drawn has the k-th digest
            if at >= 0:
                path, digest = f"{folder}/{key}.png", digests[at:at + _DIGEST_LENGTH]
                paths.append(path)
                lines.append(f"{path},{letter_field},{label},{fields},{digest}{_RENDERED_TAIL}".encode())
    return b"".join(lines), paths


def font_rejects(font_path: str, result: dict) -> list[RejectRecord]:
    rejects = result["rejects"]
    return [RejectRecord(font_path, letter, reason) for reason, letters in rejects for letter in letters]


def _write_png(path: str, data: bytes) -> None:
    """Write in place (see the module docstring: the journal commits it); make the folder only if missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------------
# Parent side: discovery, dedup, sharding, resume, assembly
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileState:
    """What tells a font file unchanged since a run rendered it: its size and modification time, as build
    tools judge sources; and its sha256, where the parent hashed it (a possible duplicate, or a shard)."""

    size: int
    mtime_ns: int
    sha256: str = ""


@dataclass(frozen=True)
class JournalEntry:
    sha256: str
    size: int
    mtime_ns: int
    result: dict


class Journal:
    """The fonts a render folder has finished, one JSON line each: ``[font path, font sha256, size,
    mtime_ns, result]``.

    The parent appends a line after a font's PNGs are all written, so a font in the journal is complete on
    disk. One file for the run, not one per font: creating a file can cost the kernel more than drawing
    the font's glyphs. Lines are written in batches (one ``write`` to an ``O_APPEND`` file every
    ``FLUSH_SECONDS`` or 64 KiB): a run killed loses at most that last batch, whose fonts the next run
    renders again, and a torn last line, which it cuts off. A font whose size or modification time has
    changed since is rendered again; so is every font when the letters or options change, as a journal
    written under others describes other pixels and is started afresh.
    """

    FLUSH_SECONDS = 0.5
    FLUSH_BYTES = 1 << 16

    def __init__(self, out_dir: Path, fingerprint: str):
        """The journal of ``out_dir`` for renders whose RenderConfig has this fingerprint."""
        self.folder = out_dir / JOURNAL_DIR
        self.path = self.folder / "fonts.jsonl"
        found = self.fingerprint_of(out_dir)
        self.reset = found not in (None, fingerprint)
        if self.reset:
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if found != fingerprint:
            atomic_write_text(self.folder / "config.json", json.dumps({"fingerprint": fingerprint}))
        self.lines = 0  # lines in the file, counting damaged ones and repeats: compact drops those
        self.entries = self._load()
        self._fd: int | None = None
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._flushed_at = time.monotonic()

    @staticmethod
    def fingerprint_of(out_dir: Path) -> str | None:
        stamp = out_dir / JOURNAL_DIR / "config.json"
        return json.loads(stamp.read_text()).get("fingerprint") if stamp.is_file() else None

    def _load(self) -> dict[str, JournalEntry]:
        if not self.path.is_file():
            return {}
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):  # a torn last line: cut it off before appending after it
            os.truncate(self.path, len(complete))
        entries = {}
        self.lines = complete.count(b"\n")
        for line in complete.splitlines():
            try:
                font_path, *fields = json.loads(line)
                entries[font_path] = JournalEntry(*fields)
            except (ValueError, TypeError):  # a damaged line: that font is rendered again, compact drops it
                continue
        return entries

    def finished(self, font_path: str, state: FileState) -> bool:
        entry = self.entries.get(font_path)
        return (
            entry is not None
            and (entry.size, entry.mtime_ns) == (state.size, state.mtime_ns)
            and state.sha256 in ("", entry.sha256)
        )

    def append(self, font_path: str, entry: JournalEntry) -> None:
        line = self._line(font_path, entry)
        self._pending.append(line)
        self._pending_bytes += len(line)
        self.entries[font_path] = entry
        self.lines += 1
        due = time.monotonic() >= self._flushed_at + self.FLUSH_SECONDS
        if due or self._pending_bytes >= self.FLUSH_BYTES:
            self.flush()

    # json.dumps with options would make an encoder per line; results hold no cycles to look for.
    _ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)

    @classmethod
    def _line(cls, font_path: str, entry: JournalEntry) -> str:
        fields = [font_path, entry.sha256, entry.size, entry.mtime_ns, entry.result]
        return cls._ENCODER.encode(fields) + "\n"

    def flush(self) -> None:
        if self._pending:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, "".join(self._pending).encode())
            self._pending, self._pending_bytes = [], 0
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def compact(self, keep: Sequence[str]) -> None:
        """Keep only the fonts in ``keep``, in that order; the file is rewritten (atomically) only when it
        holds other fonts or repeats one, so a run that dropped nothing does not write it twice."""
        self.close()
        kept = {font: self.entries[font] for font in keep if font in self.entries}
        if self.lines != len(kept) or not self.path.is_file():
            atomic_write_text(self.path, "".join(self._line(*item) for item in kept.items()))
            self.lines = len(kept)
        self.entries = kept


def _file_states(
    files: Sequence[tuple[str, os.stat_result | None]], shard: Shard, progress: bool
) -> tuple[dict[str, FileState], list[RejectRecord]]:
    """Each readable file's state. The parent hashes only the files that may be copies of another (see
    :func:`_possible_copies`) or, for a shard, every file (shards are cut by content); the workers hash the
    others from the bytes they read anyway, so those are read once."""
    from tqdm import tqdm

    states = {path: FileState(status.st_size, status.st_mtime_ns) for path, status in files if status}
    to_hash = list(states) if shard.count > 1 else _possible_copies(states)
    to_hash += [path for path, status in files if status is None]  # so that opening it says why it fails
    rejects = []
    quiet = not progress or len(to_hash) < 200
    for path in tqdm(to_hash, desc="hashing", unit="font", disable=quiet, leave=False):
        try:
            status, digest = os.stat(path), file_sha256(path)
        except OSError as error:
            states.pop(path, None)
            rejects.append(RejectRecord(path, "*", f"unreadable file ({error.strerror or error})"))
        else:
            states[path] = FileState(status.st_size, status.st_mtime_ns, digest)
    return states, rejects


_HEAD_BYTES = 4096


def _possible_copies(states: dict[str, FileState]) -> list[str]:
    """The files that share their size and their first 4 KiB with another file (and those whose first 4 KiB
    cannot be read, for their hashing to say why): only these can be copies of another. Sizes alone leave
    many candidates, which would each be read and hashed twice: 3,170 of the 9,651 files of the large
    corpus share a size with another, and 136 also their first 4 KiB (a table directory holds every
    table's checksum). Reading those first bytes cost 55 ms there, against 204 ms for hashing the 3,170."""
    sizes = Counter(state.size for state in states.values())
    heads, unreadable = {}, []
    for path, state in states.items():
        if sizes[state.size] > 1:
            try:
                with open(path, "rb") as handle:
                    heads[path] = (state.size, hash(handle.read(_HEAD_BYTES)))  # a clash only costs a hash
            except OSError:
                unreadable.append(path)
    shared = Counter(heads.values())
    return [path for path, head in heads.items() if shared[head] > 1] + unreadable


def _deduplicate(states: dict[str, FileState]) -> tuple[dict[str, FileState], list[RejectRecord]]:
    """The files with distinct bytes, the first of each set of copies (in path order) kept."""
    first_of: dict[str, str] = {}
    unique, rejects = {}, []
    for path, state in states.items():
        if state.sha256 in first_of:
            original = first_of[state.sha256]
            rejects.append(RejectRecord(path, "*", f"duplicate file (same bytes as {original})"))
            continue
        if state.sha256:  # unhashed files have a size of their own: no copies
            first_of[state.sha256] = path
        unique[path] = state
    return unique, rejects


def _remove_stale_images(out_dir: Path, keep: set[str]) -> None:
    for png in out_dir.glob("*/*.png"):
        if f"{png.parent.name}/{png.name}" not in keep:
            png.unlink()
    for leftover in out_dir.glob("*/.*.tmp"):  # temporaries of a run killed mid-write
        leftover.unlink()


def render_fonts(
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: RenderConfig,
    *,
    system: bool = False,
    workers: int | None = None,
    timeout: float = 10.0,
    shard: Shard = Shard(),
    progress: bool = True,
    task_function: Callable[[FontTask], dict] = render_font_task,
) -> RenderSummary:
    """Render every letter of every font under ``inputs`` into ``out_dir``; see the module docstring."""
    from tqdm import tqdm

    config.options.validate()
    if timeout <= 0:
        raise UsageError(f"--timeout {timeout}: must be a positive number of seconds")
    started = time.monotonic()
    out_dir = Path(out_dir)
    fresh = not out_dir.exists()  # then no earlier run left images to clear away
    files = find_font_files(inputs, system=system)
    if not files:
        raise UsageError(f"no font files found in {', '.join(map(str, inputs)) or 'the system font folders'}")
    states, rejects = _file_states(files, shard, progress)
    if shard.count > 1:
        states = {path: state for path, state in states.items() if shard.holds(state.sha256)}
    unique, duplicate_rejects = _deduplicate(states)
    rejects += duplicate_rejects
    journal = Journal(out_dir, config.fingerprint())
    if journal.reset:  # its PNGs are about to be redrawn: a manifest of the old pixels would mislead
        (out_dir / MANIFEST_NAME).unlink(missing_ok=True)

    summary = RenderSummary(out_dir=out_dir, fonts_found=len(files))
    todo = [(path, state) for path, state in unique.items() if not journal.finished(path, state)]
    summary.fonts_resumed = len(unique) - len(todo)
    runner = _TaskRunner(task_function, str(out_dir), config)
    bar = tqdm(total=len(todo), desc="rendering", unit="font", disable=not progress)
    try:
        tasks = [(path, state.sha256) for path, state in todo]
        for outcome in run_isolated(runner, tasks, workers=workers, timeout=timeout):
            path, state = todo[outcome.index]
            result = outcome.value if outcome.ok else _result([], {outcome.error: "*"})
            digest = result.get("sha256") or state.sha256
            journal.append(path, JournalEntry(digest, state.size, state.mtime_ns, result))
            bar.update()
    finally:
        journal.close()
        bar.close()
    journal.compact(list(unique))

    for font_path, entry in journal.entries.items():
        rejects += font_rejects(font_path, entry.result)
        summary.fonts_rendered += bool(entry.result["faces"])
        summary.faces += len(entry.result["faces"])
    manifest, paths = _manifest_bytes(journal.entries, config.letters)
    atomic_write_bytes(out_dir / MANIFEST_NAME, manifest)
    write_rejects(out_dir / REJECTS_NAME, rejects)
    if not fresh:
        _remove_stale_images(out_dir, set(paths))
    summary.images = len(paths)
    summary.rejects = rejects
    summary.seconds = time.monotonic() - started
    return summary


def _check_unique_paths(records: Sequence[GlyphRecord]) -> None:
    seen: dict[str, str] = {}
    for record in records:
        if record.path in seen:
            raise FontGlyphsError(f"{record.font_path} and {seen[record.path]} both render to {record.path}")
        seen[record.path] = record.font_path


def merge_shards(shard_dirs: Sequence[str | os.PathLike], out_dir: str | os.PathLike) -> RenderSummary:
    """Combine the outputs of ``render --shard i/N`` runs into the folder one unsharded run would write.

    Shards are cut by font content hash, so copies of a font share a shard and every row appears once.
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    shard_dirs = [Path(d) for d in shard_dirs]
    records, rejects = [], []
    for shard_dir in shard_dirs:
        if not (shard_dir / MANIFEST_NAME).is_file():
            raise UsageError(
                f"{shard_dir}: no {MANIFEST_NAME}; is this the output of `fontglyphs render --shard`?"
            )
        records += read_manifest(shard_dir / MANIFEST_NAME)
        rejects += read_rejects(shard_dir / REJECTS_NAME)
    fingerprints = {Journal.fingerprint_of(d) for d in shard_dirs} - {None}
    if len(fingerprints) > 1:
        raise UsageError("the shards were rendered with different letters or options; render them alike")
    records = sort_records(records)
    _check_unique_paths(records)
    source_of = {r.path: d for d in shard_dirs for r in read_manifest(d / MANIFEST_NAME)}
    for record in records:
        target = out_dir / record.path
        data = (source_of[record.path] / record.path).read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
    # The shards' journals come along, so a later render or build over the whole corpus resumes instead of
    # rendering again.
    if fingerprints:
        (fingerprint,) = fingerprints
        journal = Journal(out_dir, fingerprint)
        for shard_dir in shard_dirs:
            journal.entries.update(Journal(shard_dir, fingerprint).entries)
        journal.compact(sorted(journal.entries))
    write_manifest(out_dir / MANIFEST_NAME, records)
    write_rejects(out_dir / REJECTS_NAME, rejects)
    _remove_stale_images(out_dir, {r.path for r in records})
    return RenderSummary(
        out_dir=out_dir,
        fonts_found=len({r.font_path for r in records} | {r.font_path for r in rejects}),
        fonts_rendered=len({r.font_path for r in records}),
        faces=len({r.key for r in records}),
        images=len(records),
        rejects=rejects,
        seconds=time.monotonic() - started,
    )
