"""Font files: discovery, identity (hashes, keys), formats, names, licences, coverage, the fonts command."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import shutil
import struct
import zlib
from pathlib import Path

import freetype
import pytest
from click.testing import CliRunner
from fontfactory import (
    build_bitmap_only_font,
    build_collection,
    build_font,
    build_variable_font,
    write_garbage,
)
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._g_l_y_f import GlyphCoordinates
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from fontglyphs import fonts as fontmod
from fontglyphs import woff as woffmod
from fontglyphs import woff2 as woff2mod
from fontglyphs.cli import cli
from fontglyphs.errors import FontLoadError, UsageError
from fontglyphs.fonts import (
    FONT_SUFFIXES,
    describe_font,
    discover_font_files,
    face_key,
    file_sha256,
    letters_covered,
    license_id,
    open_faces,
    read_font,
)
from fontglyphs.raster import render_font

SHA = "ab" * 32


# ---------------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path) -> Path:
    for name in ["a/deep/er/One.ttf", "a/Two.OTF", "b/Three.WoFf2", "b/notes.txt", "b/Four.pfb", "Five.ttc",
                 "c/.hidden/Six.otc", "c/Seven.woff", "c/Eight.pfa", "c/readme.md"]:
        path = tmp_path / "fonts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path / "fonts"


def test_discovery_is_recursive_sorted_and_by_suffix_in_any_case(tree):
    found = discover_font_files([tree])
    assert [p.relative_to(tree).as_posix() for p in found] == [
        "Five.ttc", "a/Two.OTF", "a/deep/er/One.ttf", "b/Four.pfb", "b/Three.WoFf2",
        "c/.hidden/Six.otc", "c/Eight.pfa", "c/Seven.woff",
    ]
    assert {".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2", ".pfb", ".pfa"} <= set(FONT_SUFFIXES)


def test_discovery_deduplicates_and_mixes_files_and_folders(tree):
    os.symlink(tree / "a" / "Two.OTF", tree / "c" / "Link.ttf")
    found = discover_font_files([tree / "c", tree / "a" / "Two.OTF", tree / "a", str(tree / "c")])
    names = [p.name for p in found]
    assert len(names) == len(set(names)) == 5  # Link.ttf and Two.OTF are one file
    assert found == sorted(found, key=lambda p: p.as_posix())


def test_explicit_file_is_taken_whatever_its_suffix(tree):
    assert discover_font_files([tree / "b" / "notes.txt"]) == [tree / "b" / "notes.txt"]


def test_missing_path_is_a_usage_error(tree):
    with pytest.raises(UsageError, match="nope: no such file or folder"):
        discover_font_files([tree, tree / "nope"])


def test_symlink_loops_end(tree):
    os.symlink(tree, tree / "a" / "loop")
    assert len(discover_font_files([tree])) == 8


def test_system_adds_the_os_font_folders(tree, monkeypatch):
    monkeypatch.setattr(fontmod, "system_font_dirs", lambda: [tree / "b"])
    assert [p.name for p in discover_font_files([], system=True)] == ["Four.pfb", "Three.WoFf2"]


def test_real_system_font_dirs_exist():
    assert all(path.is_dir() for path in fontmod.system_font_dirs())


# ---------------------------------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------------------------------


def test_file_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"font bytes" * 100_000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 70_000, 3_000_000])
def test_read_file_gives_every_byte(tmp_path, size):
    path = tmp_path / "f.bin"
    path.write_bytes(random.Random(size).randbytes(size))
    assert fontmod.read_file(path) == path.read_bytes()


def test_read_file_reads_on_when_the_file_is_longer_than_its_size_said(tmp_path, monkeypatch):
    """The size comes from fstat before the read: a file that grew in between is still read to its end."""
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 5000)
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((0,) * 6 + (100,) + tuple(real_fstat(fd))[7:]))
    assert fontmod.read_file(path) == path.read_bytes()


def test_read_file_errors_name_the_reason(tmp_path):
    with pytest.raises(FileNotFoundError):
        fontmod.read_file(tmp_path / "missing.ttf")
    with pytest.raises(IsADirectoryError):
        fontmod.read_file(tmp_path)


def test_face_key_is_readable_stable_and_unique():
    key = face_key("fonts/DejaVuSans.ttf", SHA, 0, "")
    assert re.fullmatch(r"DejaVuSans-[0-9a-f]{8}", key)
    assert key == face_key("other/folder/DejaVuSans.ttf", SHA, 0, "")  # derived from the font, not the folder
    variants = {
        key,
        face_key("fonts/DejaVuSans.ttf", SHA, 1, ""),
        face_key("fonts/DejaVuSans.ttf", "cd" * 32, 0, ""),
        face_key("fonts/DejaVuSans.ttf", SHA, 0, "Bold"),
        face_key("fonts/DejaVuSans.ttf", SHA, 0, "Bold Italic"),
    }
    assert len(variants) == 5
    italic = face_key("DejaVuSans.ttf", SHA, 0, "Bold Italic")
    assert re.fullmatch(r"DejaVuSans-Bold_Italic-[0-9a-f]{8}", italic)


@pytest.mark.parametrize(
    "stem", ["Ärger Sans", "a/b\\c:d*e?f", "字体", "..hidden", "x" * 300, "Inter[wght,opsz]"]
)
def test_face_key_is_a_safe_file_name(stem):
    key = face_key(f"{stem}.ttf", SHA, 0, "Semi Bold/Ext")
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}", key), key
    assert len(key) <= 120


# ---------------------------------------------------------------------------------------------------
# Reading, formats, names
# ---------------------------------------------------------------------------------------------------


def test_read_font_formats(tmp_path):
    assert read_font(build_font(tmp_path / "a.ttf")).format == "TrueType"
    assert read_font(build_font(tmp_path / "b.otf", cff=True)).format == "OpenType/CFF"
    assert read_font(build_font(tmp_path / "c.woff", flavor="woff")).format == "WOFF"
    woff2 = read_font(build_font(tmp_path / "d.woff2", flavor="woff2"))
    assert woff2.format == "WOFF2" and woff2.data[:4] == b"\x00\x01\x00\x00"  # decompressed for FreeType
    collection = read_font(build_collection(tmp_path / "e.ttc", [tmp_path / "a.ttf", tmp_path / "a.ttf"]))
    assert (collection.format, collection.faces) == ("TTC", 2)
    path = tmp_path / "a.ttf"
    font = read_font(path)
    assert font.sha256 == file_sha256(path) and font.path == str(path)
    assert read_font(path, font_sha256="given").sha256 == "given"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("empty", "empty file"), ("random", r"not a font file \(unrecognised"),
     ("truncated", r"truncated \(table '\w+' ends at byte")],
)
def test_unusable_files_say_why(tmp_path, kind, reason):
    path = write_garbage(tmp_path / f"{kind}.ttf", kind)
    with pytest.raises(FontLoadError, match=f"^{re.escape(str(path))}: {reason}"):
        open_faces(path)


def test_bitmap_only_font_names_its_bitmap_tables(tmp_path):
    path = build_bitmap_only_font(tmp_path / "Bitmap.ttf")
    font = TTFont(str(path))
    font["EBDT"] = DefaultTable("EBDT")  # raw bytes under the bitmap tag will do
    font["EBDT"].data = b"\x00\x02\x00\x00"
    font.save(str(path))
    with pytest.raises(FontLoadError, match=r"bitmap-only font \(EBDT\)"):
        read_font(path)


def test_one_table_is_found_by_its_tag_not_by_the_same_bytes_elsewhere_in_the_directory():
    """The directory entry of 'head' carries the bytes b"name" as its checksum; the name table is the
    entry after it. A table cut off by the end of the data is not handed out."""
    head, name = b"H" * 8, b"N" * 6
    data = struct.pack(">IHHHH", 0x00010000, 2, 32, 1, 0)
    data += b"head" + b"name" + struct.pack(">II", 44, len(head))
    data += b"name" + bytes(4) + struct.pack(">II", 44 + len(head), len(name))
    data += head + name
    assert fontmod._sfnt_table(data, 0, b"name") == (52, 6)
    assert fontmod._sfnt_table(data, 0, b"head") == (44, 8)
    assert fontmod._sfnt_table(data, 0, b"glyf") is None
    assert fontmod._sfnt_table(data[:-1], 0, b"name") is None


def test_names_and_licence_from_the_name_table(tmp_path):
    path = build_font(tmp_path / "Named.ttf", family="Plain Family", style="Bold",
                      license_text="Licensed under the Apache License, Version 2.0")
    (face,) = open_faces(path)
    assert (face.info.family, face.info.style, face.info.license) == ("Plain Family", "Bold", "Apache-2.0")
    assert face.info.key == face_key(path, file_sha256(path), 0, "")

    font = TTFont(str(path))
    font["name"].setName("Plain Super", 16, 3, 1, 0x409)  # the typographic family wins over ID 1
    font["name"].setName("Condensed Bold", 17, 3, 1, 0x409)
    font["name"].removeNames(nameID=13)
    font.save(str(path))
    (face,) = open_faces(path)
    assert face.info.family == "Plain Super" and face.info.style == "Condensed Bold"
    assert face.info.license == "unknown"


def test_faces_of_collections_and_instances(tmp_path):
    a = build_font(tmp_path / "A.ttf", family="Alpha")
    b = build_font(tmp_path / "B.ttf", family="Beta", style="Italic")
    faces = open_faces(build_collection(tmp_path / "AB.ttc", [a, b]))
    assert [(f.info.face_index, f.info.family, f.info.style) for f in faces] == [(0, "Alpha", "Regular"),
                                                                                 (1, "Beta", "Italic")]
    variable = build_variable_font(tmp_path / "V.ttf")
    assert [f.info.instance for f in open_faces(variable)] == ["Thin", "Regular", "Black"]
    assert [f.info.instance for f in open_faces(variable, instances=False)] == [""]


@pytest.mark.parametrize(
    ("description", "url", "expected"),
    [
        ("This Font Software is licensed under the SIL Open Font License, Version 1.1.", "", "OFL-1.1"),
        ("", "https://openfontlicense.org", "OFL-1.1"),
        ("Licensed under the Apache License, Version 2.0", "", "Apache-2.0"),
        ("This Font Software is licensed under the Ubuntu Font Licence, Version 1.0.", "", "UFL-1.0"),
        ("Fonts are (c) Bitstream (see below). DejaVu changes are in public domain.", "", "Bitstream-Vera"),
        ("GNU General Public License v2 with the font exception", "", "GPL-with-font-exception"),
        ("Permission is hereby granted, free of charge, to any person", "", "MIT"),
        ("Do what you like with it, but credit Ann Example in every derived work.", "",
         "Do what you like with it, but credit Ann Example in every d…"),  # 60 characters
        ("", "", "unknown"),
    ],
)
def test_license_id(description, url, expected):
    assert license_id(description, url) == expected


def test_letters_covered(tmp_path):
    (face,) = open_faces(build_font(tmp_path / "P.ttf", letters="ABCDE", unmapped="C"))
    assert letters_covered(face.ft, "EDCBAZ") == ["E", "D", "B", "A"]


# ---------------------------------------------------------------------------------------------------
# describe_font and the fonts command
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("listing")
    build_font(root / "Plain.ttf", family="Plain Sans")
    build_font(root / "sub" / "Partial.otf", letters="ABC", family="Partial", cff=True)
    build_variable_font(root / "Var.ttf")
    write_garbage(root / "bad" / "Broken.ttf", "random")
    return root


def test_describe_font(listing):
    (row,) = describe_font(listing / "sub" / "Partial.otf", "ABCD")
    assert (row.format, row.face, row.family, row.covered, row.missing) == ("OpenType/CFF", "1/1", "Partial",
                                                                            ("A", "B", "C"), ("D",))
    (bad,) = describe_font(listing / "bad" / "Broken.ttf", "AB")
    assert bad.error.startswith("not a font file") and bad.covered == ()
    assert [r.face for r in describe_font(listing / "Var.ttf", "A")] == ["1/3", "2/3", "3/3"]


def test_fonts_command_lists_every_face(listing):
    result = CliRunner().invoke(cli, ["fonts", str(listing), "--letters", "A-D"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["FILE", "FORMAT", "FACE", "FAMILY", "STYLE", "LICENCE", "LETTERS"]
    body = "\n".join(lines[1:])
    assert re.search(r"Plain\.ttf\s+TrueType\s+1/1\s+Plain Sans\s+Regular\s+OFL-1\.1\s+4/4$", body, re.M)
    assert re.search(r"Partial\.otf\s+OpenType/CFF\s+1/1\s+Partial\s+Regular\s+OFL-1\.1\s+3/4 \(no D\)", body)
    assert len(re.findall(r"Var\.ttf\s+TrueType\s+\d/3\s+Fixture Variable", body)) == 3
    assert re.search(r"Broken\.ttf\s+\?\s+rejected: not a font file", body)
    assert lines[-1] == "4 files, 5 faces, 1 rejected"


def test_fonts_command_options(listing):
    runner = CliRunner()
    result = runner.invoke(cli, ["fonts", str(listing / "Var.ttf"), "--no-instances", "--quiet"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    assert "10/10" in result.output  # A-J by default


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "give font files or folders, or --system"),
     (["missing-dir"], "missing-dir: no such file or folder"),
     (["{dir}", "--letters", "A,A"], "given more than once")],
)
def test_fonts_command_bad_input_exits_2(listing, args, message):
    args = [a.replace("{dir}", str(listing)) for a in args]
    result = CliRunner().invoke(cli, ["fonts", *args])
    assert result.exit_code == 2 and message in result.output


def test_fonts_command_help():
    result = CliRunner().invoke(cli, ["fonts", "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "Example:" in result.output


def test_fonts_command_lists_each_file_even_identical_copies(listing, tmp_path):
    shutil.copy(listing / "Plain.ttf", tmp_path / "Copy.ttf")
    args = ["fonts", str(tmp_path), str(listing / "Plain.ttf")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0 and result.output.count("Plain Sans") == 2


# ---------------------------------------------------------------------------------------------------
# WOFF2: the fast decoder agrees with fontTools
# ---------------------------------------------------------------------------------------------------


def _outlines(sfnt: bytes) -> dict[str, tuple]:
    from fontTools.pens.recordingPen import RecordingPen

    font = TTFont(io.BytesIO(sfnt))
    glyphs, result = font.getGlyphSet(), {}
    for name in font.getGlyphOrder():
        pen = RecordingPen()
        glyphs[name].draw(pen)
        glyph = font["glyf"][name]
        box = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) if glyph.numberOfContours else None
        code = glyph.program.getBytecode() if hasattr(glyph, "program") else b""
        result[name] = (pen.value, font["hmtx"][name], box, code)
    return result


def _woff2_with_instructions_and_a_composite(tmp_path: Path, letters: str = "ABCDEFGHIJK") -> Path:
    """A WOFF2 (glyf, loca and hmtx transformed) whose A has long instructions (a 3-byte 255UInt16 length)
    and whose K is a composite of I and E with instructions of its own."""
    from fontTools.ttLib.tables import ttProgram
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent
    from fontTools.ttLib.woff2 import compress

    path = build_font(tmp_path / "Src.ttf", letters=letters, slant=0.3, outlines={"\U0001d400": "A"})
    font = TTFont(str(path))
    glyf = font["glyf"]
    program = ttProgram.Program()
    program.fromBytecode(bytes([0xB0, 0x01, 0x2B] * 100))
    glyf["g_A"].program = program
    composite = Glyph()
    composite.numberOfContours = -1
    composite.components = []
    for name, dx, dy in (("g_I", 0, 0), ("g_E", 700, -300)):  # a word offset and a byte offset
        component = GlyphComponent()
        component.glyphName, component.x, component.y, component.flags = name, dx, dy, 0x4
        composite.components.append(component)
    composite.program = program
    glyf["g_K"] = composite
    composite.recalcBounds(glyf)
    font["hmtx"]["g_K"] = (1500, composite.xMin)
    font.save(str(path))
    woff2 = tmp_path / "Src.woff2"
    compress(str(path), str(woff2), transform_tables={"glyf", "loca", "hmtx"})
    return woff2


def test_fast_woff2_decoder_matches_fonttools(tmp_path):
    data = _woff2_with_instructions_and_a_composite(tmp_path).read_bytes()
    fast, slow = woff2mod.decompress_woff2(data), fontmod._decompress_woff2_fonttools(data)
    assert _outlines(fast) == _outlines(slow)
    images = render_font(tmp_path / "Src.woff2", "AIK")[0].images
    assert list(images) == ["A", "I", "K"]


def test_woff2_triplets_of_every_size_and_sign_decode_as_fonttools_does(tmp_path):
    """A glyph whose point-to-point steps span every class of the triplet table (dx only, dy only, nibbles,
    bytes, 12 and 16 bits), with both signs on each axis and points on and off the curve."""
    from fontTools.ttLib.tables._g_l_y_f import Glyph
    from fontTools.ttLib.woff2 import compress

    path = build_font(tmp_path / "Steps.ttf", letters="AB")
    font = TTFont(str(path))
    rng = random.Random(5)
    steps = [(0, 5), (0, -700), (9, 0), (-900, 0), (3, -12), (-15, 2), (200, -900), (-1000, 40),
             (3000, -1500), (-4000, 4000), (9000, -7000), (-20000, 15000)]
    x = y = 0
    coordinates, flags = [], []
    for _ in range(400):
        dx, dy = rng.choice(steps)
        dx, dy = rng.choice((dx, -dx)), rng.choice((dy, -dy))
        x, y = max(-12000, min(12000, x + dx)), max(-12000, min(12000, y + dy))
        coordinates.append((x, y))
        flags.append(rng.choice((0, 1)))
    glyph = Glyph()
    glyph.numberOfContours, glyph.endPtsOfContours = 2, [199, 399]
    glyph.coordinates = GlyphCoordinates(coordinates)
    glyph.flags = bytearray(flags)
    glyph.program = ttProgram.Program()
    glyph.program.fromBytecode(b"")
    font["glyf"]["g_A"] = glyph
    glyph.recalcBounds(font["glyf"])
    font.save(str(path))
    woff2 = tmp_path / "Steps.woff2"
    compress(str(path), str(woff2), transform_tables={"glyf", "loca"})
    data = woff2.read_bytes()
    fast = _outlines(woff2mod.decompress_woff2(data, "A"))["g_A"]
    assert fast == _outlines(fontmod._decompress_woff2_fonttools(data))["g_A"]
    assert fast[0] == _outlines(path.read_bytes())["g_A"][0]  # the outline that was drawn, point for point


def test_woff2_bounding_boxes_computed_and_stored_side_by_side_decode_as_fonttools_does(tmp_path):
    """WOFF2 stores a simple glyph's bounding box only when it is not the box of its points; the decoder
    computes the others. Here a small A is followed by a large B whose stored box is looser still, then C:
    A's box must come from A's points alone, and so must the hmtx side bearings taken from it."""
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib.woff2 import compress

    def square(x0, y0, x1, y1):
        pen = TTGlyphPen(None)
        pen.moveTo((x0, y0))
        for point in ((x0, y1), (x1, y1), (x1, y0)):
            pen.lineTo(point)
        pen.closePath()
        return pen.glyph()

    path = build_font(tmp_path / "Boxes.ttf", letters="ABC")
    font = TTFont(str(path), recalcBBoxes=False)
    glyf = font["glyf"]
    glyf["g_A"], glyf["g_B"] = square(100, 100, 200, 200), square(-300, -300, 900, 900)
    for name in ("g_A", "g_B", "g_C"):
        glyf[name].recalcBounds(glyf)
    stored = glyf["g_B"]
    stored.xMin, stored.yMin, stored.xMax, stored.yMax = -800, -700, 1200, 1100
    for name in font.getGlyphOrder():  # side bearings equal to xMin, so that WOFF2 leaves them out
        if glyf[name].numberOfContours:
            font["hmtx"][name] = (font["hmtx"][name][0], glyf[name].xMin)
    font.save(str(path))
    woff2 = tmp_path / "Boxes.woff2"
    compress(str(path), str(woff2), transform_tables={"glyf", "loca", "hmtx"})
    data = woff2.read_bytes()
    slow = _outlines(fontmod._decompress_woff2_fonttools(data))
    assert slow["g_A"][1:3] == ((600, 100), (100, 100, 200, 200))  # the font is as intended
    for chars in ("ABC", None):
        fast = _outlines(woff2mod.decompress_woff2(data, chars))
        assert {name: fast[name] for name in ("g_A", "g_B", "g_C")} == {
            name: slow[name] for name in ("g_A", "g_B", "g_C")
        }


def _random_glyph_set(tmp_path: Path, seed: int) -> Path:
    """A WOFF2 of 26 letters whose glyphs are random and of every kind, side by side in random order: polygons
    and quadratic curves of random sizes, simple glyphs whose stored box is looser than their points,
    composites of earlier glyphs at byte and word offsets, empty glyphs, instructions up to 300 bytes. Side
    bearings are all xMin (so hmtx is stored transformed, without them) or all random."""
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent
    from fontTools.ttLib.woff2 import compress

    rng = random.Random(seed)
    path = build_font(tmp_path / f"Random{seed}.ttf", letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    font = TTFont(str(path), recalcBBoxes=False)
    glyf, hmtx = font["glyf"], font["hmtx"]
    simple: list[str] = []
    for name in font.getGlyphOrder()[1:]:
        kind = rng.random()
        if kind < 0.1:
            glyph = Glyph()
            glyph.numberOfContours = 0
        elif kind < 0.3 and simple:
            glyph = Glyph()
            glyph.numberOfContours, glyph.components = -1, []
            for _ in range(rng.randint(1, 2)):
                component = GlyphComponent()
                component.glyphName = rng.choice(simple)
                component.x, component.y = rng.choice([(0, 0), (90, -40), (700, 300), (-1200, 2000)])
                component.flags = 0x4
                glyph.components.append(component)
        else:
            pen, size = TTGlyphPen(None), rng.choice([40, 400, 3000])
            for _ in range(rng.randint(1, 3)):
                count = rng.randint(3, 12)
                points = [(rng.randint(-size, size), rng.randint(-size, size)) for _ in range(count)]
                pen.moveTo(points[0])
                for k in range(1, len(points) - 1, 2):
                    pen.qCurveTo(points[k], points[k + 1]) if rng.random() < 0.5 else pen.lineTo(points[k])
                pen.closePath()
            glyph = pen.glyph()
            simple.append(name)
        if rng.random() < 0.3:
            glyph.program = ttProgram.Program()
            glyph.program.fromBytecode(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))))
        glyf[name] = glyph
        glyph.recalcBounds(glyf)
        if glyph.numberOfContours > 0 and rng.random() < 0.3:  # a stored box looser than the points
            glyph.xMin, glyph.yMin = glyph.xMin - rng.randint(1, 500), glyph.yMin - rng.randint(1, 500)
            glyph.xMax, glyph.yMax = glyph.xMax + rng.randint(1, 500), glyph.yMax + rng.randint(1, 500)
    bearings_are_xmin = seed % 2 == 0
    for name in font.getGlyphOrder():
        glyph = glyf[name]
        x_min = glyph.xMin if glyph.numberOfContours else 0
        hmtx[name] = (hmtx[name][0], x_min if bearings_are_xmin else rng.randint(-300, 300))
    font.save(str(path))
    woff2 = tmp_path / f"Random{seed}.woff2"
    compress(str(path), str(woff2), transform_tables={"glyf", "loca", "hmtx"})
    return woff2


@pytest.mark.parametrize("seed", range(8))
def test_woff2_decoder_matches_fonttools_on_random_glyph_sets(tmp_path, seed):
    """Decoded whole, and for random sets of letters, every glyph kept is as fontTools decodes it."""
    data = _random_glyph_set(tmp_path, seed).read_bytes()
    slow = _outlines(fontmod._decompress_woff2_fonttools(data))
    assert _outlines(woff2mod.decompress_woff2(data)) == slow
    reference = TTFont(io.BytesIO(fontmod._decompress_woff2_fonttools(data)))
    rng = random.Random(seed)
    for _ in range(3):
        letters = "".join(rng.sample("ABCDEFGHIJKLMNOPQRSTUVWXYZ", rng.randint(1, 10)))
        kept, todo = {".notdef"}, [f"g_{letter}" for letter in letters]
        while todo:  # the letters' glyphs and, recursively, their components
            name = todo.pop()
            if name not in kept:
                kept.add(name)
                todo += reference["glyf"][name].getComponentNames(reference["glyf"])
        fast = _outlines(woff2mod.decompress_woff2(data, letters))
        assert {name: fast[name] for name in kept} == {name: slow[name] for name in kept}, letters


def test_woff2_decoder_rebuilds_only_the_glyphs_of_the_letters_asked_for(tmp_path):
    # U+1D400 lies beyond the BMP, so the cmap has a format 12 subtable beside the format 4 one.
    data = _woff2_with_instructions_and_a_composite(tmp_path, "ABCDEFGHIJK\U0001d400").read_bytes()
    full = _outlines(woff2mod.decompress_woff2(data))
    subset = _outlines(woff2mod.decompress_woff2(data, "K\U0001d400"))
    kept = {".notdef", "g_K", "g_I", "g_E", "uni1D400"}  # K's components come along
    assert {name for name, outline in subset.items() if outline[0]} == kept
    assert all(subset[name] == full[name] for name in kept)
    path = tmp_path / "Src.woff2"
    assert render_font(path, "KB\U0001d400")[0].images.keys() == {"K", "B", "\U0001d400"}
    whole = fontmod.read_font(path)  # no letters given: every glyph rebuilt
    assert _outlines(whole.data) == full


def test_fast_woff2_decoder_rejects_what_it_cannot_read(tmp_path):
    data = build_font(tmp_path / "W.woff2", flavor="woff2").read_bytes()
    with pytest.raises((ValueError, IndexError)):
        woff2mod.decompress_woff2(data[: len(data) // 2])
    collection = bytearray(data)
    collection[4:8] = b"ttcf"
    with pytest.raises(ValueError, match="collections"):
        woff2mod.decompress_woff2(bytes(collection))
    with pytest.raises(FontLoadError, match="corrupt WOFF2"):
        read_font(tmp_path / "Half.woff2", data[: len(data) // 2])


# ---------------------------------------------------------------------------------------------------
# WOFF: inflated as far as the letters asked for need
# ---------------------------------------------------------------------------------------------------


def _glyph_bytes(sfnt: bytes) -> list[bytes]:
    """Each glyph's bytes in the glyf table of a TrueType sfnt, by glyph id, as loca cuts them."""
    tables = fontmod._table_directory(sfnt, 0)

    def table(tag: bytes) -> bytes:
        start, length = tables[tag]
        return sfnt[start:start + length]

    long_format = struct.unpack_from(">h", table(b"head"), 50)[0] == 1
    count = struct.unpack_from(">H", table(b"maxp"), 4)[0]
    loca = struct.unpack_from(f">{count + 1}{'I' if long_format else 'H'}", table(b"loca"))
    scale, glyf = (1 if long_format else 2), table(b"glyf")
    return [glyf[start * scale:end * scale] for start, end in zip(loca, loca[1:], strict=False)]


