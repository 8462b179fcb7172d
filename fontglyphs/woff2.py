"""WOFF2 to plain sfnt bytes, fast: the transformed glyf table is decoded with numpy, not glyph by glyph.

freetype-py's bundled FreeType is built without brotli, so WOFF2 files must be decompressed before
FreeType reads them. fontTools can do it, but it rebuilds every glyph as a Python object and re-encodes
it (~0.1 ms a glyph, 30-90 ms for a web font), which would make WOFF2 fonts 50x slower to render than
TTF. Here the per-point work (the WOFF2 "triplet" coordinate encoding) is vectorised over the whole font;
what stays in Python is one short loop over glyphs that walks the interleaved streams.

Reference: W3C WOFF File Format 2.0, sections 4 (table directory), 5.1-5.3 (glyf/loca), 5.4 (hmtx).
Glyphs are re-encoded simply (every coordinate a 16-bit delta, long loca); the outlines are unchanged.

    sfnt = decompress_woff2(Path("font.woff2").read_bytes())
"""

from __future__ import annotations

import struct

import numpy as np

_HEADER = struct.Struct(">4sIIHHIIHHIIIII")  # 48 bytes
_GLYF_HEADER = struct.Struct(">HHHH7I")  # 36 bytes
_GLYPH_HEADER = struct.Struct(">hhhhh")
_HEAD_INDEX_TO_LOC_FORMAT = 50

# Composite glyph component flags (TrueType glyf).
_ARG_1_AND_2_ARE_WORDS, _WE_HAVE_A_SCALE, _MORE_COMPONENTS = 0x0001, 0x0008, 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE, _WE_HAVE_A_TWO_BY_TWO, _WE_HAVE_INSTRUCTIONS = 0x0040, 0x0080, 0x0100
_OVERLAP_SIMPLE = 0x40


# Table tags by their 6-bit index in the table directory (spec 4.1); "_" stands for a space.
_KNOWN_TAGS = [tag.replace("_", " ").encode("ascii") for tag in (
    "cmap head hhea hmtx maxp name OS/2 post cvt_ fpgm glyf loca prep CFF_ VORG EBDT EBLC gasp hdmx kern "
    "LTSH PCLT VDMX vhea vmtx BASE GDEF GPOS GSUB EBSC JSTF MATH CBDT CBLC COLR CPAL SVG_ sbix acnt avar "
    "bdat bloc bsln cvar fdsc feat fmtx fvar gvar hsty just lcar mort morx opbd prop trak Zapf Silf Glat "
    "Gloc Feat Sill"
).split()]


def _base128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for index in range(5):
        byte = data[pos + index]
        if index == 0 and byte == 0x80:
            raise ValueError("UIntBase128 with a leading zero")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + index + 1
    raise ValueError("UIntBase128 longer than 5 bytes")


def _uint255(data: bytes, pos: int) -> tuple[int, int]:
    code = data[pos]
    if code == 253:
        return (data[pos + 1] << 8) | data[pos + 2], pos + 3
    if code == 254:
        return data[pos + 1] + 506, pos + 2
    if code == 255:
        return data[pos + 1] + 253, pos + 2
    return code, pos + 1


def _read_tables(data: bytes) -> tuple[int, dict[bytes, tuple[bytes, int]]]:
    """(sfnt flavor, tag -> (table data as stored, transform version)) of a WOFF2 file."""
    import brotli

    signature, flavor, _length, count, _reserved, _size, total_compressed, *_ = _HEADER.unpack_from(data, 0)
    if signature != b"wOF2":
        raise ValueError("not a WOFF2 file")
    if flavor == 0x74746366:  # 'ttcf'
        raise ValueError("WOFF2 font collections are not supported")
    pos, entries = _HEADER.size, []
    for _ in range(count):
        flags = data[pos]
        pos += 1
        if flags & 0x3F == 0x3F:
            tag = data[pos:pos + 4]
            pos += 4
        else:
            tag = _KNOWN_TAGS[flags & 0x3F]
        version = flags >> 6
        length, pos = _base128(data, pos)
        transformed = version != 3 if tag in (b"glyf", b"loca") else version != 0
        if transformed:
            length, pos = _base128(data, pos)
        entries.append((tag, length, version if transformed else -1))
    try:
        stream = brotli.decompress(data[pos:pos + total_compressed])
    except brotli.error as error:
        raise ValueError(f"brotli stream does not decompress ({error})") from None
    tables, offset = {}, 0
    for tag, length, version in entries:
        tables[tag] = (stream[offset:offset + length], version)
        offset += length
    if offset != len(stream):
        raise ValueError(f"decompressed {len(stream)} bytes, the directory says {offset}")
    return flavor, tables


