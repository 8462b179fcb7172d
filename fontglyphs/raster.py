"""Glyph rasterization: an outline's exact ink box fitted to a small frame, anti-aliased by area coverage.

Each glyph is loaded unscaled and unhinted (hinting would distort the fit), its exact ink bounding box
(Bezier extrema, not control points) is measured, the outline is transformed so that box lands where
the fit mode wants it, and FreeType's smooth rasterizer writes exact area coverage straight into the
size x size frame: anti-aliasing by area at the target size, in one pass, with no big render to shrink.

    images = render_font("fonts/DejaVuSans.ttf", "ABC")[0].images   # {"A": (28, 28) uint8, ...}
    png = encode_png(images["A"])

Fit modes:

* ``stretch`` (notMNIST): the ink box fills the whole frame, x and y scaled independently, so ink
  touches all four edges and a plain "I" becomes a white square.
* ``contain`` (MNIST): aspect kept, ink box fitted into (size - 2 * margin)^2, then moved (by a
  sub-pixel amount) so that the centre of mass of the coverage is at the frame centre, as MNIST did,
  as far as it can go without clipping ink.

A glyph whose ink box has zero width or zero height encloses no area, so there is nothing to stretch
or draw: it is reported as a blank glyph, like a glyph with no outline or no coverage at all.
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import freetype
import freetype.raw as ft
import numpy as np

from .errors import FontLoadError, UsageError
from .fonts import FaceInfo, ft_error_message, glyph_indices, open_faces

FIT_MODES = ("stretch", "contain")
MAX_SIZE = 1024

# Unscaled: outlines in font units keep full precision and need no FT_Set_Char_Size per face.
_LOAD_FLAGS = freetype.FT_LOAD_NO_SCALE | freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP
_OUTLINE_FORMAT = freetype.FT_GLYPH_FORMATS["FT_GLYPH_FORMAT_OUTLINE"]
_ONE = 64  # one pixel in 26.6 fixed point


@dataclass(frozen=True)
class RenderOptions:
    size: int = 28
    fit: str = "stretch"  # "stretch" (notMNIST) or "contain" (MNIST)
    margin: int = 4  # contain: ink fitted into (size - 2 * margin)^2, 20x20 for 28
    invert: bool = False  # False: white ink 255 on black 0

    def validate(self) -> None:
        if not isinstance(self.size, int) or not 2 <= self.size <= MAX_SIZE:
            raise UsageError(f"--size {self.size!r}: must be a whole number of pixels from 2 to {MAX_SIZE}")
        if self.fit not in FIT_MODES:
            raise UsageError(f"--fit {self.fit!r}: must be one of {', '.join(FIT_MODES)}")
        if not isinstance(self.margin, int) or self.margin < 0:
            raise UsageError(f"--margin {self.margin!r}: must be a whole number of pixels, 0 or more")
        if self.fit == "contain" and self.size - 2 * self.margin < 1:
            raise UsageError(
                f"--margin {self.margin} leaves no room for ink in a {self.size}x{self.size} frame; "
                f"use a margin below {(self.size + 1) // 2}"
            )


@dataclass
class GlyphSet:
    """The images of one face, in the order of the letters asked for, and the letters it could not draw."""

    face: FaceInfo
    images: dict[str, np.ndarray] = field(default_factory=dict)  # letter -> (size, size) uint8
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (letter, reason)
    # The images end to end, (len(images), size, size), in the order of ``images`` (whose values are views
    # of it): a batch for encode_pngs as it is, with no stacking.
    pixels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.uint8))


# ---------------------------------------------------------------------------------------------------
# Pure geometry: where the ink box goes
# ---------------------------------------------------------------------------------------------------


def fit_scales(width: int, height: int, options: RenderOptions) -> tuple[float, float]:
    """Scale factors (x, y) from font units to 26.6 frame units for an ink box of width x height."""
    if options.fit == "stretch":
        return options.size * _ONE / width, options.size * _ONE / height
    room = (options.size - 2 * options.margin) * _ONE
    scale = min(room / width, room / height)
    return scale, scale


def centring_shift(box: tuple[int, int, int, int], size: int) -> tuple[int, int]:
    """26.6 translation that centres the ink box (x0, y0, x1, y1) in the size x size frame."""
    x0, y0, x1, y1 = box
    return (size * _ONE - x0 - x1) // 2, (size * _ONE - y0 - y1) // 2


def mass_centring_shift(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int]:
    """26.6 translation that moves the centre of mass of ``image`` (rendered from the outline whose ink
    box is ``box``) to the frame centre, clamped so that the ink box stays inside the frame."""
    size = image.shape[0]
    weights = image.astype(np.float64)
    total = weights.sum()
    centres = np.arange(size) + 0.5
    row = weights.sum(axis=1) @ centres / total
    column = weights.sum(axis=0) @ centres / total
    # Outline y points up, image rows go down.
    dx = round((size / 2 - column) * _ONE)
    dy = round((row - size / 2) * _ONE)
    x0, y0, x1, y1 = box
    limit = size * _ONE
    return min(max(dx, -x0), limit - x1), min(max(dy, -y0), limit - y1)


# ---------------------------------------------------------------------------------------------------
# FreeType: load, measure, transform, rasterize
# ---------------------------------------------------------------------------------------------------


class _Canvas:
    """size x size coverage frames FreeType renders into, one for each letter of a face, reused for every
    face: the letters of a face are drawn each into its own frame, and the frames are then checked for
    ink, copied out and encoded together, a few array operations a face rather than a few a glyph."""

    def __init__(self, size: int):
        self.size = size
        self.frames = np.zeros((0, size, size), np.uint8)
        self.bitmaps: list[freetype.FT_Bitmap] = []  # FreeType's view of each frame, kept alive with it
        self.bitmap_refs: list = []
        self.library = freetype.get_handle()

    def clear(self, count: int) -> np.ndarray:
        """The first ``count`` frames, zeroed for a face of ``count`` letters."""
        if count > len(self.frames):
            self.frames = np.zeros((count, self.size, self.size), np.uint8)
            self.bitmaps = [self._bitmap(frame) for frame in self.frames]
            self.bitmap_refs = [ctypes.byref(bitmap) for bitmap in self.bitmaps]
        frames = self.frames[:count]
        frames.fill(0)
        return frames

    def _bitmap(self, frame: np.ndarray) -> freetype.FT_Bitmap:
        bitmap = freetype.FT_Bitmap()
        bitmap.rows = bitmap.width = bitmap.pitch = self.size
        bitmap.buffer = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))
        bitmap.num_grays = 256
        bitmap.pixel_mode = freetype.FT_PIXEL_MODES["FT_PIXEL_MODE_GRAY"]
        return bitmap

    def draw(self, outline_ref, frame: int) -> None:
        """Add the outline's coverage to frame ``frame``."""
        error = ft.FT_Outline_Get_Bitmap(self.library, outline_ref, self.bitmap_refs[frame])
        if error:
            raise GlyphError(f"rasterizer failed ({ft_error_message(error)})")