def _woff_whose_b_uses_j(tmp_path: Path, variation_sequences: bool = False) -> Path:
    """A WOFF of A-K whose B is a composite of J: B's outline lies early in the glyf table, the one it is
    drawn from near its end, and K after it."""
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent

    path = build_font(tmp_path / "Src.ttf", letters="ABCDEFGHIJK")
    font = TTFont(str(path))
    glyf = font["glyf"]
    component = GlyphComponent()
    component.glyphName, component.x, component.y, component.flags = "g_J", 0, 0, 0x4
    composite = Glyph()
    composite.numberOfContours, composite.components = -1, [component]
    glyf["g_B"] = composite
    composite.recalcBounds(glyf)
    if variation_sequences:  # a format 14 subtable (platform 0, encoding 5) beside the format 4 one
        table = CmapSubtable.newSubtable(14)
        table.platformID, table.platEncID, table.language = 0, 5, 0xFF
        table.cmap, table.uvsDict = {}, {0xFE00: [(ord("A"), None)]}
        font["cmap"].tables.append(table)
    font.save(str(path))
    font = TTFont(str(path))
    font.flavor = "woff"
    woff = tmp_path / "Src.woff"
    font.save(str(woff))
    return woff


@pytest.mark.parametrize("variation_sequences", [False, True])
def test_woff_decoder_inflates_only_the_glyphs_of_the_letters_asked_for(tmp_path, variation_sequences):
    data = _woff_whose_b_uses_j(tmp_path, variation_sequences).read_bytes()
    full = _glyph_bytes(woffmod.decompress_woff(data))
    subset = _glyph_bytes(woffmod.decompress_woff(data, "B"))
    # Inflated up to the end of J (glyph 10), B's component: every glyph before it comes whole, K after it
    # empty; the same ids.
    assert len(subset) == len(full) == 12
    assert subset[:11] == full[:11] and subset[11] == b"" and full[11]
    assert _glyph_bytes(fontmod._sniff(data)[1]) == full  # no letters given: every glyph inflated
    ttf = render_font(tmp_path / "Src.ttf", "ABJ")[0].images
    woff = render_font(tmp_path / "Src.woff", "ABJ")[0].images
    assert woff.keys() == ttf.keys() == {"A", "B", "J"}
    assert all((woff[letter] == ttf[letter]).all() for letter in ttf)


