"""WOFF2 decoding: fontglyphs' decoder against fontTools', same files, one run: speed and agreement.

fontTools is the reference: it rebuilds every glyph as an object and encodes it again. fontglyphs decodes the
transformed glyf table with array operations and, when told the letters, only the glyphs they need. Besides
the time a file, the script checks that the two agree where a renderer can tell:

* every glyph, all decoded: outline, instructions, bounding box, horizontal metrics (TrueType flavour);
* every image of the letters, drawn by fontglyphs' rasterizer from either decoding (all named instances).

    python benchmarks/woff2.py fonts/
    python benchmarks/woff2.py .cache/corpus --sample 200
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import tempfile
import time

import numpy as np
from fontTools.ttLib import TTFont

from fontglyphs.errors import FontLoadError
from fontglyphs.fonts import _decompress_woff2_fonttools, discover_font_files
from fontglyphs.letters import parse_letters
from fontglyphs.raster import render_font
from fontglyphs.woff2 import decompress_woff2


def seconds(decode, data: bytes, repeat: int) -> float:
    """The best of ``repeat`` timings of one decoding."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        decode(data)
        best = min(best, time.perf_counter() - started)
    return best


def glyphs(sfnt: bytes) -> dict[str, tuple] | None:
    """Everything a renderer reads of each glyph: its outline (points, on-curve flags and contour ends, or its
    components and their placement), instructions, bounding box (None when empty) and horizontal metrics;
    None for a CFF font."""
    font = TTFont(io.BytesIO(sfnt), lazy=True)
    if "glyf" not in font:
        return None
    glyf, hmtx = font["glyf"], font["hmtx"]
    described = {}
    for name in font.getGlyphOrder():
        glyph = glyf[name]
        code = glyph.program.getBytecode() if hasattr(glyph, "program") else b""
        if glyph.isComposite():
            outline = [
                (
                    c.glyphName,
                    c.flags,
                    getattr(c, "x", None),
                    getattr(c, "y", None),
                    getattr(c, "transform", None),
                )
                for c in glyph.components
            ]
        elif glyph.numberOfContours:
            coordinates, ends, flags = glyph.getCoordinates(glyf)
            outline = (list(coordinates), list(ends), [flag & 1 for flag in flags])
        else:
            outline = None
        box = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) if glyph.numberOfContours else None
        described[name] = (outline, code, box, hmtx[name])
    return described


def same_images(
    path: str, data: bytes, reference: bytes, letters: tuple[str, ...], scratch: str
) -> tuple[int, int]:
    """(images equal, images in all) of the letters drawn from fontglyphs' and from fontTools' decoding."""
    reference_path = os.path.join(scratch, "reference.ttf")
    with open(reference_path, "wb") as handle:
        handle.write(reference)
    try:
        ours = render_font(path, letters, data=data)
        theirs = render_font(reference_path, letters, data=reference)
    except FontLoadError:
        return 0, 0
    equal = total = 0
    for mine, other in zip(ours, theirs, strict=True):
        for letter in set(mine.images) | set(other.images):
            total += 1
            equal += (
                letter in mine.images
                and letter in other.images
                and np.array_equal(mine.images[letter], other.images[letter])
            )
    return equal, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fonts", nargs="*", default=["fonts"])
    parser.add_argument("--letters", default="A-J")
    parser.add_argument("--sample", type=int, default=0, help="N WOFF2 files spread evenly over the list.")
    parser.add_argument("--repeat", type=int, default=3, help="Timings of each decoding; the best is kept.")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # fontTools warns of odd head-table timestamps in many web fonts
    letters = parse_letters(args.letters)
    files = [str(p) for p in discover_font_files(args.fonts) if p.suffix.lower() == ".woff2"]
    if args.sample and args.sample < len(files):
        files = [files[k * len(files) // args.sample] for k in range(args.sample)]
    chars = "".join(letters)
    times = {"fontTools": [], "fontglyphs, all glyphs": [], f"fontglyphs, {chars}": []}
    fonts_checked = fonts_agreeing = images_equal = images = 0
    disagreeing: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for path in files:
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                reference = _decompress_woff2_fonttools(data)
            except Exception:  # noqa: BLE001 - a file fontTools cannot read is no reference
                continue
            times["fontTools"].append(seconds(_decompress_woff2_fonttools, data, args.repeat))
            times["fontglyphs, all glyphs"].append(seconds(decompress_woff2, data, args.repeat))
            letters_only = seconds(lambda d: decompress_woff2(d, chars), data, args.repeat)
            times[f"fontglyphs, {chars}"].append(letters_only)
            expected = glyphs(reference)
            if expected is not None:
                fonts_checked += 1
                if glyphs(decompress_woff2(data)) == expected:
                    fonts_agreeing += 1
                else:
                    disagreeing.append(path)
            equal, total = same_images(path, data, reference, letters, scratch)
            images_equal, images = images_equal + equal, images + total

    print(f"WOFF2 files: {len(times['fontTools'])}, letters {chars}")
    baseline = statistics.median(times["fontTools"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<28} median {median * 1e3:8.2f} ms a file   {baseline / median:6.1f}x")
    print(f"every glyph as fontTools decodes it: {fonts_agreeing}/{fonts_checked} fonts")
    print(f"images drawn from either decoding identical: {images_equal:,}/{images:,}")
    for path in disagreeing[:10]:
        print(f"  differs: {path}")


if __name__ == "__main__":
    main()
