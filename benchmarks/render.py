"""Render throughput: fontglyphs against a naive Pillow pipeline, same fonts, same letters, one run.

The naive path is what most notMNIST-style scripts do: ImageFont.truetype at a large size, draw the letter,
crop to the ink, resize to 28x28 with LANCZOS, save a PNG. fontglyphs runs its real render stage with one
worker (process start, hashing, manifest and atomic writes included), so both numbers are per core.

    python benchmarks/render.py fonts/ --letters A-J
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fontglyphs.fonts import discover_font_files
from fontglyphs.letters import parse_letters
from fontglyphs.render import RenderConfig, render_fonts


def naive_pillow(fonts: list[Path], letters: tuple[str, ...], out: Path, size: int = 28) -> int:
    written = 0
    for font_path in fonts:
        try:
            font = ImageFont.truetype(str(font_path), 200)
        except OSError:
            continue  # the naive path simply skips fonts Pillow cannot open
        for letter in letters:
            canvas = Image.new("L", (400, 400), 0)
            ImageDraw.Draw(canvas).text((100, 50), letter, fill=255, font=font)
            box = canvas.getbbox()
            if box is None:
                continue
            glyph = canvas.crop(box).resize((size, size), Image.LANCZOS)
            target = out / letter / f"{font_path.stem}-{written}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            glyph.save(target)
            written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fonts", nargs="*", default=["fonts"])
    parser.add_argument("--letters", default="A-J")
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N font files.")
    args = parser.parse_args()
    letters = parse_letters(args.letters)
    files = discover_font_files(args.fonts)
    if args.limit:
        files = files[: args.limit]
    scratch = Path(tempfile.mkdtemp(prefix="fontglyphs-bench-"))
    try:
        started = time.perf_counter()
        naive_count = naive_pillow(files, letters, scratch / "naive")
        naive_seconds = time.perf_counter() - started

        started = time.perf_counter()
        summary = render_fonts(
            files, scratch / "fontglyphs", RenderConfig(letters), workers=1, progress=False
        )
        ours_seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch)

    naive_rate = naive_count / naive_seconds
    ours_rate = summary.images / ours_seconds
    print(f"fonts: {len(files)} files, letters: {''.join(letters)}, cpu cores: {os.cpu_count()}")
    print(f"{'pipeline':<28}{'glyphs':>9}{'seconds':>10}{'glyphs/s/core':>15}")
    print(f"{'naive Pillow (LANCZOS)':<28}{naive_count:>9}{naive_seconds:>10.2f}{naive_rate:>15,.0f}")
    print(f"{'fontglyphs render -j 1':<28}{summary.images:>9}{ours_seconds:>10.2f}{ours_rate:>15,.0f}")
    print(f"ratio: {ours_rate / naive_rate:.1f}x")


if __name__ == "__main__":
    main()