_THREAD = threading.local()


def _canvas(size: int) -> _Canvas:
    """This thread's canvas of ``size``: setting up a frame costs as much as drawing two glyphs."""
    canvases = _THREAD.__dict__.setdefault("canvases", {})
    if size not in canvases:
        canvases[size] = _Canvas(size)
    return canvases[size]


class GlyphError(FontLoadError):
    """One glyph that FreeType cannot load or rasterize; the font's other glyphs may be fine."""


class _Outline:
    """The glyph slot of a face: its outline transformed in place, measured with its exact ink box."""

    def __init__(self, face: freetype.Face):
        self.handle = face._FT_Face
        # Views of the face's one glyph slot, which every load refills: made once, not once a glyph.
        self.slot = self.handle.contents.glyph.contents
        self.outline = self.slot.outline
        self.ref = ctypes.byref(self.outline)
        self.bbox = freetype.FT_BBox()
        self.bbox_ref = ctypes.byref(self.bbox)
        self.matrix = freetype.FT_Matrix()  # a pure scale: xy and yx stay 0, as ctypes made them
        self.matrix_ref = ctypes.byref(self.matrix)

    def load(self, index: int) -> bool:
        """Load glyph ``index``; False when it has no outline points."""
        error = ft.FT_Load_Glyph(self.handle, index, _LOAD_FLAGS)
        if error:
            raise GlyphError(f"glyph {index} does not load ({ft_error_message(error)})")
        if self.slot.format != _OUTLINE_FORMAT:
            raise GlyphError(f"glyph {index} is not an outline")
        return self.outline.n_points > 0

    def box(self) -> tuple[int, int, int, int]:
        error = ft.FT_Outline_Get_BBox(self.ref, self.bbox_ref)
        if error:
            raise GlyphError(f"invalid outline ({ft_error_message(error)})")
        return self.bbox.xMin, self.bbox.yMin, self.bbox.xMax, self.bbox.yMax

    def scale(self, sx: float, sy: float) -> None:
        self.matrix.xx, self.matrix.yy = round(sx * 65536), round(sy * 65536)  # 16.16
        ft.FT_Outline_Transform(self.ref, self.matrix_ref)

    def translate(self, dx: int, dy: int) -> None:
        ft.FT_Outline_Translate(self.ref, dx, dy)


