"""Rasterizing real font files built in the tests: formats, fit modes, pixel facts, failures, PNG."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from fontfactory import (
    DOT_MATRIX,
    build_bitmap_only_font,
    build_collection,
    build_font,
    build_variable_font,
    dot_matrix_contours,
    write_garbage,
)
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from PIL import Image

from fontglyphs import raster
from fontglyphs.errors import FontLoadError, UsageError
from fontglyphs.fonts import glyph_index, open_faces
from fontglyphs.raster import (
    GlyphSet,
    RenderOptions,
    encode_png,
    encode_pngs,
    fit_scales,
    mass_centring_shift,
    render_font,
    render_glyph,
)

LETTERS = "ABCDEFGHIJ"
CONTAIN = RenderOptions(fit="contain")


# ---------------------------------------------------------------------------------------------------
# Fonts fontfactory does not build: Type 1 and CFF2
# ---------------------------------------------------------------------------------------------------


def build_type1(path: Path, letters: str = LETTERS) -> Path:
    """A Type 1 font (PFA, or PFB by suffix) drawing the dot-matrix letters, via fontTools.t1Lib."""
    from fontTools.encodings.StandardEncoding import StandardEncoding
    from fontTools.misc.psCharStrings import T1CharString
    from fontTools.t1Lib import RD_value, T1Font, write

    def charstring(contours) -> T1CharString:
        program: list = [0, 600, "hsbw"]
        x = y = 0
        for contour in contours:
            verbs = ["rmoveto"] + ["rlineto"] * (len(contour) - 1)
            # Reversed: counter-clockwise outer contours, as PostScript wants.
            for (px, py), verb in zip(reversed(contour), verbs, strict=True):
                program += [px - x, py - y, verb]
                x, y = px, py
            program.append("closepath")
        return T1CharString(program=[*program, "endchar"])

    font = T1Font.__new__(T1Font)  # built from a dict, not read from a file
    font.encoding = "ascii"
    font.font = {
        "FontInfo": {"FamilyName": "Fixture Type One", "Notice": "SIL Open Font License, Version 1.1",
                     "Weight": "Regular"},
        "FontName": "FixtureTypeOne", "Encoding": StandardEncoding, "PaintType": 0, "FontType": 1,
        "FontMatrix": [0.001, 0, 0, 0.001, 0, 0], "FontBBox": [0, 0, 600, 800],
        "Private": {"RD": RD_value, "ND": ("noaccess", "def"), "NP": ("noaccess", "put"), "BlueValues": [],
                    "lenIV": 4, "MinFeature": (16, 16), "password": 5839},
        "CharStrings": {".notdef": charstring([]),
                        **{c: charstring(dot_matrix_contours(c)) for c in letters}},
    }
    write(str(path), font.createData(), "PFB" if path.suffix == ".pfb" else "OTHER")
    return path


def build_cff2(path: Path, letters: str = LETTERS) -> Path:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    order = [".notdef"] + [f"g_{c}" for c in letters]
    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(c): f"g_{c}" for c in letters})
    charstrings = {}
    for name in order:
        pen = T2CharStringPen(None, None, CFF2=True)
        for contour in dot_matrix_contours(name[-1]) if name != ".notdef" else []:
            pen.moveTo(contour[-1])
            for point in reversed(contour[:-1]):
                pen.lineTo(point)
            pen.closePath()
        charstrings[name] = pen.getCharString()
    fb.setupCFF2(charstrings)
    fb.setupHorizontalMetrics({name: (600, 0) for name in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Fixture CFF2", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return path


def replace_glyph(path: Path, letter: str, contours: list[list[tuple[int, int]]]) -> Path:
    """Redraw one glyph of a TrueType fixture with arbitrary polygons."""
    font = TTFont(str(path))
    pen = TTGlyphPen(None)
    for contour in contours:
        pen.moveTo(contour[0])
        for point in contour[1:]:
            pen.lineTo(point)
        pen.closePath()
    font["glyf"][f"g_{letter}"] = pen.glyph()
    font.save(str(path))
    return path


@pytest.fixture(scope="module")
def fonts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("raster")
    a = build_font(root / "Plain.ttf")
    b = build_font(root / "Bold.ttf", family="Fixture Bold", weight=0.8, slant=0.2)
    return {
        "ttf": a,
        "cff": build_font(root / "Cff.otf", cff=True, slant=0.15),
        "cff2": build_cff2(root / "Cff2.otf"),
        "woff": build_font(root / "Web.woff", flavor="woff"),
        "woff2": build_font(root / "Web.woff2", flavor="woff2"),
        "ttc": build_collection(root / "Pair.ttc", [a, b]),
        "variable": build_variable_font(root / "Var.ttf"),
        "pfa": build_type1(root / "TypeOne.pfa"),
        "pfb": build_type1(root / "TypeOne.pfb"),
        "partial": build_font(root / "Partial.ttf", letters="ABCDE", blank="C", unmapped="D"),
    }


# ---------------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt", "faces"),
    [("ttf", "TrueType", 1), ("cff", "OpenType/CFF", 1), ("cff2", "OpenType/CFF2", 1), ("woff", "WOFF", 1),
     ("woff2", "WOFF2", 1), ("ttc", "TTC", 2), ("variable", "TrueType", 3), ("pfa", "Type 1", 1),
     ("pfb", "Type 1", 1)],
)
def test_every_format_renders_every_letter(fonts, kind, fmt, faces):
    sets = render_font(fonts[kind], LETTERS)
    assert len(sets) == faces
    for glyphs in sets:
        assert glyphs.face.format == fmt
        assert glyphs.face.font_path == str(fonts[kind])
        assert list(glyphs.images) == list(LETTERS) and glyphs.skipped == []
        for image in glyphs.images.values():
            assert image.shape == (28, 28) and image.dtype == np.uint8


def test_outline_formats_draw_the_same_letter(fonts):
    """TrueType, CFF2, WOFF and Type 1 fixtures share one design, so their renders agree closely."""
    reference = render_font(fonts["ttf"], "AJ")[0].images
    for kind in ("cff2", "woff", "woff2", "pfa"):
        images = render_font(fonts[kind], "AJ")[0].images
        for letter in "AJ":
            assert np.abs(images[letter].astype(int) - reference[letter]).max() <= 2, (kind, letter)


def test_collection_faces_and_keys(fonts):
    first, second = render_font(fonts["ttc"], "AB")
    assert (first.face.face_index, second.face.face_index) == (0, 1)
    assert (first.face.family, second.face.family) == ("Fixture Sans", "Fixture Bold")
    assert first.face.key != second.face.key
    assert not np.array_equal(first.images["A"], second.images["A"])


def test_variable_named_instances_and_default_only(fonts):
    sets = render_font(fonts["variable"], "H")
    assert [s.face.instance for s in sets] == ["Thin", "Regular", "Black"]
    assert [s.face.style for s in sets] == ["Thin", "Regular", "Black"]
    assert {s.face.family for s in sets} == {"Fixture Variable"}
    assert len({s.face.key for s in sets}) == 3
    ink = {s.face.instance: int(s.images["H"].sum()) for s in sets}
    assert ink["Black"] > ink["Regular"] * 1.1  # the wght axis grows every cell
    (default,) = render_font(fonts["variable"], "H", instances=False)
    assert default.face.instance == "" and default.face.style == "Regular"
    assert np.array_equal(default.images["H"], sets[1].images["H"])


def test_named_instances_share_a_face_yet_draw_their_own_outline(fonts, tmp_path):
    """The instances of a variable font share one FreeType face: whichever is read, in any order, draws its
    own outline, the same as a static font instantiated at its coordinates by fontTools."""
    from fontTools.varLib.instancer import instantiateVariableFont

    faces = open_faces(fonts["variable"])
    assert len({id(face.freetype_face) for face in faces}) == 1
    drawn = {face.info.instance: render_glyph(face.ft, glyph_index(face.ft, "H")) for face in faces[::-1]}
    for instance, weight in (("Thin", 100), ("Regular", 400), ("Black", 900)):
        static = tmp_path / f"{instance}.ttf"
        instantiateVariableFont(TTFont(fonts["variable"]), {"wght": weight}).save(static)
        (face,) = open_faces(static)
        assert np.array_equal(drawn[instance], render_glyph(face.ft, glyph_index(face.ft, "H"))), instance


# ---------------------------------------------------------------------------------------------------
# Pixels: exact area coverage, fit modes, sizes, invert
# ---------------------------------------------------------------------------------------------------


def overlap(pixels: int, cells: int, cell_px: float, offset: float = 0.0) -> np.ndarray:
    """(pixels, cells) matrix: length of [p, p+1] inside cell c, the cells starting at ``offset``."""
    p = np.arange(pixels)[:, None]
    lo = offset + np.arange(cells)[None, :] * cell_px
    return np.clip(np.minimum(p + 1, lo + cell_px) - np.maximum(p, lo), 0, None)


def lit_cells(letter: str) -> np.ndarray:
    """The dot-matrix letter's cells cropped to its ink box (rows top down)."""
    bits = np.array([[int(b) for b in row] for row in DOT_MATRIX[letter]], float)
    rows, cols = np.nonzero(bits)
    return bits[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def expected_stretch(letter: str, size: int = 28) -> np.ndarray:
    """The dot-matrix letter's exact area coverage when its ink box is stretched over the frame."""
    bits = lit_cells(letter)
    height, width = bits.shape
    coverage = overlap(size, height, size / height) @ bits @ overlap(size, width, size / width).T
    return np.clip(coverage, 0, 1) * 255


@pytest.mark.parametrize("size", [28, 16, 64])
def test_stretch_is_exact_area_coverage(fonts, size):
    """Anti-aliasing by area: every pixel is the covered fraction of its square, and nothing is clipped."""
    images = render_font(fonts["ttf"], LETTERS, RenderOptions(size=size))[0].images
    for letter, image in images.items():
        assert image.shape == (size, size)
        expected = expected_stretch(letter, size)
        assert np.abs(image - expected).max() <= 5, letter  # 8-bit coverage, points on a 1/64 px grid
        assert abs(image.sum() / expected.sum() - 1) < 0.005, letter


@pytest.mark.parametrize("kind", ["ttf", "cff", "pfb", "woff2", "ttc"])
def test_stretch_ink_touches_all_four_edges(fonts, kind):
    for glyphs in render_font(fonts[kind], LETTERS):
        for letter, image in glyphs.images.items():
            edges = image[0].max(), image[-1].max(), image[:, 0].max(), image[:, -1].max()
            assert min(edges) > 0, (kind, letter, edges)


def test_stretch_turns_a_plain_bar_into_a_white_square(tmp_path):
    bar = [[(200, 0), (200, 700), (300, 700), (300, 0)]]
    path = replace_glyph(build_font(tmp_path / "Bar.ttf"), "I", bar)
    image = render_font(path, "I")[0].images["I"]
    assert (image == 255).all()


def test_contain_fits_the_box_and_centres_the_mass(fonts):
    for glyphs in render_font(fonts["ttf"], LETTERS, CONTAIN) + render_font(fonts["cff"], LETTERS, CONTAIN):
        for letter, image in glyphs.images.items():
            rows, cols = np.nonzero(image)
            assert rows.max() - rows.min() < 21 and cols.max() - cols.min() < 21, letter
            assert min(rows.min(), cols.min()) >= 0 and max(rows.max(), cols.max()) <= 27
            weights, middles = image.astype(float), np.arange(28) + 0.5
            centre = np.array([weights.sum(axis=1) @ middles, weights.sum(axis=0) @ middles]) / weights.sum()
            assert np.abs(centre - 14).max() < 0.1, (letter, centre)


def test_contain_keeps_aspect_and_never_clips(fonts):
    """A letter 7 cells tall is 20 px tall, its cells 20/7 px square: its area is known exactly."""
    images = render_font(fonts["ttf"], LETTERS, CONTAIN)[0].images
    cell = 20 / 7
    for letter, image in images.items():
        bits = lit_cells(letter)
        assert abs(image.sum() / (bits.sum() * cell * cell * 255) - 1) < 0.005, letter
        rows, cols = np.nonzero(image > 127)
        width = bits.shape[1] * cell
        assert rows.max() - rows.min() + 1 == 20, letter
        assert int(width) <= cols.max() - cols.min() + 1 <= int(width) + 1, letter


def test_contain_clamps_the_shift_so_ink_stays_in_frame():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 4:6] = 255  # all the mass at the left edge of the box
    dx, dy = mass_centring_shift(image, (4 * 64, 4 * 64, 24 * 64, 24 * 64))
    assert (dx, dy) == (4 * 64, 0)  # wants +9 px, may move 4 px


