"""Plain sfnt pieces the WOFF decoders share: a table directory, cmap lookups, composite glyph records.

    sfnt = build_sfnt(0x00010000, {b"head": head, b"glyf": glyf, ...})   # tables sorted, padded, summed
    glyphs = cmap_glyphs(cmap, "ABC")                                      # their glyph ids, or None
"""

from __future__ import annotations

import bisect
import struct

# Composite glyph component flags (TrueType glyf).
_ARG_1_AND_2_ARE_WORDS, _WE_HAVE_A_SCALE, _MORE_COMPONENTS = 0x0001, 0x0008, 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE, _WE_HAVE_A_TWO_BY_TWO, _WE_HAVE_INSTRUCTIONS = 0x0040, 0x0080, 0x0100
_UINT16 = struct.Struct(">H")


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


def _format4_glyphs(cmap: bytes, offset: int, codes: list[int]) -> list[int]:
    """The glyphs a format 4 subtable gives ``codes`` (0 where it maps one to .notdef), leaving out the codes
    it does not cover. Read value by value with struct: for ten letters that beats any array set-up."""
    segments = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", cmap, offset + 14)
    starts_at = offset + 16 + 2 * segments  # then idDelta[], then idRangeOffset[], segments values each
    glyphs = []
    for code in codes:
        segment = bisect.bisect_left(ends, code)
        if segment == segments:
            continue
        at = starts_at + 2 * segment
        start, delta, range_offset = (_UINT16.unpack_from(cmap, at + 2 * segments * k)[0] for k in range(3))
        if start > code:
            continue
        if range_offset == 0:
            glyphs.append((code + delta) & 0xFFFF)
        else:
            glyph = _UINT16.unpack_from(cmap, at + 4 * segments + range_offset + 2 * (code - start))[0]
            glyphs.append((glyph + delta) & 0xFFFF if glyph else 0)
    return glyphs


def cmap_glyphs(cmap: bytes, chars: str) -> list[int] | None:
    """The glyphs that the Unicode subtables of ``cmap`` give ``chars`` (formats 4 and 12, which fonts use
    for Unicode); None when a Unicode subtable has another format, so the caller keeps every glyph.
    Variation-sequence subtables (platform 0, encoding 5) only pick alternates of base characters, and
    FreeType's Unicode charmap is never one, so they are passed over."""
    _version, tables = struct.unpack_from(">HH", cmap, 0)
    codes = [ord(char) for char in chars]
    glyphs: list[int] = []
    seen = set()  # the Unicode subtables of platforms 0 and 3 are often one and the same
    for platform, encoding, offset in struct.iter_unpack(">HHI", cmap[4:4 + 8 * tables]):
        unicode = (platform == 0 and encoding != 5) or (platform == 3 and encoding in (1, 10))
        if not unicode or offset in seen:
            continue
        seen.add(offset)
        (fmt,) = struct.unpack_from(">H", cmap, offset)
        if fmt == 4:
            glyphs += _format4_glyphs(cmap, offset, codes)
        elif fmt == 12:
            (groups,) = struct.unpack_from(">I", cmap, offset + 12)
            table = struct.unpack_from(f">{3 * groups}I", cmap, offset + 16)  # (first, last, glyph) each
            lasts = table[1::3]
            for code in codes:
                group = bisect.bisect_left(lasts, code)
                if group < groups and table[3 * group] <= code:
                    glyphs.append(table[3 * group + 2] + code - table[3 * group])
        else:
            return None
    return glyphs