def _draw(outline: _Outline, index: int, options: RenderOptions, canvas: _Canvas, frame: int) -> None:
    """Draw glyph ``index``, fitted, into the (zeroed) frame ``frame`` of ``canvas``; a glyph without
    outline points or with an ink box of zero width or height leaves it empty."""
    if not outline.load(index):
        return
    x0, y0, x1, y1 = outline.box()
    if x1 <= x0 or y1 <= y0:
        return
    outline.scale(*fit_scales(x1 - x0, y1 - y0, options))
    x0, y0, x1, y1 = box = outline.box()
    if options.fit == "stretch":
        outline.translate(-x0, -y0)
        canvas.draw(outline.ref, frame)
        return
    dx, dy = centring_shift(box, options.size)
    outline.translate(dx, dy)
    canvas.draw(outline.ref, frame)
    image = canvas.frames[frame]
    if np.count_nonzero(image):
        sx, sy = mass_centring_shift(image, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))
        if sx or sy:
            outline.translate(sx, sy)
            image.fill(0)
            canvas.draw(outline.ref, frame)


def _draw_letters(
    outline: _Outline, letters: Sequence[str], indices: Sequence[int], options: RenderOptions, canvas: _Canvas
) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """(images, their letters, skipped letters with reasons) of one face: each letter drawn into a frame
    of its own, the frames without ink (blank glyphs, letters not drawn) then left out, all at once."""
    frames = canvas.clear(len(letters))
    reasons: list[str | None] = [None] * len(letters)
    for frame, index in enumerate(indices):
        if not index:
            reasons[frame] = "not in cmap"
            continue
        try:
            _draw(outline, index, options, canvas, frame)
        except GlyphError as error:
            frames[frame].fill(0)  # a failed draw may have left part of its coverage
            reasons[frame] = str(error)
    inked = frames.any(axis=(1, 2)).tolist()
    images = frames[inked]  # a copy: the frames are the next face's
    if options.invert:
        np.subtract(255, images, out=images)
    drawn = [letter for letter, ink in zip(letters, inked, strict=True) if ink]
    skipped = [
        (letter, reason or "blank glyph")
        for letter, ink, reason in zip(letters, inked, reasons, strict=True)
        if not ink
    ]
    return images, drawn, skipped


def render_glyph(
    face: freetype.Face, index: int, options: RenderOptions = RenderOptions()
) -> np.ndarray | None:
    """Glyph ``index`` of ``face`` as a (size, size) uint8 image; None when it has no ink (no outline,
    an ink box of zero width or height, or no coverage). Raises GlyphError when FreeType cannot draw it."""
    canvas = _canvas(options.size)
    image = canvas.clear(1)[0]
    _draw(_Outline(face), index, options, canvas, 0)
    if not np.count_nonzero(image):  # 3x faster than image.any() on a small image
        return None
    return 255 - image if options.invert else image.copy()


def render_font(
    path: str | os.PathLike,
    letters: Sequence[str],
    options: RenderOptions = RenderOptions(),
    instances: bool = True,
    data: bytes | None = None,
    font_sha256: str | None = None,
) -> list[GlyphSet]:
    """One GlyphSet per face of the font file (collection faces, variable-font named instances, or only
    the default instance when ``instances`` is False). Raises FontLoadError naming the file when the
    whole file is unusable; a single unusable face of a collection skips all its letters with the reason.
    ``data`` (the file's bytes) and ``font_sha256`` (their hash) save reading and hashing them again."""
    options.validate()
    canvas = _canvas(options.size)
    sets, previous = [], None
    for face in open_faces(path, instances, data, font_sha256, chars="".join(letters)):
        glyphs = GlyphSet(face.info)
        ft_face = face.ft  # read once: it sets a variable font's shared face to this instance
        if ft_face is None:
            glyphs.skipped = [(letter, face.error) for letter in letters]
        else:
            if ft_face is not previous:  # named instances share a face, so its glyph slot and glyph ids too
                outline, indices, previous = _Outline(ft_face), glyph_indices(ft_face, letters), ft_face
            glyphs.pixels, drawn, glyphs.skipped = _draw_letters(outline, letters, indices, options, canvas)
            glyphs.images = dict(zip(drawn, glyphs.pixels, strict=True))
        sets.append(glyphs)
    return sets