def test_margin_and_size_change_the_box(fonts):
    image = render_font(fonts["ttf"], "H", RenderOptions(size=64, fit="contain", margin=2))[0].images["H"]
    rows, _ = np.nonzero(image > 127)
    assert image.shape == (64, 64) and rows.max() - rows.min() + 1 == 60


def test_invert_flips_ink_and_background(fonts):
    plain = render_font(fonts["cff"], LETTERS)[0].images
    inverted = render_font(fonts["cff"], LETTERS, RenderOptions(invert=True))[0].images
    for letter in LETTERS:
        assert np.array_equal(inverted[letter], 255 - plain[letter])


def test_fit_scales():
    assert fit_scales(500, 700, RenderOptions()) == (28 * 64 / 500, 28 * 64 / 700)
    assert fit_scales(500, 700, CONTAIN) == (20 * 64 / 700, 20 * 64 / 700)


# ---------------------------------------------------------------------------------------------------
# What is skipped, and why
# ---------------------------------------------------------------------------------------------------


def test_missing_unmapped_and_blank_letters_are_skipped_with_reasons(fonts):
    (glyphs,) = render_font(fonts["partial"], "ABCDEFK")
    assert list(glyphs.images) == ["A", "B", "E"]
    assert glyphs.skipped == [("C", "blank glyph"), ("D", "not in cmap"), ("F", "not in cmap"),
                              ("K", "not in cmap")]


