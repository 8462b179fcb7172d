"""Plain sfnt pieces the WOFF decoders share: a table directory, cmap lookups, composite glyph records.

    sfnt = build_sfnt(0x00010000, {b"head": head, b"glyf": glyf, ...})   # tables sorted, padded, summed
    glyphs = cmap_glyphs(cmap, "ABC")                                      # their glyph ids, or None
"""

from __future__ import annotations

import struct

import numpy as np

# Composite glyph component flags (TrueType glyf).
_ARG_1_AND_2_ARE_WORDS, _WE_HAVE_A_SCALE, _MORE_COMPONENTS = 0x0001, 0x0008, 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE, _WE_HAVE_A_TWO_BY_TWO, _WE_HAVE_INSTRUCTIONS = 0x0040, 0x0080, 0x0100


def composite_components(stream: bytes, pos: int) -> tuple[int, bool, list[int]]:
    """One composite glyph's component records: (end, whether it has instructions, component glyphs)."""
    instructions, glyphs = False, []
    while True:
        flags, glyph = struct.unpack_from(">HH", stream, pos)
        glyphs.append(glyph)
        pos += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            pos += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            pos += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            pos += 8
        instructions |= bool(flags & _WE_HAVE_INSTRUCTIONS)
        if not flags & _MORE_COMPONENTS:
            return pos, instructions, glyphs


def build_sfnt(flavor: int, tables: dict[bytes, bytes | memoryview]) -> bytes:
    """An sfnt of ``tables`` for FreeType to read from memory, put together with one copy of each table.
    Table checksums are left 0: FreeType never checks them, and summing a megabyte glyf table would
    cost more than drawing ten letters from it."""
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    pieces = [struct.pack(">IHHHH", flavor, count, 16 * power, power.bit_length() - 1, 16 * (count - power))]
    bodies, offset = [], 12 + 16 * count
    for tag in sorted(tables):
        table = tables[tag]
        pad = -len(table) % 4
        pieces.append(struct.pack(">4sIII", tag, 0, offset, len(table)))
        bodies += [table, bytes(pad)] if pad else [table]
        offset += len(table) + pad
    return b"".join(pieces + bodies)


def cmap_glyphs(cmap: bytes, chars: str) -> list[int] | None:
    """The glyphs that the Unicode subtables of ``cmap`` give ``chars`` (formats 4 and 12, which fonts use
    for Unicode); None when a Unicode subtable has another format, so the caller keeps every glyph.
    Variation-sequence subtables (platform 0, encoding 5) only pick alternates of base characters, and
    FreeType's Unicode charmap is never one, so they are passed over."""
    _version, tables = struct.unpack_from(">HH", cmap, 0)
    codes = [ord(char) for char in chars]
    glyphs: list[int] = []
    for platform, encoding, offset in struct.iter_unpack(">HHI", cmap[4:4 + 8 * tables]):
        if not ((platform == 0 and encoding != 5) or (platform == 3 and encoding in (1, 10))):
            continue
        (fmt,) = struct.unpack_from(">H", cmap, offset)
        if fmt == 4:
            segments = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
            ends, starts, deltas, ranges = (
                np.frombuffer(cmap, ">u2", segments, offset + 14 + k * 2 * segments + (2 if k else 0))
                for k in range(4)
            )
            range_at = offset + 16 + 6 * segments  # where idRangeOffset[0] lies
            found = np.searchsorted(ends, codes)
            at = np.minimum(found, segments - 1)  # plain ints from here: numpy scalars are slow one by one
            picked = (starts[at].tolist(), deltas[at].tolist(), ranges[at].tolist())
            for code, segment, start, delta, range_offset in zip(codes, found.tolist(), *picked, strict=True):
                if segment == segments or start > code:
                    continue
                if range_offset == 0:
                    glyphs.append((code + delta) & 0xFFFF)
                    continue
                where = range_at + 2 * segment + range_offset + 2 * (code - start)
                glyph = struct.unpack_from(">H", cmap, where)[0]
                glyphs.append((glyph + delta) & 0xFFFF if glyph else 0)
        elif fmt == 12:
            (groups,) = struct.unpack_from(">I", cmap, offset + 12)
            table = np.frombuffer(cmap, ">u4", 3 * groups, offset + 16).reshape(-1, 3).astype(np.int64)
            for code, group in zip(codes, np.searchsorted(table[:, 1], codes).tolist(), strict=True):
                if group < groups and table[group, 0] <= code:
                    glyphs.append(int(table[group, 2] + code - table[group, 0]))
        else:
            return None
    return glyphs
