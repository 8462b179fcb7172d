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

from .sfnt import build_sfnt, cmap_glyphs, composite_components

_HEADER = struct.Struct(">4sIIHHIIHHIIIII")  # 48 bytes
_GLYF_HEADER = struct.Struct(">HHHH7I")  # 36 bytes
_GLYPH_HEADER = struct.Struct(">hhhhh")
_UINT16 = struct.Struct(">H")
_HEAD_INDEX_TO_LOC_FORMAT = 50

_OVERLAP_SIMPLE = 0x40
# Bytes of a point's coordinates in the glyph stream, by the low 7 bits of its flag (spec 5.2).
_TRIPLET_BYTES = np.select([np.arange(128) < 84, np.arange(128) < 120, np.arange(128) < 124], [1, 2, 3], 4)


def _triplet_table() -> np.ndarray:
    """(128, 2, 4) int64: for each flag (low 7 bits) and axis (x, y), its (base, shift, mask, sign).

    Every case of the spec's triplet table (5.2) reads one bit field of the point's bytes b0..b3 taken as
    the big-endian word W: delta = sign * (base + ((W >> shift) & mask)). A table, so the points of a font
    are decoded by a few array lookups rather than a cascade of conditions over all of them."""
    table = np.zeros((128, 2, 4), np.int64)
    for flag in range(128):
        if flag < 10:  # dy only, 8 bits of b0
            x, y = (0, 0, 0), ((flag & 14) << 7, 24, 0xFF)
        elif flag < 20:  # dx only, 8 bits of b0
            x, y = (((flag - 10) & 14) << 7, 24, 0xFF), (0, 0, 0)
        elif flag < 84:  # a nibble each, both in b0
            x, y = (1 + ((flag - 20) & 0x30), 28, 0xF), (1 + (((flag - 20) & 0x0C) << 2), 24, 0xF)
        elif flag < 120:  # b0 and b1
            x = (1 + (((flag - 84) // 12) << 8), 24, 0xFF)
            y = (1 + ((((flag - 84) % 12) >> 2) << 8), 16, 0xFF)
        elif flag < 124:  # 12 bits each, in b0..b2
            x, y = (0, 20, 0xFFF), (0, 8, 0xFFF)
        else:  # 16 bits each, in b0..b3
            x, y = (0, 16, 0xFFFF), (0, 0, 0xFFFF)
        # Flags below 10 carry only dy, signed by bit 0; the others sign dx by bit 0 and dy by bit 1.
        y_positive = flag & 1 if flag < 10 else (flag >> 1) & 1
        table[flag, 0] = (*x, 1 if flag & 1 else -1)
        table[flag, 1] = (*y, 1 if y_positive else -1)
    table.flags.writeable = False
    return table


_TRIPLETS = _triplet_table()
_WORD_BYTES = np.arange(4)


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


def _uint255_values(stream: bytes, count: int) -> np.ndarray:
    """The first ``count`` 255UInt16 values of ``stream``: read as plain bytes when each of them is one
    byte (a glyph rarely has a contour of 253 points or more), else decoded one by one."""
    raw = np.frombuffer(stream, np.uint8)[:count]
    if len(raw) == count and (count == 0 or raw.max() < 253):
        return raw.astype(np.int64)
    values, pos = [], 0
    for _ in range(count):
        value, pos = _uint255(stream, pos)
        values.append(value)
    return np.array(values, np.int64)


def _triplet_deltas(flags: np.ndarray, stream: bytes, offsets: np.ndarray) -> np.ndarray:
    """(points, 2) int64: the (dx, dy) of every point from its flag byte and its 1-4 bytes in the glyph
    stream, which start at ``offsets`` (ascending) (spec 5.2)."""
    # Only the points' own bytes are gathered: a copy of the stream would cost more than the decoding. A
    # point near the end may have fewer than 4 bytes; what is read past the end (clipped) goes unused.
    raw = np.frombuffer(stream, np.uint8)
    if offsets.size and offsets[-1] >= raw.size:
        raise ValueError("glyph stream too short for its points")
    # Each point's 4 bytes in one gather, read as the big-endian word W of _triplet_table.
    word = raw.take(offsets[:, None] + _WORD_BYTES, mode="clip").view(">u4")[:, 0].astype(np.int64)
    base, shift, mask, sign = _TRIPLETS.take(flags & 0x7F, axis=0).transpose(2, 0, 1)  # each (points, 2)
    return sign * (base + ((word[:, None] >> shift) & mask))


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    """int64 [0, v0, v0 + v1, ...] along axis 0: where each of ``values``' runs starts, their total last.
    (The ufunc straight into its output: np.cumsum and np.concatenate cost more than a glyph's sum.)"""
    out = np.zeros((len(values) + 1, *values.shape[1:]), np.int64)
    np.add.accumulate(values, axis=0, out=out[1:])
    return out


def _glyph_stream_layout(
    glyph_stream: bytes, triplet_bytes: np.ndarray, has_instructions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(start of each glyph's triplets, each glyph's instruction length) in the glyph stream, where every
    glyph's triplets are followed by its instruction length (a 255UInt16) if it has instructions.

    Fast path: assume every instruction length takes one byte, place them all with one cumulative sum, and
    accept the guess if each byte so found is a one-byte code (then, by induction from the first, every
    guessed place is right) within the stream; else walk the stream glyph by glyph. The glyphs may be the
    first ones of the font only: the stream goes on after them."""
    length_bytes = has_instructions.astype(np.int64)
    starts = _exclusive_cumsum(triplet_bytes + length_bytes)
    at = (starts[:-1] + triplet_bytes)[has_instructions]
    # Clipped reads past the end are no risk: then the glyphs end past it too, and the guess is refused.
    stream = np.frombuffer(glyph_stream, np.uint8)
    codes = stream.take(at, mode="clip") if stream.size else np.zeros(len(at), np.uint8)
    if starts[-1] <= len(glyph_stream) and (codes.size == 0 or codes.max() < 253):
        lengths = np.zeros(len(triplet_bytes), np.int64)
        lengths[has_instructions] = codes
        return starts[:-1], lengths
    triplet_start, lengths, pos = [], [], 0
    for size, instructed in zip(triplet_bytes.tolist(), has_instructions.tolist(), strict=True):
        triplet_start.append(pos)
        pos += size
        length = 0
        if instructed:
            length, pos = _uint255(glyph_stream, pos)
        lengths.append(length)
    return np.array(triplet_start, np.int64), np.array(lengths, np.int64)


def _glyf_and_loca(data: bytes, keep: list[int] | None = None) -> tuple[bytes, bytes, np.ndarray]:
    """The glyf and (long) loca tables of a transformed glyf table, and every glyph's xMin.

    ``keep`` (glyph ids) limits the outlines rebuilt to those glyphs and the components they use; the
    others become empty glyphs with the same ids, which is all a renderer of a few letters needs. Ten
    letters are a few hundred points, so what costs is the number of array operations, not their size:
    each step is one operation over a whole stream (the simple glyphs are numbered among themselves, so
    their contours and points are runs of one array), and only the glyphs written are looped over.
    """
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
    composites = np.flatnonzero(contours < 0).tolist()
    records, wanted_ids, decoded = _composites(composite_stream, composites, count, keep)
    # Only the first ``decoded`` glyphs are looked at: every stream holds its glyphs in glyph order, so the
    # glyphs after the last one wanted are never reached.
    contours = contours[:decoded]
    # The simple glyphs, numbered in glyph order: their contours, and their points, lie end to end.
    simple = np.flatnonzero(contours > 0)
    simple_contours = contours[simple]
    contour_first = _exclusive_cumsum(simple_contours)  # each simple glyph's first contour, then the total
    contour_points = _uint255_values(points_stream, int(contour_first[-1]))
    contour_start = _exclusive_cumsum(contour_points)  # each contour's first point, then the total
    point_start = contour_start[contour_first]  # each simple glyph's first point, then the total
    flags = np.frombuffer(flag_stream, np.uint8, count=int(point_start[-1]))
    size_start = _exclusive_cumsum(_TRIPLET_BYTES[flags & 0x7F])  # where each point's triplet starts
    triplet_bytes = np.zeros(decoded, np.int64)
    glyph_size_start = size_start[point_start]
    triplet_bytes[simple] = glyph_size_start[1:] - glyph_size_start[:-1]
    has_instructions = np.zeros(decoded, bool)
    has_instructions[simple] = True
    for glyph, (_start, _end, instructed, _components) in records.items():
        has_instructions[glyph] = instructed
    triplet_start, code_length = _glyph_stream_layout(glyph_stream, triplet_bytes, has_instructions)
    code_start = _exclusive_cumsum(code_length)

    wanted = np.ones(decoded, bool)
    if wanted_ids is not None:
        wanted[:] = False
        wanted[list(wanted_ids)] = True
    bbox_bitmap = np.unpackbits(np.frombuffer(bbox_stream, np.uint8, count=((count + 31) >> 5) << 2))
    explicit = bbox_bitmap[:decoded].astype(bool)
    bboxes = np.frombuffer(bbox_stream, ">i2", offset=len(bbox_bitmap) // 8).reshape(-1, 4).astype(np.int64)
    glyph_bbox = np.zeros((count, 4), np.int64)
    glyph_bbox[:decoded][explicit] = bboxes[: int(explicit.sum())]

    # The simple glyphs rebuilt ("drawn"): their points, numbered anew from 0, the global number of each,
    # and where its triplet starts in the glyph stream.
    drawn_simple = np.flatnonzero(wanted[simple])
    drawn = simple[drawn_simple]
    first_point = point_start[drawn_simple]
    drawn_points = point_start[drawn_simple + 1] - first_point
    local_start = _exclusive_cumsum(drawn_points)
    point = np.arange(local_start[-1]) + np.repeat(first_point - local_start[:-1], drawn_points)
    offsets = size_start[point] + np.repeat(triplet_start[drawn] - size_start[first_point], drawn_points)
    point_flags = flags[point]
    delta = _triplet_deltas(point_flags, glyph_stream, offsets)

    # Bounding boxes of drawn glyphs without an explicit one: extremes of the absolute coordinates. A glyph's
    # points are the running sum of its deltas, so its extremes are those of the running sum over all drawn
    # points, less the sum before its first point. Each glyph with points is its own segment of the
    # reduction: a segment running on into the next glyph's points would take in that glyph's extremes too.
    has_points = drawn_points > 0
    computed = ~explicit[drawn] & has_points
    if computed.any():
        total = _exclusive_cumsum(delta)
        starts = local_start[:-1][has_points]
        before, running = total[starts], total[1:]
        low = np.minimum.reduceat(running, starts) - before
        high = np.maximum.reduceat(running, starts) - before
        own = computed[has_points]
        glyph_bbox[drawn[computed]] = np.hstack([low[own], high[own]])

    out_flags = (point_flags < 128).astype(np.uint8)  # bit 0: on curve; coordinates are words, not bytes
    if overlap is not None:
        marked = np.unpackbits(overlap)[:count].astype(bool)[drawn] & (drawn_points > 0)
        out_flags[local_start[:-1][marked]] |= _OVERLAP_SIMPLE
    # Every contour's last point, numbered within its glyph: a glyph's endPtsOfContours is a slice.
    ends = contour_start[1:] - 1 - np.repeat(point_start[:-1], simple_contours)
    ends_bytes, flag_bytes = ends.astype(">u2").tobytes(), out_flags.tobytes()
    xy_bytes = delta.T.astype(">i2").tobytes()  # every dx, then every dy
    y_at = len(xy_bytes) // 2
    where = dict(zip(drawn.tolist(), zip(
        local_start[:-1].tolist(), local_start[1:].tolist(),
        contour_first[drawn_simple].tolist(), contour_first[drawn_simple + 1].tolist(), strict=True,
    ), strict=True))

    boxes, code_at, code_lengths = glyph_bbox[:decoded].tolist(), code_start.tolist(), code_length.tolist()
    lengths = np.zeros(count, np.int64)
    glyphs = []
    for glyph in np.flatnonzero(wanted & (contours != 0)).tolist():
        length, at = code_lengths[glyph], code_at[glyph]
        code = code_stream[at:at + length]
        if glyph in where:
            p0, p1, c0, c1 = where[glyph]
            body = b"".join((
                _GLYPH_HEADER.pack(c1 - c0, *boxes[glyph]), ends_bytes[2 * c0:2 * c1], _UINT16.pack(length),
                code, flag_bytes[p0:p1], xy_bytes[2 * p0:2 * p1], xy_bytes[y_at + 2 * p0:y_at + 2 * p1],
            ))
        else:
            start, end, instructed, _components = records[glyph]
            body = _GLYPH_HEADER.pack(-1, *boxes[glyph]) + composite_stream[start:end]
            if instructed:
                body += _UINT16.pack(length) + code
        body += bytes(-len(body) % 4)
        glyphs.append(body)
        lengths[glyph] = len(body)
    return b"".join(glyphs), _exclusive_cumsum(lengths).astype(">u4").tobytes(), glyph_bbox[:, 0]


def _composites(
    stream: bytes, composite_glyphs: list[int], count: int, keep: list[int] | None
) -> tuple[dict[int, tuple[int, int, bool, list[int]]], set[int] | None, int]:
    """Walk the composite records (which lie end to end in glyph order) as far as the glyphs needed reach.

    Returns each walked composite's (start, end, has instructions, components), the glyphs needed (those
    in ``keep``, .notdef and, recursively, their components; None for all, when ``keep`` is None) and how
    many leading glyphs hold them all."""
    wanted = None if keep is None else {0, *(glyph for glyph in keep if 0 <= glyph < count)}
    decoded = count if wanted is None else max(wanted) + 1
    records: dict[int, tuple[int, int, bool, list[int]]] = {}
    pos = 0
    for glyph in composite_glyphs:
        if glyph >= decoded:
            break
        end, instructed, components = composite_components(stream, pos)
        records[glyph] = (pos, end, instructed, components)
        pos = end
        if wanted is None or glyph not in wanted:
            continue
        todo = components[:]  # a component walked already brings its own; a later one is seen when walked
        while todo:
            component = todo.pop()
            if 0 <= component < count and component not in wanted:
                wanted.add(component)
                decoded = max(decoded, component + 1)
                todo += records.get(component, (0, 0, False, []))[3]
    return records, wanted, decoded


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


def decompress_woff2(data: bytes, chars: str | None = None) -> bytes:
    """Plain sfnt bytes of a WOFF2 font; ValueError (or IndexError on a truncated stream) when corrupt.

    With ``chars``, only the outlines that draw those characters are rebuilt (other glyphs come out
    empty, with their ids unchanged): a renderer of ten letters then skips most of the work on a web font
    of a thousand glyphs."""
    flavor, stored = _read_tables(data)
    tables = {tag: table for tag, (table, version) in stored.items() if version < 0}
    transformed = {tag: table for tag, (table, version) in stored.items() if version >= 0}
    if b"glyf" in transformed:
        maxp_glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        keep = None if chars is None or b"cmap" not in tables else cmap_glyphs(tables[b"cmap"], chars)
        tables[b"glyf"], tables[b"loca"], x_min = _glyf_and_loca(transformed.pop(b"glyf"), keep)
        transformed.pop(b"loca", None)
        head = bytearray(tables[b"head"])
        struct.pack_into(">h", head, _HEAD_INDEX_TO_LOC_FORMAT, 1)
        tables[b"head"] = bytes(head)
        if b"hmtx" in transformed:
            tables[b"hmtx"] = _hmtx(transformed.pop(b"hmtx"), tables[b"hhea"], maxp_glyphs, x_min)
    if transformed:
        names = ", ".join(tag.decode("latin-1") for tag in transformed)
        raise ValueError(f"unsupported WOFF2 transform of {names}")
    return build_sfnt(flavor, tables)