def test_no_letters_give_each_face_an_empty_set(fonts):
    (glyphs,) = render_font(fonts["ttf"], "")
    assert glyphs.images == {} and glyphs.skipped == [] and glyphs.pixels.shape == (0, 28, 28)


def test_letter_mapped_to_notdef_is_not_in_cmap(tmp_path):
    path = build_font(tmp_path / "Notdef.ttf")
    font = TTFont(str(path))
    for table in font["cmap"].tables:
        table.cmap[ord("B")] = ".notdef"
    font.save(str(path))
    (glyphs,) = render_font(path, "AB")
    assert list(glyphs.images) == ["A"] and glyphs.skipped == [("B", "not in cmap")]


@pytest.mark.parametrize(
    "contours",
    [
        [[(100, 0), (100, 700), (100, 300)]],  # zero width: a vertical hairline encloses no area
        [[(0, 100), (500, 100), (250, 100)]],  # zero height
        [[(0, 0), (500, 0), (500, 500), (0, 500)], [(0, 0), (0, 500), (500, 500), (500, 0)]],  # cancels out
    ],
)
def test_glyphs_without_ink_are_blank(tmp_path, contours):
    path = replace_glyph(build_font(tmp_path / "Degenerate.ttf"), "A", contours)
    (glyphs,) = render_font(path, "AB")
    assert glyphs.skipped == [("A", "blank glyph")] and list(glyphs.images) == ["B"]
    (face,) = open_faces(path)
    assert render_glyph(face.ft, glyph_index(face.ft, "A")) is None


