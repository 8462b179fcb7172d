"""Fixture fonts built with fontTools FontBuilder: real font files, no binaries in the repo.

Letters are drawn from a 5x7 dot-matrix pattern, one square contour per lit cell, so every generated
font has readable, distinct A–Z glyphs; ``cell``/``slant``/``weight`` vary the look between "fonts".
Broken fonts (blank glyphs, missing letters, wrong outlines, garbage bytes) are built here too.
"""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.TupleVariation import TupleVariation
from fontTools.ttLib.ttCollection import TTCollection

UPM = 1000
ASCENT, DESCENT = 800, -200

DOT_MATRIX = {
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "B": ["11110", "10001", "10001", "11110", "10001", "10001", "11110"],
    "C": ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
    "D": ["11100", "10010", "10001", "10001", "10001", "10010", "11100"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "F": ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
    "G": ["01110", "10001", "10000", "10111", "10001", "10001", "01111"],
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "I": ["01110", "00100", "00100", "00100", "00100", "00100", "01110"],
    "J": ["00111", "00010", "00010", "00010", "00010", "10010", "01100"],
    "K": ["10001", "10010", "10100", "11000", "10100", "10010", "10001"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "N": ["10001", "10001", "11001", "10101", "10011", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "Q": ["01110", "10001", "10001", "10001", "10101", "10010", "01101"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "U": ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
    "V": ["10001", "10001", "10001", "10001", "10001", "01010", "00100"],
    "W": ["10001", "10001", "10001", "10101", "10101", "10101", "01010"],
    "X": ["10001", "10001", "01010", "00100", "01010", "10001", "10001"],
    "Y": ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
    "Z": ["11111", "00001", "00010", "00100", "01000", "10000", "11111"],
}


def dot_matrix_contours(letter: str, cell: int = 100, weight: float = 1.0, slant: float = 0.0):
    """Closed polygons (lists of (x, y)) drawing ``letter``; clockwise, as TrueType wants."""
    rows = DOT_MATRIX[letter]
    size = cell * weight
    inset = (cell - size) / 2
    contours = []
    for row_index, row in enumerate(rows):
        for column, bit in enumerate(row):
            if bit != "1":
                continue
            x0 = 50 + column * cell + inset
            y0 = (6 - row_index) * cell + inset
            square = [(x0, y0), (x0, y0 + size), (x0 + size, y0 + size), (x0 + size, y0)]
            contours.append([(round(x + y * slant), round(y)) for x, y in square])
    return contours


def _draw(pen, contours) -> None:
    for contour in contours:
        pen.moveTo(contour[0])
        for point in contour[1:]:
            pen.lineTo(point)
        pen.closePath()


def glyph_name(char: str) -> str:
    """g_A for ASCII letters and digits; the post table wants ASCII names, so uniXXXX for the others."""
    return f"g_{char}" if char.isascii() and char.isalnum() else f"uni{ord(char):04X}"


def build_font(
    path: str | Path,
    letters: str = "ABCDEFGHIJ",
    *,
    family: str = "Fixture Sans",
    style: str = "Regular",
    cff: bool = False,
    cell: int = 100,
    weight: float = 1.0,
    slant: float = 0.0,
    outlines: dict[str, str] | None = None,
    blank: str = "",
    unmapped: str = "",
    license_text: str = "SIL Open Font License, Version 1.1",
    flavor: str | None = None,
) -> Path:
    """Write a font covering ``letters``. ``outlines={"A": "B"}`` draws B's shape under A (a wrong glyph);
    letters in ``blank`` have empty outlines; letters in ``unmapped`` get a glyph but no cmap entry."""
    path = Path(path)
    outlines = outlines or {}
    glyph_order = [".notdef"] + [glyph_name(c) for c in letters]
    fb = FontBuilder(UPM, isTTF=not cff)
    fb.setupGlyphOrder(glyph_order)
    fb.setupCharacterMap({ord(c): glyph_name(c) for c in letters if c not in unmapped})
    notdef = [[(50, 0), (50, 700), (550, 700), (550, 0)], [(100, 50), (500, 50), (500, 650), (100, 650)]]
    shapes = {".notdef": notdef}
    for c in letters:
        drawn = c not in blank
        shapes[glyph_name(c)] = dot_matrix_contours(outlines.get(c, c), cell, weight, slant) if drawn else []
    advance = 50 + 5 * cell + 50 + int(abs(slant) * 7 * cell)
    if cff:
        charstrings = {}
        for name, contours in shapes.items():
            pen = T2CharStringPen(advance, None)
            _draw(pen, [list(reversed(c)) for c in contours])  # CFF wants counter-clockwise outer contours
            charstrings[name] = pen.getCharString()
        fb.setupCFF(family.replace(" ", "") + "-" + style, {"FullName": f"{family} {style}"}, charstrings, {})
        lsb = {name: 0 for name in glyph_order}
    else:
        glyphs = {}
        for name, contours in shapes.items():
            pen = TTGlyphPen(None)
            _draw(pen, contours)
            glyphs[name] = pen.glyph()
        fb.setupGlyf(glyphs)
        lsb = {name: getattr(glyphs[name], "xMin", 0) for name in glyph_order}
    fb.setupHorizontalMetrics({name: (advance, lsb[name]) for name in glyph_order})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    fb.setupNameTable({"familyName": family, "styleName": style, "licenseDescription": license_text})
    fb.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, usWinAscent=ASCENT, usWinDescent=-DESCENT)
    fb.setupPost()
    if flavor:
        fb.font.flavor = flavor
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    return path


def build_collection(path: str | Path, font_paths: list[Path]) -> Path:
    """Bundle fonts into one TTC (every face readable by face index)."""
    collection = TTCollection()
    collection.fonts = [TTFont(str(p)) for p in font_paths]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    collection.save(str(path))
    return Path(path)


def build_variable_font(
    path: str | Path, letters: str = "ABCDEFGHIJ", family: str = "Fixture Variable"
) -> Path:
    """A TrueType variable font with a wght axis (thin cells at 100, fat at 900) and 3 named instances."""
    path = Path(path)
    build_font(path, letters, family=family, weight=0.5)
    font = TTFont(str(path))
    fb = FontBuilder(font=font)
    fb.setupFvar(
        axes=[("wght", 100, 400, 900, "Weight")],
        instances=[
            {"stylename": "Thin", "location": {"wght": 100}},
            {"stylename": "Regular", "location": {"wght": 400}},
            {"stylename": "Black", "location": {"wght": 900}},
        ],
    )
    variations = {}
    glyf = font["glyf"]
    for name in font.getGlyphOrder():
        glyph = glyf[name]
        count = glyph.numberOfContours if glyph.numberOfContours > 0 else 0
        if name == ".notdef" or count == 0:
            variations[name] = []
            continue
        # Each cell is a 4-point square: grown by 20 units at Black, shrunk by 15 at Thin.
        grow = [(-20, -20), (-20, 20), (20, 20), (20, -20)] * count + [(0, 0)] * 4  # + phantom points
        shrink = [(-dx * 3 // 4, -dy * 3 // 4) for dx, dy in grow]
        variations[name] = [
            TupleVariation({"wght": (0.0, 1.0, 1.0)}, grow),
            TupleVariation({"wght": (-1.0, -1.0, 0.0)}, shrink),
        ]
    fb.setupGvar(variations)
    fb.save(str(path))
    return path


def write_garbage(path: str | Path, kind: str) -> Path:
    """Broken font files: "empty", "random" bytes, or "truncated" (a real font cut in half)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        import random

        path.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(4096)))
    elif kind == "truncated":
        source = build_font(path.with_suffix(".full.ttf"))
        data = source.read_bytes()
        source.unlink()
        path.write_bytes(data[: len(data) // 2])
    else:
        raise ValueError(f"unknown garbage kind {kind!r}")
    return path


def build_bitmap_only_font(path: str | Path) -> Path:
    """A font with a cmap but no outline table (no glyf/CFF), as bitmap-only fonts are."""
    path = build_font(path)
    font = TTFont(str(path))
    del font["glyf"]
    del font["loca"]
    font.save(str(path))
    return Path(path)
