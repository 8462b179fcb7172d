"""Draw the README's picture: the same fonts in both fit modes, one row per font, A–J across.

    python scripts/readme_figures.py fonts/ docs/img/glyphs.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fontglyphs.datasets import read_png
from fontglyphs.manifest import read_manifest
from fontglyphs.raster import RenderOptions
from fontglyphs.render import RenderConfig, render_fonts
from fontglyphs.report import contact_sheet, save_png

ROWS = 14


def sheet_for(fonts: str, fit: str, keys: list[str] | None, work: Path):
    out = work / fit
    config = RenderConfig(tuple("ABCDEFGHIJ"), RenderOptions(fit=fit))
    render_fonts([fonts], out, config, progress=False)
    records = read_manifest(out / "manifest.csv")
    if keys is None:
        # One face per family, spread over the corpus, chosen by a fixed seed.
        first_of_family = {}
        for record in sorted(records, key=lambda r: r.key):
            first_of_family.setdefault(record.family, record.key)
        pool = sorted(first_of_family.values())
        keys = sorted(np.random.default_rng(7).choice(pool, ROWS, replace=False).tolist())
    by_key = {(r.key, r.letter): r for r in records}
    images = [read_png(out / by_key[(key, letter)].path) for key in keys for letter in "ABCDEFGHIJ"]
    title = "--fit stretch (notMNIST)" if fit == "stretch" else "--fit contain (MNIST)"
    return contact_sheet(images, None, columns=10, scale=2, title=title), keys


def main() -> None:
    fonts, target = sys.argv[1], Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        stretch, keys = sheet_for(fonts, "stretch", None, Path(work))
        contain, _ = sheet_for(fonts, "contain", keys, Path(work))
    picture = Image.new("RGB", (stretch.width + contain.width + 8, stretch.height), (128, 128, 128))
    picture.paste(stretch, (0, 0))
    picture.paste(contain, (stretch.width + 8, 0))
    save_png(picture, target)


if __name__ == "__main__":
    main()