def test_a_glyph_freetype_cannot_load_is_skipped_and_leaves_the_others_intact(tmp_path):
    """Each letter of a face is drawn into a frame of its own; a glyph that fails is reported with
    FreeType's reason, and the letters around it come out as they do from an intact font."""
    intact = build_font(tmp_path / "Intact.ttf")
    broken = tmp_path / "Broken.ttf"
    font = TTFont(str(intact))
    glyph_id = font.getGlyphID("g_B")
    data = bytearray(intact.read_bytes())
    glyf_at = font.reader.tables["glyf"].offset
    start = font["loca"][glyph_id]
    struct.pack_into(">h", data, glyf_at + start, 0x0FFF)  # more contours than the glyph has bytes for
    broken.write_bytes(bytes(data))

    (glyphs,) = render_font(broken, "ABC")
    (reference,) = render_font(intact, "ABC")
    assert glyphs.skipped == [("B", f"glyph {glyph_id} does not load (invalid outline)")]
    assert list(glyphs.images) == ["A", "C"] and glyphs.pixels.shape == (2, 28, 28)
    for row, letter in enumerate(glyphs.images):
        assert np.array_equal(glyphs.images[letter], reference.images[letter])
        assert np.array_equal(glyphs.pixels[row], reference.images[letter])


def test_thin_glyph_is_stretched_not_blank(tmp_path):
    hairline = [[(100, 0), (100, 700), (101, 700), (101, 0)]]
    path = replace_glyph(build_font(tmp_path / "Thin.ttf"), "A", hairline)
    image = render_font(path, "A")[0].images["A"]
    assert (image == 255).all()  # a 1-unit-wide box, stretched like notMNIST stretches everything


