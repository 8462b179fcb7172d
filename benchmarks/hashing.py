"""Perceptual-hash throughput: fontglyphs' batched hashes against imagehash per image, same images, one run.

Renders a few thousand realistic 28x28 glyphs (letters A-J in DejaVu Sans when the repo's fonts/ has it,
else Pillow's bundled font, each with a random affine jitter), hashes every image with imagehash
(``imagehash.phash(Image.fromarray(img))``, the way a per-file pipeline does) and with fontglyphs in one
batched call, checks that every hash is identical, and prints both rates and their ratio. Each timing is
the best of --repeat runs; CPU time is printed too, since wall time on a shared machine includes waiting.

    python benchmarks/hashing.py --n 4000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fontglyphs.hashing import GlyphHash, average_hash, dhash, phash

FONTS_DIR = Path(__file__).resolve().parents[1] / "fonts"
HASHERS = [
    ("phash", phash, imagehash.phash),
    ("dhash", dhash, imagehash.dhash),
    ("average_hash", average_hash, imagehash.average_hash),
]


def load_font(size: int) -> tuple[ImageFont.FreeTypeFont, str]:
    found = sorted(FONTS_DIR.rglob("DejaVuSans*.ttf")) if FONTS_DIR.is_dir() else []
    if found:
        return ImageFont.truetype(str(found[0]), size), found[0].name
    return ImageFont.load_default(size=size), "Pillow's default font"


def render_glyphs(n: int, seed: int) -> tuple[np.ndarray, str]:
    """n letters A-J: drawn large, cropped to the ink, jittered by a random affine map, shrunk to 28x28."""
    rng = np.random.default_rng(seed)
    font, font_name = load_font(96)
    glyphs = np.empty((n, 28, 28), np.uint8)
    for k in range(n):
        canvas = Image.new("L", (160, 160))
        ImageDraw.Draw(canvas).text((30, 10), "ABCDEFGHIJ"[k % 10], fill=255, font=font)
        angle, shear = np.radians(rng.normal(0, 6)), rng.normal(0, 0.12)
        scale = rng.uniform(0.85, 1.15, 2)
        cos, sin = np.cos(angle), np.sin(angle)
        a, b, d, e = cos / scale[0], -sin / scale[1] + shear, sin / scale[0], cos / scale[1]
        cx, cy = 80 + rng.normal(0, 3, 2)
        coefficients = (a, b, cx - a * 80 - b * 80, d, e, cy - d * 80 - e * 80)
        jittered = canvas.transform(canvas.size, Image.AFFINE, coefficients, Image.BILINEAR)
        box = jittered.getbbox() or (0, 0, 160, 160)
        glyphs[k] = np.asarray(jittered.crop(box).resize((28, 28), Image.BOX))
    return glyphs, font_name


def best_time(run: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of the fastest of `repeat` runs."""
    best = (float("inf"), float("inf"), None)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu, result), key=lambda t: t[0])
    return best


def row(cells: list[object]) -> str:
    widths = [-13, 17, 18, 8, 11, 11]
    return "".join(
        f"{cell!s:<{-w}}" if w < 0 else f"{cell!s:>{w}}" for cell, w in zip(cells, widths, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="glyph images to hash (default 4000)")
    parser.add_argument("--hash-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    glyphs, font_name = render_glyphs(args.n, args.seed)
    pil_images = [Image.fromarray(glyph) for glyph in glyphs]
    print(f"{args.n} glyphs of 28x28 ({font_name}, affine jitter), hash_size {args.hash_size}", end="")
    print(f", best of {args.repeat} runs")
    print(row(["hash", "imagehash img/s", "fontglyphs img/s", "ratio", "CPU ratio", "identical"]))
    all_identical = True
    for name, ours, reference in HASHERS:
        ref_wall, ref_cpu, ref_hashes = best_time(
            lambda reference=reference: [str(reference(im, args.hash_size)) for im in pil_images], args.repeat
        )
        wall, cpu, packed = best_time(lambda ours=ours: ours(glyphs, args.hash_size), args.repeat)
        identical = [GlyphHash.from_packed(row, args.hash_size).to_hex() for row in packed] == ref_hashes
        all_identical &= identical
        rates = [f"{args.n / ref_wall:,.0f}", f"{args.n / wall:,.0f}", f"{ref_wall / wall:.1f}x"]
        print(row([name, *rates, f"{ref_cpu / max(cpu, 1e-9):.1f}x", "yes" if identical else "NO"]))
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