def _components_end(stream: bytes, pos: int) -> tuple[int, bool]:
    """End of one composite glyph's component records, and whether it has instructions."""
    instructions = False
    while True:
        flags = (stream[pos] << 8) | stream[pos + 1]
        pos += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            pos += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            pos += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            pos += 8
        instructions |= bool(flags & _WE_HAVE_INSTRUCTIONS)
        if not flags & _MORE_COMPONENTS:
            return pos, instructions


def _triplet_deltas(flags: np.ndarray, stream: bytes, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) of every point from its flag byte and its 1-4 bytes in the glyph stream (spec 5.2)."""
    padded = np.frombuffer(stream + bytes(4), np.uint8).astype(np.int64)
    b0, b1, b2, b3 = (padded[offsets + k] for k in range(4))
    f = (flags & 0x7F).astype(np.int64)
    g3, g4 = f - 20, f - 84
    conditions = [f < 10, f < 20, f < 84, f < 120, f < 124]
    dx = np.select(conditions, [0, (((f - 10) & 14) << 7) + b0, 1 + (g3 & 0x30) + (b0 >> 4),
                                1 + ((g4 // 12) << 8) + b0, (b0 << 4) + (b1 >> 4)], (b0 << 8) + b1)
    dy = np.select(conditions, [((f & 14) << 7) + b0, 0, 1 + ((g3 & 0x0C) << 2) + (b0 & 0x0F),
                                1 + (((g4 % 12) >> 2) << 8) + b1, ((b1 & 0x0F) << 8) + b2], (b2 << 8) + b3)
    x_positive = (f & 1).astype(bool)
    # Flags below 10 carry only dy, signed by bit 0; the others sign dy by bit 1.
    y_positive = np.where(f < 10, f & 1, (f >> 1) & 1).astype(bool)
    return np.where(x_positive, dx, -dx), np.where(y_positive, dy, -dy)


def _glyf_and_loca(data: bytes) -> tuple[bytes, bytes, np.ndarray]:
    """The glyf and (long) loca tables of a transformed glyf table, and every glyph's xMin."""
    _reserved, option_flags, count, _index_format, *sizes = _GLYF_HEADER.unpack_from(data, 0)
    streams, pos = [], _GLYF_HEADER.size
    for size in sizes:
        streams.append(data[pos:pos + size])
        pos += size
    contour_stream, points_stream, flag_stream, glyph_stream, composite_stream, bbox_stream, code_stream = (
        streams
    )
    overlap = np.frombuffer(data[pos:pos + (count + 7) // 8], np.uint8) if option_flags & 1 else None

    contours = np.frombuffer(contour_stream, ">i2", count=count).astype(np.int64)
    simple = contours > 0
    contour_points, cursor = [], 0
    for _ in range(int(contours[simple].sum())):
        value, cursor = _uint255(points_stream, cursor)
        contour_points.append(value)
    contour_points = np.array(contour_points, np.int64)
    contour_glyph = np.repeat(np.flatnonzero(simple), contours[simple])
    glyph_points = np.bincount(contour_glyph, contour_points, minlength=count).astype(np.int64)
    point_start = np.concatenate(([0], np.cumsum(glyph_points)))
    total = int(point_start[-1])
    flags = np.frombuffer(flag_stream, np.uint8, count=total)
    size = np.select([(flags & 0x7F) < 84, (flags & 0x7F) < 120, (flags & 0x7F) < 124], [1, 2, 3], 4)
    size_start = np.concatenate(([0], np.cumsum(size)))

    # Walk the interleaved streams glyph by glyph: triplets and instruction lengths share glyphStream.
    triplet_start = [0] * count
    triplet_bytes = (size_start[point_start[1:]] - size_start[point_start[:-1]]).tolist()
    bbox_bitmap = np.unpackbits(np.frombuffer(bbox_stream, np.uint8, count=((count + 31) >> 5) << 2))
    bboxes = np.frombuffer(bbox_stream, ">i2", offset=len(bbox_bitmap) // 8).reshape(-1, 4).astype(np.int64)
    glyph_bbox = np.zeros((count, 4), np.int64)
    glyph_bbox[bbox_bitmap[:count].astype(bool)] = bboxes[: int(bbox_bitmap[:count].sum())]
    # (kind, composite start, composite end, has instructions, instruction start, instruction length)
    pieces: list[tuple[int, int, int, bool, int, int]] = []
    glyph_pos = composite_pos = instruction_pos = 0
    for glyph, kind in enumerate(contours.tolist()):
        if kind == 0:
            pieces.append((0, 0, 0, False, 0, 0))
            continue
        if kind > 0:
            triplet_start[glyph] = glyph_pos
            glyph_pos += triplet_bytes[glyph]
            has_instructions, start = True, glyph_pos
        else:
            start = composite_pos
            composite_pos, has_instructions = _components_end(composite_stream, composite_pos)
        length = 0
        if has_instructions:
            length, glyph_pos = _uint255(glyph_stream, glyph_pos)
        pieces.append((kind, start, composite_pos, has_instructions, instruction_pos, length))
        instruction_pos += length

    point_glyph = np.repeat(np.arange(count), glyph_points)
    first_byte = np.array(triplet_start, np.int64)[point_glyph]
    offsets = first_byte + size_start[:-1] - size_start[point_start[point_glyph]]
    dx, dy = _triplet_deltas(flags, glyph_stream, offsets)

    # Bounding boxes of simple glyphs without an explicit one: extremes of the absolute coordinates.
    x = np.cumsum(dx) - np.repeat(np.concatenate(([0], np.cumsum(dx)))[point_start[:-1]], glyph_points)
    y = np.cumsum(dy) - np.repeat(np.concatenate(([0], np.cumsum(dy)))[point_start[:-1]], glyph_points)
    computed = simple & ~bbox_bitmap[:count].astype(bool) & (glyph_points > 0)
    starts = point_start[:-1][computed]
    if starts.size:
        glyph_bbox[computed] = np.stack([np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts),
                                         np.maximum.reduceat(x, starts), np.maximum.reduceat(y, starts)], 1)

    out_flags = (flags < 128).astype(np.uint8)  # bit 0: on curve; coordinates are words (no short bits)
    if overlap is not None:
        marked = np.unpackbits(overlap)[:count].astype(bool) & simple & (glyph_points > 0)
        out_flags[point_start[:-1][marked]] |= _OVERLAP_SIMPLE
    contour_end = (np.cumsum(contour_points) - np.repeat(point_start[:-1][simple], contours[simple]) - 1)
    ends = contour_end.astype(">u2").tobytes()
    flag_bytes, x_bytes, y_bytes = out_flags.tobytes(), dx.astype(">i2").tobytes(), dy.astype(">i2").tobytes()
    # Contour range of each glyph, in the list of all contours (composite and empty glyphs have none).
    contour_start = np.concatenate(([0], np.cumsum(np.maximum(contours, 0)))).tolist()
    points, boxes = point_start.tolist(), glyph_bbox.tolist()

    glyphs, loca, offset = [], [0], 0
    for glyph, (kind, start, end, has_instructions, instruction_start, length) in enumerate(pieces):
        if kind != 0:
            header = _GLYPH_HEADER.pack(kind, *boxes[glyph])
            code = code_stream[instruction_start:instruction_start + length]
            if kind > 0:
                c0, c1 = contour_start[glyph], contour_start[glyph + 1]
                p0, p1 = points[glyph], points[glyph + 1]
                body = b"".join((header, ends[2 * c0:2 * c1], struct.pack(">H", length), code,
                                 flag_bytes[p0:p1], x_bytes[2 * p0:2 * p1], y_bytes[2 * p0:2 * p1]))
            else:
                body = header + composite_stream[start:end]
                if has_instructions:
                    body += struct.pack(">H", length) + code
            body += bytes(-len(body) % 4)
            glyphs.append(body)
            offset += len(body)
        loca.append(offset)
    return b"".join(glyphs), np.array(loca, ">u4").tobytes(), glyph_bbox[:, 0]


def _hmtx(data: bytes, hhea: bytes, count: int, x_min: np.ndarray) -> bytes:
    """The hmtx table from its transformed form (spec 5.4): omitted side bearings are the glyphs' xMin."""
    flags = data[0]
    metrics = min(struct.unpack_from(">H", hhea, 34)[0], count)
    pos = 1
    advances = np.frombuffer(data, ">u2", count=metrics, offset=pos)
    pos += 2 * metrics
    if flags & 1:
        lsb = x_min[:metrics]
    else:
        lsb = np.frombuffer(data, ">i2", count=metrics, offset=pos)
        pos += 2 * metrics
    if flags & 2:
        side = x_min[metrics:count]
    else:
        side = np.frombuffer(data, ">i2", count=count - metrics, offset=pos)
    pairs = np.stack([advances.astype(np.int64), np.asarray(lsb, np.int64)], 1)
    return pairs.astype(">i2").tobytes() + np.asarray(side, np.int64).astype(">i2").tobytes()


def _checksum(table: bytes) -> int:
    padded = table + bytes(-len(table) % 4)
    return int(np.frombuffer(padded, ">u4").sum(dtype=np.uint64) & 0xFFFFFFFF)


def _sfnt(flavor: int, tables: dict[bytes, bytes]) -> bytes:
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">IHHHH", flavor, count, 16 * power, power.bit_length() - 1, 16 * (count - power))
    records, bodies, offset = [], [], 12 + 16 * count
    for tag in sorted(tables):
        table = tables[tag]
        records.append(struct.pack(">4sIII", tag, _checksum(table), offset, len(table)))
        bodies.append(table + bytes(-len(table) % 4))
        offset += len(bodies[-1])
    return header + b"".join(records) + b"".join(bodies)


def decompress_woff2(data: bytes) -> bytes:
    """Plain sfnt bytes of a WOFF2 font; ValueError (or IndexError on a truncated stream) when corrupt."""
    flavor, stored = _read_tables(data)
    tables = {tag: table for tag, (table, version) in stored.items() if version < 0}
    transformed = {tag: table for tag, (table, version) in stored.items() if version >= 0}
    if b"glyf" in transformed:
        maxp_glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        tables[b"glyf"], tables[b"loca"], x_min = _glyf_and_loca(transformed.pop(b"glyf"))
        transformed.pop(b"loca", None)
        head = bytearray(tables[b"head"])
        struct.pack_into(">h", head, _HEAD_INDEX_TO_LOC_FORMAT, 1)
        tables[b"head"] = bytes(head)
        if b"hmtx" in transformed:
            tables[b"hmtx"] = _hmtx(transformed.pop(b"hmtx"), tables[b"hhea"], maxp_glyphs, x_min)
    if transformed:
        names = ", ".join(tag.decode("latin-1") for tag in transformed)
        raise ValueError(f"unsupported WOFF2 transform of {names}")
    return _sfnt(flavor, tables)
