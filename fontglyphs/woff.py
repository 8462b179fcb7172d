"""WOFF 1.0 to plain sfnt bytes, inflating only what drawing a few letters needs.

FreeType reads WOFF itself, but it inflates every table of the file, and does it again for every named
instance of a variable font it opens. Most of a web font's bytes are of no use to a renderer of ten
letters: the layout tables (GSUB, GPOS...), and the outlines after the last glyph those letters use.
Glyph outlines lie in glyph-id order inside one zlib stream, so the glyf table is inflated only up to
the end of the last glyph wanted (letters, their composite components and .notdef); ``loca`` is
clamped there, which turns every later glyph into an empty one with its id unchanged.

Reference: W3C WOFF File Format 1.0, sections 3-5 (header, table directory, table data).

    sfnt = decompress_woff(Path("font.woff").read_bytes(), chars="ABCDEFGHIJ")
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .sfnt import build_sfnt, cmap_glyphs, composite_components

_HEADER = struct.Struct(">4sIIHHIHHIIIII")  # 44 bytes
_ENTRY = struct.Struct(">4sIIII")  # tag, offset, compressed length, original length, original checksum
_HEAD_INDEX_TO_LOC_FORMAT = 50

# Tables no outline, metric or name that FreeType gives us comes from; dropped when only some letters are
# drawn: layout (OpenType and Graphite), kerning, device metrics, the signature, and post, whose glyph names
# are most of a web font's table bytes after its outlines. The hinting tables (cvt, fpgm, prep) stay:
# FreeType hints "tricky" fonts even when told not to.
_UNUSED = frozenset((b"GSUB", b"GPOS", b"GDEF", b"BASE", b"JSTF", b"MATH", b"Silf", b"Glat", b"Gloc",
                     b"Feat", b"Sill", b"DSIG", b"kern", b"hdmx", b"LTSH", b"VDMX", b"post"))


def _stored_bytes(data: bytes, offset: int, stored: int, length: int) -> bytes:
    """A table's bytes as the file stores them (compressed unless ``stored == length``), checked."""
    if stored > length or offset + stored > len(data):
        raise ValueError("truncated or inconsistent table directory")
    return data[offset:offset + stored]


def _inflate(data: bytes, offset: int, stored: int, length: int) -> bytes:
    """One table's bytes: stored as is when its compressed length equals its original length."""
    raw = _stored_bytes(data, offset, stored, length)
    if stored == length:
        return raw
    table = zlib.decompress(raw)
    if len(table) != length:
        raise ValueError(f"a table inflates to {len(table)} bytes, the directory says {length}")
    return table


class _Inflater:
    """The first bytes of one zlib-compressed table, inflated on demand as far as they are needed."""

    def __init__(self, compressed: bytes, length: int):
        self.length = length
        stored = len(compressed) == length
        self.data = bytearray(compressed) if stored else bytearray()
        self._stream = None if stored else zlib.decompressobj()
        self._rest = compressed

    def prefix(self, end: int) -> bytes:
        end = min(end, self.length)
        while len(self.data) < end and self._stream is not None:
            chunk = self._stream.decompress(self._rest, end - len(self.data))
            self._rest = self._stream.unconsumed_tail
            self.data += chunk
            if not chunk:
                break
        if len(self.data) < end:
            raise ValueError("the glyf table inflates to fewer bytes than its loca says")
        return bytes(self.data[:end])


def _loca_offsets(loca: bytes, long_format: bool, count: int) -> np.ndarray:
    offsets = np.frombuffer(loca, ">u4" if long_format else ">u2", count=count + 1).astype(np.int64)
    return offsets if long_format else offsets * 2


def _glyf_prefix(glyf: _Inflater, offsets: np.ndarray, keep: list[int]) -> tuple[bytes, int]:
    """The glyf bytes up to the end of the last glyph needed to draw the glyphs in ``keep`` (with .notdef
    and, recursively, their components), and that end."""
    count = len(offsets) - 1
    wanted = {0, *(g for g in keep if 0 <= g < count)}
    todo = sorted(wanted)
    data = b""
    while todo:
        data = glyf.prefix(max(int(offsets[g + 1]) for g in wanted))
        found = []
        for glyph in todo:
            start, end = int(offsets[glyph]), int(offsets[glyph + 1])
            if end - start >= 10 and struct.unpack_from(">h", data, start)[0] < 0:  # a composite glyph
                _end, _instructed, components = composite_components(data, start + 10)
                found += [c for c in components if 0 <= c < count and c not in wanted]
        wanted.update(found)
        todo = sorted(set(found))
    end = max(int(offsets[g + 1]) for g in wanted)
    return data[:end], end


def decompress_woff(data: bytes, chars: str | None = None) -> bytes:
    """Plain sfnt bytes of a WOFF 1.0 font; ValueError (or zlib.error, struct.error) when it is corrupt.

    With ``chars``, only what draws those characters is inflated: the tables FreeType reads for outlines,
    metrics and names, and the outlines of those characters (other glyphs come out empty, ids unchanged).
    """
    signature, flavor, _length, count, *_rest = _HEADER.unpack_from(data, 0)
    if signature != b"wOFF":
        raise ValueError("not a WOFF file")
    entries = {}
    for index in range(count):
        tag, offset, stored, length, _checksum = _ENTRY.unpack_from(data, _HEADER.size + _ENTRY.size * index)
        entries[tag] = (offset, stored, length)
    if chars is not None:
        entries = {tag: entry for tag, entry in entries.items() if tag not in _UNUSED}
    tables = {tag: _inflate(data, *entry) for tag, entry in entries.items() if tag != b"glyf"}
    if b"glyf" not in entries:
        return build_sfnt(flavor, tables)
    keep = None
    if chars is not None and {b"cmap", b"loca", b"head", b"maxp"} <= tables.keys():
        keep = cmap_glyphs(tables[b"cmap"], chars)
    subset = None if keep is None else _glyf_subset(data, entries[b"glyf"], tables, keep)
    if subset is None:
        tables[b"glyf"] = _inflate(data, *entries[b"glyf"])
    else:
        tables[b"glyf"], tables[b"loca"] = subset
    return build_sfnt(flavor, tables)


def _glyf_subset(
    data: bytes, entry: tuple[int, int, int], tables: dict[bytes, bytes], keep: list[int]
) -> tuple[bytes, bytes] | None:
    """glyf inflated up to the end of the last glyph needed and loca clamped there (see the module
    docstring); None when loca is out of order, so that the whole table must be kept."""
    long_format = struct.unpack_from(">h", tables[b"head"], _HEAD_INDEX_TO_LOC_FORMAT)[0] == 1
    glyph_count = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
    offsets = _loca_offsets(tables[b"loca"], long_format, glyph_count)
    length = entry[2]
    if np.any(np.diff(offsets) < 0) or offsets[-1] > length:
        return None
    glyf, end = _glyf_prefix(_Inflater(_stored_bytes(data, *entry), length), offsets, keep)
    clamped = np.minimum(offsets, end)
    return glyf, (clamped.astype(">u4") if long_format else (clamped // 2).astype(">u2")).tobytes()
