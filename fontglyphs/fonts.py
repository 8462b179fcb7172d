"""Font files: discovery, formats, faces of collections, variable-font instances, names and licences.

A font file becomes one or more *faces*, each rendered as its own "font" of the dataset::

    font = read_font("fonts/Inter.ttf")            # bytes FreeType can read, sha256, container format
    for face in iter_faces(font):                  # TTC/OTC faces x variable named instances
        print(face.info.key, face.info.family, face.info.style, letters_covered(face.ft, "ABC"))

FreeType (through freetype-py) reads every format but WOFF2, which is decompressed to plain sfnt bytes
in memory first (fontglyphs.woff2, with fontTools as the fallback); WOFF is too (fontglyphs.woff), because
FreeType would inflate all of it, for every named instance. Names come from FreeType too:
parsing a font with fontTools costs milliseconds, and the render stage's budget per font is one.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import io
import mmap
import os
import re
import stat
import struct
import sys
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import freetype
import freetype.raw as ft
import numpy as np

from .errors import FontLoadError, UsageError

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2", ".pfb", ".pfa")

_SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"true", b"OTTO")
_BITMAP_TABLES = (b"EBDT", b"CBDT", b"sbix", b"bdat")
_UNICODE = freetype.FT_ENCODINGS["FT_ENCODING_UNICODE"]
_NAME_FAMILY, _NAME_SUBFAMILY, _NAME_LICENSE, _NAME_LICENSE_URL = 1, 2, 13, 14
_NAME_TYPO_FAMILY, _NAME_TYPO_SUBFAMILY = 16, 17
_WANTED_NAMES = np.isin(np.arange(1 << 16), (1, 2, 13, 14, 16, 17))  # by name ID: a font has hundreds


# ---------------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------------


def system_font_dirs() -> list[Path]:
    """The operating system's font folders that exist on this machine."""
    home = Path.home()
    if sys.platform == "darwin":
        candidates = [Path("/Library/Fonts"), Path("/System/Library/Fonts"), home / "Library" / "Fonts"]
    elif sys.platform == "win32":
        windir = os.environ.get("WINDIR", r"C:\Windows")
        local = os.environ.get("LOCALAPPDATA")
        candidates = [Path(windir) / "Fonts"]
        if local:
            candidates.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    else:
        candidates = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                      home / ".local" / "share" / "fonts", home / ".fonts"]
    return [path for path in candidates if path.is_dir()]