def test_woff_decoder_drops_layout_tables_only_when_drawing_some_letters(tmp_path):
    path = build_font(tmp_path / "Src.ttf")
    font = TTFont(str(path))
    font["GDEF"] = DefaultTable("GDEF")
    font["GDEF"].data = bytes(12)
    font.flavor = "woff"
    font.save(str(tmp_path / "Src.woff"))
    data = (tmp_path / "Src.woff").read_bytes()
    assert "GDEF" in TTFont(io.BytesIO(woffmod.decompress_woff(data)))
    assert "GDEF" not in TTFont(io.BytesIO(woffmod.decompress_woff(data, "AB")))


def test_broken_woff_goes_to_freetype_which_says_why(tmp_path):
    data = build_font(tmp_path / "W.woff", flavor="woff").read_bytes()
    half = data[: len(data) * 3 // 4]
    with pytest.raises((ValueError, struct.error, zlib.error)):
        woffmod.decompress_woff(half, "A")
    with pytest.raises(FontLoadError, match="Half.woff: truncated|Half.woff: FreeType cannot open it"):
        open_faces(tmp_path / "Half.woff", data=half)


@pytest.mark.parametrize(
    ("name", "stem"),
    [("Plain.ttf", "Plain"), ("a.tar.gz", "a.tar"), (".hidden", ".hidden"), ("x.", "x."), ("noext", "noext"),
     ("dir/Sub.Font.otf", "Sub.Font"), ("...", "...")],
)
def test_file_stem_is_what_keys_are_made_of(name, stem):
    assert fontmod.file_stem(name) == stem


def test_woff_whose_header_miscounts_its_length_still_renders(tmp_path):
    # Seen in the wild (a @fontsource build): 28 bytes past the length the header gives, which FreeType's
    # own WOFF reader refuses ("broken table"); the tables themselves are sound.
    data = build_font(tmp_path / "Src.woff", flavor="woff").read_bytes() + bytes(28)
    padded = tmp_path / "Padded.woff"
    padded.write_bytes(data)
    with pytest.raises(freetype.FT_Exception):
        freetype.Face(str(padded))
    assert render_font(padded, "ABC")[0].images.keys() == {"A", "B", "C"}