def test_render_glyph_primitive(fonts):
    (face,) = open_faces(fonts["ttf"])
    image = render_glyph(face.ft, glyph_index(face.ft, "E"), RenderOptions(size=32))
    assert image.shape == (32, 32)
    assert np.abs(image - expected_stretch("E", 32)).max() <= 5


# ---------------------------------------------------------------------------------------------------
# Unusable files
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("empty", "empty file"), ("random", "not a font file"), ("truncated", "truncated")],
)
def test_garbage_raises_font_load_error_naming_the_file(tmp_path, kind, reason):
    path = write_garbage(tmp_path / f"{kind}.ttf", kind)
    with pytest.raises(FontLoadError, match=reason) as caught:
        render_font(path, LETTERS)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_bitmap_only_font_is_rejected(tmp_path):
    path = build_bitmap_only_font(tmp_path / "Bitmap.ttf")
    with pytest.raises(FontLoadError, match=f"^{path}: .*no glyf, CFF or CFF2 table"):
        render_font(path, LETTERS)


def test_corrupt_woff2_and_missing_file(tmp_path):
    path = tmp_path / "Broken.woff2"
    path.write_bytes(b"wOF2" + bytes(100))
    with pytest.raises(FontLoadError, match="corrupt WOFF2"):
        render_font(path, LETTERS)
    with pytest.raises(FontLoadError, match="cannot read"):
        render_font(tmp_path / "absent.ttf", LETTERS)


def test_one_bad_face_of_a_collection_skips_only_that_face(tmp_path):
    good = build_font(tmp_path / "Good.ttf")
    bad = build_bitmap_only_font(tmp_path / "Bad.ttf")
    sets = render_font(build_collection(tmp_path / "Mixed.ttc", [good, bad]), "AB")
    assert list(sets[0].images) == ["A", "B"]
    assert sets[1].images == {} and [letter for letter, _ in sets[1].skipped] == ["A", "B"]
    assert "no glyf, CFF or CFF2 table" in sets[1].skipped[0][1]
    with pytest.raises(FontLoadError, match="all 2 faces of the collection are unusable"):
        render_font(build_collection(tmp_path / "AllBad.ttc", [bad, bad]), "AB")


def test_bytes_can_be_passed_in(fonts):
    data = fonts["ttf"].read_bytes()
    from_bytes = render_font("elsewhere/Plain.ttf", "A", data=data)[0]
    from_file = render_font(fonts["ttf"], "A")[0]
    assert from_bytes.face.font_path == "elsewhere/Plain.ttf"
    assert from_bytes.face.font_sha256 == from_file.face.font_sha256
    assert np.array_equal(from_bytes.images["A"], from_file.images["A"])


@pytest.mark.parametrize(
    "options",
    [RenderOptions(size=0), RenderOptions(size=5000), RenderOptions(fit="squash"), RenderOptions(margin=-1),
     RenderOptions(size=28, fit="contain", margin=14)],
)
def test_bad_options_raise_usage_error(fonts, options):
    with pytest.raises(UsageError):
        render_font(fonts["ttf"], "A", options)