def _walk_fonts(directory: Path) -> Iterator[str]:
    # os.walk with followlinks, guarded against symlink loops by the folders (device, inode) already seen.
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(directory, followlinks=True):
        status = os.stat(root)
        if (status.st_dev, status.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((status.st_dev, status.st_ino))
        yield from (os.path.join(root, name) for name in files if name.lower().endswith(FONT_SUFFIXES))


def _posix(path: str) -> str:
    """The sort key of a path: ``Path(path).as_posix()``, without building the Path."""
    return path.replace(os.sep, "/") if os.sep != "/" else path


def discover_font_files(paths: Sequence[str | os.PathLike], system: bool = False) -> list[Path]:
    """Font files under ``paths`` (files and folders, recursively), sorted, each real file once.

    Folders contribute files with a font suffix (any case); a file named explicitly is taken whatever
    its suffix, so that the render stage can reject it with a reason rather than ignore it silently.
    """
    return [Path(path) for path, _status in find_font_files(paths, system)]


def find_font_files(
    paths: Sequence[str | os.PathLike], system: bool = False
) -> list[tuple[str, os.stat_result | None]]:
    """:func:`discover_font_files`' files as plain strings, each with its ``os.stat`` (None when it cannot
    be read, e.g. a dangling symlink, which is kept so that rendering rejects it with the reason): the
    render stage needs both for ten thousand files, and building a Path costs more than the stat."""
    roots = [os.fspath(p) for p in paths] + [str(d) for d in (system_font_dirs() if system else [])]
    found: list[tuple[str, os.stat_result | None]] = []  # walked files are stat'ed below; named ones here
    for root in roots:
        try:
            status = os.stat(root)  # one stat a root: a shell glob can name ten thousand files
        except OSError:
            status = None
        if status is not None and stat.S_ISDIR(status.st_mode):
            found.extend((path, None) for path in _walk_fonts(Path(root)))
        elif status is not None and stat.S_ISREG(status.st_mode):
            found.append((str(Path(root)), status))
        else:
            raise UsageError(f"{Path(root)}: no such file or folder")
    # A file reached twice (through a symlink, a hard link or two overlapping roots) is the same inode:
    # one stat a file, where os.path.realpath would lstat every component of its path.
    unique: dict[tuple[int, int], tuple[str, os.stat_result | None]] = {}
    for path, status in sorted(found, key=lambda item: _posix(item[0])):
        if status is None:
            try:
                status = os.stat(path)
            except OSError:
                unique[(-1, len(unique))] = (path, None)
                continue
        unique.setdefault((status.st_dev, status.st_ino), (path, status))
    return sorted(unique.values(), key=lambda item: _posix(item[0]))


# ---------------------------------------------------------------------------------------------------
# Identity: hashes and keys
# ---------------------------------------------------------------------------------------------------


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows opens files as text unless told


def read_file(path: str | os.PathLike) -> bytes:
    """A file's bytes in four system calls (open, fstat, read, close) where ``Path.read_bytes`` makes nine:
    its buffered reader also asks whether the file is a terminal, where it stands (twice), its size again,
    and reads once more to find the end. The render workers read every font, and on a virtual machine
    each system call costs a microsecond or two (11 µs a font saved, measured on the bundled fonts)."""
    fd = os.open(path, os.O_RDONLY | _O_BINARY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) != size:  # a short read, or the file grew since: read on to its end
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


def file_sha256(path: str | os.PathLike) -> str:
    """The file's sha256, hashed straight from the page cache through a memory map: reading it into
    blocks first would copy a 1 GB corpus once more for nothing."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:  # an empty file cannot be mapped
            return hashlib.sha256().hexdigest()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).hexdigest()


def file_stem(path: str | os.PathLike) -> str:
    """``Path(path).stem`` as Python 3.11 defines it ("a.tar.gz" -> "a.tar", ".hidden" and "x." unchanged),
    without building a Path: keys are derived from it once per face, and must not change with Python."""
    name = os.path.basename(os.fspath(path))
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(text: str, limit: int = 48) -> str:
    """ASCII letters, digits, '.', '_' and '-' only: safe as a file name on every OS and in a URL."""
    if not text.isascii():  # accents come off ("é" -> "e"); what has no ASCII form goes
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_RUN.sub("_", text).strip("._-")[:limit].rstrip("._-")


def face_key(path: str | os.PathLike, font_sha256: str, face_index: int, instance: str) -> str:
    """``<file stem>[-<instance>]-<8 hex>``: readable, and unique per face because the hex digest
    covers the font's bytes, the face index and the instance (renaming a file changes only the stem)."""
    digest = hashlib.sha256(f"{font_sha256}\0{face_index}\0{instance}".encode()).hexdigest()[:8]
    parts = [_safe_name(file_stem(path)) or "font"]
    if instance:
        parts.append(_safe_name(instance) or "instance")
    return "-".join([*parts, digest])


# ---------------------------------------------------------------------------------------------------
# Reading a font file: sniff the container, decompress WOFF2, reject what has no outlines
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontData:
    """A font file in memory, in the form FreeType reads (WOFF and WOFF2 decompressed to sfnt)."""

    path: str
    sha256: str
    format: str  # container and outline format, e.g. "TrueType", "OpenType/CFF", "WOFF2", "TTC", "Type 1"
    data: bytes
    faces: int  # number of faces in the file (> 1 for collections)


def _table_directory(data: bytes, offset: int) -> dict[bytes, tuple[int, int]]:
    """Table tag -> (offset, stored length) of the sfnt (or WOFF) whose header starts at ``offset``."""
    woff = data[offset:offset + 4] == b"wOFF"
    count_at, first, entry = (12, 44, 20) if woff else (offset + 4, offset + 12, 16)
    if len(data) < first:
        raise ValueError("truncated (the table directory is cut off)")
    (count,) = struct.unpack_from(">H", data, count_at)
    if len(data) < first + entry * count:
        raise ValueError("truncated (the table directory is cut off)")
    # The whole directory in one unpack: the face is opened a few times over, for its format and names.
    fields = _directory_struct(woff, count).unpack_from(data, first)
    # Fields of an entry: WOFF tag, offset, stored length and two more; sfnt tag, checksum, offset, length.
    step, at = (5, 1) if woff else (4, 2)
    tags, starts, lengths = fields[0::step], fields[at::step], fields[at + 1::step]
    if count and max(map(int.__add__, starts, lengths)) > len(data):
        for tag, start, length in zip(tags, starts, lengths, strict=True):
            if start + length > len(data):
                name = tag.decode("latin-1").strip()
                raise ValueError(f"truncated (table '{name}' ends at byte {start + length} of {len(data)})")
    return dict(zip(tags, zip(starts, lengths, strict=True), strict=True))


def _sfnt_table(data: bytes, offset: int, tag: bytes) -> tuple[int, int] | None:
    """(offset, length) of table ``tag`` of the sfnt whose header starts at ``offset``, found by its tag
    without unpacking the rest of the directory, which read_font has checked already (0.8 µs against
    6.3 for the whole directory); None when the font has no such table."""
    (count,) = struct.unpack_from(">H", data, offset + 4)
    first = offset + 12
    end = first + 16 * count
    at = data.find(tag, first, end)
    while at >= 0 and (at - first) % 16:  # the same bytes in another entry's other fields: look on
        at = data.find(tag, at + 1, end)
    if at < 0:
        return None
    start, length = struct.unpack_from(">II", data, at + 8)
    return (start, length) if start + length <= len(data) else None


@functools.lru_cache(maxsize=128)
def _directory_struct(woff: bool, count: int) -> struct.Struct:
    return struct.Struct(">" + ("4sIIII" if woff else "4sIII") * count)


def _outline_format(data: bytes, offset: int) -> str:
    tables = _table_directory(data, offset)
    if b"CFF2" in tables:
        return "OpenType/CFF2"
    if b"CFF " in tables:
        return "OpenType/CFF"
    if b"glyf" in tables and b"loca" in tables:
        return "TrueType"
    bitmaps = sorted(tag.decode("latin-1").strip() for tag in tables if tag in _BITMAP_TABLES)
    kind = f"bitmap-only font ({', '.join(bitmaps)})" if bitmaps else "no glyph outlines"
    raise ValueError(f"{kind}: no glyf, CFF or CFF2 table, nothing to rasterize")


def _collection_offsets(data: bytes) -> list[int]:
    if len(data) < 12:
        raise ValueError("truncated (the collection header is cut off)")
    (count,) = struct.unpack_from(">I", data, 8)
    if count == 0 or len(data) < 12 + 4 * count:
        raise ValueError(f"broken collection header ({count} faces)")
    return list(struct.unpack_from(f">{count}I", data, 12))


def _decompress_woff2(data: bytes, chars: str | None) -> bytes:
    """Plain sfnt bytes of a WOFF2 file: freetype-py's bundled FreeType is built without brotli.

    The numpy decoder is ~10x faster, and with ``chars`` rebuilds only the outlines of those characters;
    fontTools' decoder is the fallback for what it does not handle (and the judge of a corrupt file)."""
    from .woff2 import decompress_woff2

    try:
        return decompress_woff2(data, chars)
    except Exception:  # any failure: fontTools decodes it, or says why it cannot
        return _decompress_woff2_fonttools(data)


def _decompress_woff(data: bytes, chars: str | None) -> bytes:
    """Plain sfnt bytes of a WOFF file, inflated once for all its faces and, with ``chars``, only as far as
    those characters need (fontglyphs.woff); a file it cannot decode goes to FreeType as it is, which reads
    WOFF too and says why it is broken."""
    from .woff import decompress_woff

    try:
        return decompress_woff(data, chars)
    except (ValueError, zlib.error, struct.error):
        return data


def _decompress_woff2_fonttools(data: bytes) -> bytes:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
    font.flavor = None
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()


def _sniff(data: bytes, chars: str | None = None) -> tuple[str, bytes, int]:
    """(format, bytes for FreeType, face count); raises ValueError with the reason a file is unusable.
    ``chars``: the characters that will be drawn, when only those are (see _decompress_woff2)."""
    if not data:
        raise ValueError("empty file")
    head = data[:4]
    if head == b"wOFF":
        _outline_format(data, 0)
        return "WOFF", _decompress_woff(data, chars), 1
    if head == b"wOF2":
        try:
            sfnt = _decompress_woff2(data, chars)
        except Exception as error:  # fontTools raises many types on corrupt input
            detail = " ".join(str(error).split())
            raise ValueError(f"corrupt WOFF2 ({type(error).__name__}: {detail})") from None
        _outline_format(sfnt, 0)
        return "WOFF2", sfnt, 1
    if head in _SFNT_VERSIONS:
        return _outline_format(data, 0), data, 1
    if head == b"ttcf":
        offsets = _collection_offsets(data)
        # A collection's faces are checked one by one when opened; its name says what the first holds.
        try:
            first = _outline_format(data, offsets[0])
        except ValueError:
            first = ""
        return ("OTC" if "CFF" in first else "TTC"), data, len(offsets)
    if data[:2] == b"\x80\x01" or data.startswith((b"%!PS-AdobeFont", b"%!FontType1")):
        return "Type 1", data, 1
    raise ValueError(f"not a font file (unrecognised header {data[:4]!r})")


def read_font(
    path: str | os.PathLike,
    data: bytes | None = None,
    font_sha256: str | None = None,
    chars: str | None = None,
) -> FontData:
    """Read (or take) a font file's bytes and check it can be rasterized; FontLoadError says why not.

    A caller that already hashed the bytes (to skip identical files) passes ``font_sha256`` to save
    hashing them twice; one that will draw only ``chars`` says so, and may get a font whose other glyphs
    are empty (from WOFF2, whose outlines must be rebuilt)."""
    path = str(path)
    if data is None:
        try:
            data = read_file(path)
        except OSError as error:
            raise FontLoadError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        fmt, sfnt, faces = _sniff(data, chars)
    except ValueError as error:
        raise FontLoadError(f"{path}: {error}") from None
    return FontData(path, font_sha256 or hashlib.sha256(data).hexdigest(), fmt, sfnt, faces)


# ---------------------------------------------------------------------------------------------------
# Faces: collections and variable-font named instances
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceInfo:
    """What the manifest records about the face an image came from."""

    font_path: str
    font_sha256: str
    format: str
    face_index: int  # index in a collection (0 for single fonts), never combined with the instance
    instance: str  # named instance of a variable font, "" otherwise
    family: str
    style: str
    license: str
    key: str


@dataclass
class LoadedFace:
    """A face ready to render (``ft``), or the reason it could not be opened (``error``).

    The named instances of a variable font share one FreeType face, which reading ``ft`` sets to this
    face's instance (1.3 µs; opening a face for each instance cost 19 µs and its glyph lookups again): use
    the face you read before reading another instance's."""

    info: FaceInfo
    freetype_face: freetype.Face | None
    error: str = ""
    instance_number: int = 0  # named instance (from 1) that the shared face is set to; 0: not an instance

    @property
    def ft(self) -> freetype.Face | None:
        if self.instance_number and self.freetype_face is not None:
            _set_named_instance(self.freetype_face, self.instance_number)
        return self.freetype_face


def ft_error_message(code: int) -> str:
    """FreeType's words for an error code (freetype-py keeps them on FT_Exception)."""
    return freetype.FT_Exception._errors.get(code, f"FreeType error 0x{code:02X}")


def _open_ft_face(data: bytes, index: int) -> freetype.Face:
    """A FreeType face over ``data`` in memory; ``index`` = (named instance << 16) | face index."""
    try:
        return freetype.Face(io.BytesIO(data), index)
    except freetype.FT_Exception as error:
        raise ValueError(f"FreeType cannot open it ({ft_error_message(error.errcode)})") from None


@functools.lru_cache(maxsize=256)
def _name_text(platform: int, encoding: int, raw: bytes) -> str:
    """A name record's string, NULs dropped and each run of white space made one space.

    Cached on the raw bytes: the faces of a family repeat one licence text of a few kilobytes, whose
    decoding and normalising cost twice as much as reading the rest of the name table."""
    if platform == 0 or (platform == 3 and encoding in (0, 1, 10)):
        text = raw.decode("utf-16-be", "replace")
    elif platform == 1 and encoding == 0:
        text = raw.decode("mac_roman", "replace")
    else:
        text = raw.decode("latin-1")
    return " ".join(text.replace("\0", "").split())


def _name_rank(platform: int, encoding: int, language: int) -> int | None:
    """Lower is better: Windows English, any Windows Unicode, Unicode, Mac English, other Mac Roman."""
    if platform == 3 and encoding in (1, 10):
        return 0 if language == 0x409 else 1
    if platform == 0:
        return 2
    if platform == 1 and encoding == 0:
        return 3 if language == 0 else 4
    return None


def sfnt_names(data: bytes, offset: int = 0) -> dict[int, str]:
    """The name-table strings fontglyphs uses (family, subfamily, licence), best language first, of the
    sfnt whose header is at ``offset`` of ``data``. Read from the bytes, as FreeType reads them (a record
    whose string lies outside the table is passed over), without a FreeType call per record: fonts
    carry hundreds of records, for every language."""
    table = _sfnt_table(data, offset, b"name")
    if table is None:
        return {}
    start, length = table
    if length < 6:
        return {}
    _format, count, storage = struct.unpack_from(">HHH", data, start)
    count = min(count, (length - 6) // 12)
    records = np.frombuffer(data, ">u2", 6 * count, start + 6).reshape(count, 6)
    candidates = []  # (name ID, rank, record order, ...): the order in which strings are tried
    for order, (platform, encoding, language, name_id, size, at) in enumerate(
        records[_WANTED_NAMES[records[:, 3]]].tolist()
    ):
        rank = _name_rank(platform, encoding, language)
        if rank is not None and storage + at + size <= length:
            candidates.append((name_id, rank, order, platform, encoding, start + storage + at, size))
    # Best first, so each string is decoded once: a licence can run to 20 KB, in both Mac and Windows records.
    names: dict[int, str] = {}
    for name_id, _rank, _order, platform, encoding, at, size in sorted(candidates):
        if name_id not in names:
            text = _name_text(platform, encoding, data[at:at + size])
            if text:
                names[name_id] = text
    return names


_LICENSES = (  # (licence id, phrases any of which identifies it), first match wins; text lower-cased
    ("OFL-1.0", ("open font license, version 1.0", "open font license version 1.0", "ofl-1.0")),
    ("OFL-1.1", ("open font licen", "scripts.sil.org/ofl", "openfontlicense.org", "ofl-1.1", "ofl 1.1")),
    ("Apache-2.0", ("apache licen", "apache.org/licenses")),
    ("UFL-1.0", ("ubuntu font licen",)),
    ("GPL-with-font-exception", ("font exception", "font embedding exception")),
    ("GPL", ("gnu general public licen", "gnu.org/licenses/gpl")),
    ("LPPL-1.3c", ("latex project public licen",)),
    ("GUST-Font-License", ("gust font licen",)),
    ("IPA", ("ipa font licen",)),
    ("Arphic-1999", ("arphic public licen",)),
    ("Bitstream-Vera", ("bitstream vera", "fonts are (c) bitstream")),
    ("STIX", ("stixfonts.org",)),
    ("CC0-1.0", ("creative commons zero", "cc0", "publicdomain/zero")),
    ("CC-BY-4.0", ("creative commons attribution 4.0", "licenses/by/4.0")),
    ("MIT", ("mit license", "permission is hereby granted, free of charge")),
    ("Public-Domain", ("public domain",)),
)


@functools.lru_cache(maxsize=256)
def license_id(description: str, url: str = "") -> str:
    """A short licence id from name IDs 13 and 14; else the start of the description; else "unknown".

    The texts come with their white space folded (each run one space, none at the ends), as sfnt_names
    gives them: folding a 7 KB licence again cost 50 µs. Cached: the faces of a family repeat one licence
    text, often several kilobytes long."""
    text = f"{description} {url}".lower()  # lower case has no white space of its own to fold
    for name, phrases in _LICENSES:
        if any(phrase in text for phrase in phrases):
            return name
    if description:
        return description if len(description) <= 60 else description[:59].rstrip() + "…"
    return "unknown"


def _ps_notice(face: freetype.Face) -> str:
    """The copyright notice of a Type 1 font's FontInfo dictionary (it has no name table)."""

    class PSFontInfo(ctypes.Structure):
        _fields_ = [("version", ctypes.c_char_p), ("notice", ctypes.c_char_p), ("full_name", ctypes.c_char_p),
                    ("family_name", ctypes.c_char_p), ("weight", ctypes.c_char_p),
                    ("italic_angle", ctypes.c_long), ("is_fixed_pitch", ctypes.c_ubyte),
                    ("underline_position", ctypes.c_short), ("underline_thickness", ctypes.c_ushort)]

    info = PSFontInfo()
    if ft.FT_Get_PS_Font_Info(face._FT_Face, ctypes.byref(info)) or not info.notice:
        return ""
    return " ".join(info.notice.decode("latin-1").split())  # folded, as license_id takes it


def _face_info(
    font: FontData, face: freetype.Face, face_index: int, instance: str, names: dict[int, str] | None = None
) -> FaceInfo:
    """``names``: the face's sfnt_names when known already (named instances share their font's)."""
    stem = file_stem(font.path)
    if face.is_sfnt:
        names = sfnt_names(font.data, _face_offset(font, face_index)) if names is None else names
        family = names.get(_NAME_TYPO_FAMILY) or names.get(_NAME_FAMILY)
        subfamily = names.get(_NAME_TYPO_SUBFAMILY) or names.get(_NAME_SUBFAMILY)
        licence = license_id(names.get(_NAME_LICENSE, ""), names.get(_NAME_LICENSE_URL, ""))
    else:
        family = subfamily = None
        licence = license_id(_ps_notice(face))
    family = family or (face.family_name or b"").decode("utf-8", "replace") or stem
    style = instance or subfamily or (face.style_name or b"").decode("utf-8", "replace")
    key = face_key(font.path, font.sha256, face_index, instance)
    return FaceInfo(font.path, font.sha256, font.format, face_index, instance, family, style, licence, key)


def _broken_face(font: FontData, face_index: int, reason: str) -> LoadedFace:
    stem = file_stem(font.path)
    key = face_key(font.path, font.sha256, face_index, "")
    info = FaceInfo(font.path, font.sha256, font.format, face_index, "", stem, "", "unknown", key)
    return LoadedFace(info, None, reason)


def _face_offset(font: FontData, face_index: int) -> int:
    """Where the sfnt header of face ``face_index`` starts in the font's bytes."""
    return _collection_offsets(font.data)[face_index] if font.format in ("TTC", "OTC") else 0


def _check_collection_face(font: FontData, face_index: int) -> None:
    # Before FreeType opens it: our reason ("bitmap-only font (EBDT)") says more than FreeType's.
    if font.format in ("TTC", "OTC"):
        _outline_format(font.data, _collection_offsets(font.data)[face_index])


def _set_named_instance(face: freetype.Face, number: int) -> None:
    error = ft.FT_Set_Named_Instance(face._FT_Face, number)
    if error:
        raise ValueError(f"named instance {number} cannot be set ({ft_error_message(error)})")


def _instances(face: freetype.Face) -> list[tuple[str, int]]:
    """(name, number) of each named instance of ``face``, names made unique for unique keys. FreeType
    gives the name of the instance the face is set to, so each is set in turn."""
    named, seen = [], set()
    for number in range(1, (face.style_flags >> 16) + 1):
        _set_named_instance(face, number)
        name = (face.style_name or b"").decode("utf-8", "replace") or f"instance {number}"
        name = name if name not in seen else f"{name} {number}"
        seen.add(name)
        named.append((name, number))
    return named


def _faces_of(font: FontData, face_index: int, instances: bool) -> list[LoadedFace]:
    try:
        _check_collection_face(font, face_index)
        face = _open_ft_face(font.data, face_index)
        if not face.is_scalable:
            raise ValueError("bitmap-only face (no outlines to rasterize)")
        named = _instances(face) if instances and face.has_multiple_masters else []
    except ValueError as error:
        return [_broken_face(font, face_index, str(error))]
    if not named:
        return [LoadedFace(_face_info(font, face, face_index, ""), face)]
    names = sfnt_names(font.data, _face_offset(font, face_index)) if face.is_sfnt else None
    # An instance's FaceInfo takes its name from here and the rest from the font's names: the same whatever
    # instance the shared face is set to.
    return [
        LoadedFace(_face_info(font, face, face_index, name, names), face, instance_number=number)
        for name, number in named
    ]


def iter_faces(font: FontData, instances: bool = True) -> Iterator[LoadedFace]:
    """Every face of ``font``: each face of a collection and, if ``instances``, each named instance of a
    variable font (else its default instance). A face that cannot be opened comes with its reason."""
    for face_index in range(font.faces):
        yield from _faces_of(font, face_index, instances)


def open_faces(
    path: str | os.PathLike,
    instances: bool = True,
    data: bytes | None = None,
    font_sha256: str | None = None,
    chars: str | None = None,
) -> list[LoadedFace]:
    """:func:`iter_faces` of a file; FontLoadError when the file, or every face of it, is unusable.
    ``chars``: see :func:`read_font`."""
    font = read_font(path, data, font_sha256, chars)
    faces = list(iter_faces(font, instances))
    if all(face.freetype_face is None for face in faces):  # not .ft: that would set every named instance
        reasons = "; ".join(dict.fromkeys(face.error for face in faces))
        prefix = f"all {font.faces} faces of the collection are unusable: " if font.faces > 1 else ""
        raise FontLoadError(f"{font.path}: {prefix}{reasons}")
    return faces


# ---------------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------------


def glyph_indices(face: freetype.Face, letters: Sequence[str]) -> list[int]:
    """The glyph of each letter in the face's Unicode cmap; 0 (.notdef) when absent or when the face has
    no Unicode cmap (symbol fonts map their pictures to Private Use code points, not to letters)."""
    handle = face._FT_Face
    charmap = handle.contents.charmap
    if not charmap or charmap.contents.encoding != _UNICODE:
        return [0] * len(letters)
    return [ft.FT_Get_Char_Index(handle, ord(letter)) for letter in letters]


def glyph_index(face: freetype.Face, letter: str) -> int:
    return glyph_indices(face, [letter])[0]


def letters_covered(face: freetype.Face, letters: Sequence[str]) -> list[str]:
    """The letters, in the given order, that the face's cmap maps to a real glyph."""
    return [letter for letter, index in zip(letters, glyph_indices(face, letters), strict=True) if index]


# ---------------------------------------------------------------------------------------------------
# Listing (the ``fontglyphs fonts`` command)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontRow:
    """One face of a listed font file, or the whole file with the reason it is unusable."""

    path: str
    format: str
    face: str  # "1/3": this face (or instance) of all those the file yields
    family: str
    style: str
    license: str
    covered: tuple[str, ...]  # the letters asked for that the cmap maps to a glyph, in their order
    missing: tuple[str, ...]
    error: str = ""


def describe_font(path: str | os.PathLike, letters: Sequence[str], instances: bool = True) -> list[FontRow]:
    """The rows of one font file: a row per face or instance, or one row with the reason it is unusable."""
    try:
        faces = open_faces(path, instances)
    except FontLoadError as error:
        reason = str(error).removeprefix(f"{path}: ")
        return [FontRow(str(path), "", "", "", "", "", (), tuple(letters), reason)]
    rows = []
    for number, face in enumerate(faces, start=1):
        info = face.info
        ft_face = face.ft  # read once: it sets a variable font's shared face to this instance
        covered = letters_covered(ft_face, letters) if ft_face is not None else []
        rows.append(FontRow(
            info.font_path, info.format, f"{number}/{len(faces)}", info.family, info.style, info.license,
            tuple(covered), tuple(c for c in letters if c not in covered), face.error,
        ))
    return rows