# ---------------------------------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Pixels of an image up to ~60x60 (28x28: 812 bytes) are stored, not compressed: the file takes one 4 KiB
# block on disk either way, and zlib at level 1 costs 12 µs an image against 2 µs. Larger images are
# compressed at a fixed level, so the bytes depend on the pixels only.
_PNG_STORED_BYTES = 3840
_PNG_LEVEL = 1


def _png_chunk(tag: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))


_PNG_END = _png_chunk(b"IEND", b"")


@functools.lru_cache(maxsize=16)
def _png_head(width: int, height: int) -> bytes:
    """Signature and IHDR: the same bytes for every image of one size."""
    return _PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def encode_png(image: np.ndarray) -> bytes:
    """An 8-bit grayscale PNG of a 2-D uint8 array: IHDR, one IDAT (every row filter 0), IEND.

    Written by hand because PIL's encoder costs ~10x more for a 28x28 image, which matters at tens of
    thousands of images per second; no timestamps or text chunks, so the bytes depend on the pixels only.
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"encode_png needs a 2-D uint8 array, got {image.dtype} of shape {image.shape}")
    return encode_pngs(image[None])[0]


def encode_pngs(images: np.ndarray) -> list[bytes]:
    """:func:`encode_png` of each image of a (N, height, width) uint8 batch: the same bytes, 4x faster.

    Small images are stored, so every file of the batch has one layout: the batch is filled into copies of
    one template by a single numpy assignment, and each image then costs its two checksums (the zlib
    stream's Adler-32 and the chunk's CRC), not a dozen small allocations."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"encode_pngs needs a 3-D uint8 array, got {images.dtype} of shape {images.shape}")
    count, height, width = images.shape
    raw_size = height * (width + 1)
    if raw_size > _PNG_STORED_BYTES:
        return [_compressed_png(image) for image in images]
    template, raw_at = _stored_png_template(height, width)
    size, adler_at = len(template), raw_at + raw_size
    files = bytearray(template * count)
    layout = np.frombuffer(files, np.uint8).reshape(count, size)
    layout[:, raw_at:adler_at].reshape(count, height, width + 1)[:, :, 1:] = images
    view, tag_at = memoryview(files), len(_png_head(width, height)) + 4  # the CRC covers tag and data
    pngs = []
    for start in range(0, count * size, size):
        struct.pack_into(">I", files, start + adler_at, zlib.adler32(view[start + raw_at : start + adler_at]))
        crc_at = start + adler_at + 4
        struct.pack_into(">I", files, crc_at, zlib.crc32(view[start + tag_at : crc_at]))
        pngs.append(bytes(view[start : start + size]))
    return pngs


@functools.lru_cache(maxsize=16)
def _stored_png_template(height: int, width: int) -> tuple[bytes, int]:
    """The PNG of a black image of that size with zeros for its Adler-32 and CRC, and where its raw rows
    (a filter byte, then the pixels) start: what :func:`encode_pngs` fills in."""
    raw_size = height * (width + 1)
    idat = _stored_zlib(bytes(raw_size))[:-4] + bytes(4)
    head = _png_head(width, height)
    png = head + struct.pack(">I", len(idat)) + b"IDAT" + idat + bytes(4) + _PNG_END
    return png, len(head) + 8 + len(idat) - 4 - raw_size


def _compressed_png(image: np.ndarray) -> bytes:
    height, width = image.shape
    rows = np.zeros((height, width + 1), np.uint8)  # filter type "none" on every row
    rows[:, 1:] = image
    idat = zlib.compress(rows.tobytes(), _PNG_LEVEL)
    return _png_head(width, height) + _png_chunk(b"IDAT", idat) + _PNG_END


def _stored_zlib(data: bytes) -> bytes:
    """The bytes ``zlib.compress(data, 0)`` gives for up to 65,535 bytes (RFC 1950/1951: header, one final
    stored block, Adler-32), without setting up a compressor and its 256 KiB of state for each image."""
    header = b"\x78\x01\x01" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF)
    return header + data + struct.pack(">I", zlib.adler32(data))