# ---------------------------------------------------------------------------------------------------
# PNG and determinism
# ---------------------------------------------------------------------------------------------------


def test_png_round_trips_through_pillow(fonts):
    images = list(render_font(fonts["cff"], LETTERS, RenderOptions(size=40))[0].images.values())
    images += [np.zeros((28, 28), np.uint8), np.full((3, 7), 255, np.uint8)]
    images += [np.random.default_rng(0).integers(0, 256, (70, 90), np.uint8)]  # large: compressed, not stored
    for image in images:
        decoded = Image.open(io.BytesIO(encode_png(image)))
        decoded.load()
        assert decoded.mode == "L" and decoded.size == image.shape[::-1]
        assert np.array_equal(np.asarray(decoded), image)


@pytest.mark.parametrize("shape", [(28, 28), (1, 1), (3, 7), (60, 63), (70, 90)])
def test_batch_encoder_writes_each_image_as_a_png_of_its_own(shape):
    """encode_pngs fills one template for the whole batch: every file must still carry its own pixels
    and checksums (a wrong Adler-32 or CRC fails Pillow's decoder), stored or compressed alike."""
    images = np.random.default_rng(shape[0]).integers(0, 256, (4, *shape), np.uint8)
    images[1] = 0
    pngs = encode_pngs(images)
    assert len(pngs) == 4 and len(set(pngs)) == 4
    for png, image in zip(pngs, images, strict=True):
        raw = np.pad(image, ((0, 0), (1, 0))).tobytes()  # filter byte 0 before every row
        level = 0 if len(raw) <= raster._PNG_STORED_BYTES else raster._PNG_LEVEL
        idat = raster._png_chunk(b"IDAT", zlib.compress(raw, level))
        assert png == encode_png(image) == raster._png_head(*shape[::-1]) + idat + raster._PNG_END
        decoded = Image.open(io.BytesIO(png))
        decoded.load()
        assert np.array_equal(np.asarray(decoded), image)
    assert encode_pngs(np.zeros((0, *shape), np.uint8)) == []
    with pytest.raises(ValueError, match="3-D uint8"):
        encode_pngs(images[0])


@pytest.mark.parametrize("size", [0, 1, 28 * 29, 3840])
def test_stored_idat_is_what_zlib_writes_at_level_0(size):
    data = np.random.default_rng(size).integers(0, 256, size, np.uint8).tobytes()
    assert raster._stored_zlib(data) == zlib.compress(data, 0)


def test_encode_png_rejects_non_grayscale_arrays():
    with pytest.raises(ValueError, match="2-D uint8"):
        encode_png(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="2-D uint8"):
        encode_png(np.zeros((28, 28, 3), np.uint8))


def test_rendering_is_deterministic(fonts):
    def run() -> list[bytes]:
        sets: list[GlyphSet] = []
        for kind in ("ttf", "cff", "woff2", "variable", "pfb"):
            sets += render_font(fonts[kind], LETTERS) + render_font(fonts[kind], LETTERS, CONTAIN)
        return [encode_png(image) for s in sets for image in s.images.values()]

    assert run() == run()


def test_real_font_coverage_matches_outline_area():
    """On a real font (curves, many contours), total coverage equals the outline's scaled area."""
    path = Path(pytest.importorskip("matplotlib").get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"
    from fontTools.pens.areaPen import AreaPen
    from fontTools.pens.boundsPen import BoundsPen

    font = TTFont(str(path))
    glyph_set = font.getGlyphSet()
    images = render_font(path, LETTERS)[0].images
    for letter, image in images.items():
        name = font.getBestCmap()[ord(letter)]
        area, bounds = AreaPen(glyph_set), BoundsPen(glyph_set)
        glyph_set[name].draw(area)
        glyph_set[name].draw(bounds)
        x0, y0, x1, y1 = bounds.bounds
        expected = abs(area.value) * (28 / (x1 - x0)) * (28 / (y1 - y0)) * 255
        assert abs(image.sum() / expected - 1) < 0.01, letter
