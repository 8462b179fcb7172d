"""Rendered-looking dataset folders for tests of the stages after render: PNGs plus their manifest rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from fontglyphs.manifest import GlyphRecord


def write_glyph(
    root: Path, letter: str, label: int, key: str, family: str, image: np.ndarray, **fields
) -> GlyphRecord:
    """Save ``image`` as ``root/<letter>/<key>.png`` and return its manifest row (``fields`` override)."""
    path = f"{letter}/{key}.png"
    (root / letter).mkdir(parents=True, exist_ok=True)
    Image.fromarray(image, "L").save(root / path)
    values = dict(
        path=path,
        letter=letter,
        label=label,
        key=key,
        font_path=f"fonts/{key}.ttf",
        font_sha256="0" * 64,
        face_index=0,
        instance="",
        family=family,
        style="Regular",
        license="OFL-1.1",
        pixel_sha256=hashlib.sha256(image.tobytes()).hexdigest(),
    )
    return GlyphRecord(**{**values, **fields})
