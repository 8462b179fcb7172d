"""Pictures for people: contact sheets of glyphs with legible captions.

Every stage shows what it did (rendered glyphs, removed duplicates, label-noise suspects, test mistakes)
as a contact sheet: a grid of enlarged glyphs, each with a caption under it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .manifest import atomic_open


def _caption_font(size: int) -> ImageFont.ImageFont:
    # Pillow >= 10.1 ships a scalable default font, so captions stay legible without a system font.
    return ImageFont.load_default(size=size)


def contact_sheet(
    images: np.ndarray | Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    columns: int = 16,
    scale: int = 3,
    title: str | None = None,
    invert: bool = False,
) -> Image.Image:
    """Tile (N, H, W) uint8 glyphs into one RGB image, each enlarged ``scale`` times, captions below.

    Glyphs are drawn on a mid-grey frame so that a blank glyph and a solid block are both visible.
    """
    images = [np.asarray(image, dtype=np.uint8) for image in images]
    count = len(images)
    columns = max(1, min(columns, count)) if count else 1
    rows = max(1, -(-count // columns))
    glyph_h = max((i.shape[0] for i in images), default=28) * scale
    glyph_w = max((i.shape[1] for i in images), default=28) * scale
    font_size = 11
    caption_h = font_size + 4 if captions is not None else 0
    title_h = 20 if title else 0
    cell_w = max(glyph_w, 40) + 6
    cell_h = glyph_h + caption_h + 6
    sheet = Image.new("RGB", (columns * cell_w + 4, rows * cell_h + title_h + 4), (128, 128, 128))
    draw = ImageDraw.Draw(sheet)
    font = _caption_font(font_size)
    if title:
        draw.text((4, 3), title, fill=(255, 255, 255), font=_caption_font(14))
    for index, image in enumerate(images):
        if invert:
            image = 255 - image
        row, column = divmod(index, columns)
        x = 4 + column * cell_w + (cell_w - 6 - glyph_w) // 2
        y = title_h + 4 + row * cell_h
        tile = Image.fromarray(image, "L").resize(
            (image.shape[1] * scale, image.shape[0] * scale), Image.NEAREST
        )
        sheet.paste(tile.convert("RGB"), (x, y))
        if captions is not None:
            text = _fit_caption(draw, captions[index], font, cell_w - 6)
            draw.text((4 + column * cell_w, y + glyph_h + 2), text, fill=(255, 255, 255), font=font)
    return sheet


def _fit_caption(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> str:
    full = draw.textlength(text, font=font)
    if full <= width:
        return text
    # Start from the proportional guess, then trim: a few measurements instead of one per character.
    text = text[: max(1, int(len(text) * width / full))]
    while len(text) > 1 and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def save_png(image: Image.Image, path: str | os.PathLike) -> None:
    """Write a picture atomically (PNG has no timestamps, so the bytes depend on the pixels only)."""
    with atomic_open(path, "wb") as handle:
        image.save(handle, format="PNG", optimize=False)


def slice_sheet(
    root: str | os.PathLike,
    records: Sequence,
    letter: str | None = None,
    font: str | None = None,
    flag: str | None = None,
    limit: int = 400,
    columns: int = 20,
) -> tuple[Image.Image, int]:
    """Contact sheet of the manifest rows under ``root`` matching a letter, a font/family and a flag.

    ``font`` matches the key, the family or the font file name (case-insensitive substring).
    Returns the sheet and the number of matching rows (the sheet shows at most ``limit``).
    """
    from .datasets import read_png
    from .errors import DatasetError

    needle = font.lower() if font else None
    chosen = [
        r
        for r in records
        if (letter is None or r.letter == letter)
        and (flag is None or flag in r.flag_list())
        and (
            needle is None
            or needle in r.key.lower()
            or needle in r.family.lower()
            or needle in os.path.basename(r.font_path).lower()
        )
    ]
    if not chosen:
        raise DatasetError(f"{root}: no images match (letter={letter}, font={font}, flag={flag})")
    shown = chosen[:limit]
    images = [read_png(os.path.join(root, r.path)) for r in shown]
    captions = [f"{r.letter} {r.family or r.key}" for r in shown]
    parts = [p for p in (letter, font, flag) if p]
    title = (
        f"{len(chosen)} images"
        + (f" ({', '.join(parts)})" if parts else "")
        + (f", first {limit} shown" if len(chosen) > limit else "")
    )
    return contact_sheet(images, captions, columns=columns, title=title), len(chosen)
