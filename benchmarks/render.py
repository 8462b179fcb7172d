"""Render throughput: fontglyphs against a naive Pillow pipeline, same fonts, same letters, one run.

The naive path is what most notMNIST-style scripts do: ImageFont.truetype at a large size, draw the letter,
crop to the ink, resize to 28x28 with LANCZOS, save a PNG. fontglyphs runs its real render stage with one
worker (process start, hashing, journal, manifest and file writes included), so both numbers are per core.
A third row times fontglyphs' rasterizer alone (render_font + encode_pngs in this process, no files written):
the gap between it and the stage is the cost of files, processes and bookkeeping.
Rates are given per wall second and per CPU second (user + system, children included): on a shared,
oversubscribed machine only the second is comparable between runs. Each pipeline runs ``--repeat`` times
(default 5), interleaved, and the medians are reported: on a virtual machine whose speed drifts within
seconds, the half-second runs of fontglyphs vary by up to 40% from one repeat to the next. The fastest
repeat of each pipeline is reported too, per CPU second: as timeit's documentation argues, noise from the
rest of the machine only ever adds time, so the least time is the closest to what the code itself costs.

    python benchmarks/render.py fonts/ --letters A-J
    python benchmarks/render.py fonts/ --scratch /dev/shm    # without the disk's cost of creating files
    python benchmarks/render.py .cache/corpus --sample 1000  # a spread of the large corpus (fetch_fonts.sh)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fontglyphs.errors import FontLoadError
from fontglyphs.fonts import discover_font_files
from fontglyphs.letters import parse_letters
from fontglyphs.raster import encode_pngs, render_font
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


def rasterize_only(fonts: list[Path], letters: tuple[str, ...]) -> int:
    """Glyphs drawn and PNG-encoded in memory by fontglyphs, fonts that fail to load skipped."""
    drawn = 0
    for font_path in fonts:
        try:
            glyph_sets = render_font(font_path, letters)
        except FontLoadError:
            continue
        for glyph_set in glyph_sets:
            if glyph_set.images:
                drawn += len(encode_pngs(glyph_set.pixels))
    return drawn


def render_stage(files: list[Path], letters: tuple[str, ...], out: Path) -> int:
    return render_fonts(files, out, RenderConfig(letters), workers=1, progress=False).images


def timed(pipeline, *args) -> tuple[int, float, float]:
    """(glyphs, wall seconds, cpu seconds) of one run of ``pipeline``."""
    started, cpu = time.perf_counter(), cpu_seconds()
    count = pipeline(*args)
    return count, time.perf_counter() - started, cpu_seconds() - cpu


def median_run(runs: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """The glyph count with the median wall and the median cpu time (each the middle of its own list)."""
    return runs[0][0], statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)


def cpu_seconds() -> float:
    """User + system time of this process and of its finished children (the render workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fonts", nargs="*", default=["fonts"])
    parser.add_argument("--letters", default="A-J")
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N font files.")
    parser.add_argument(
        "--sample", type=int, default=0, help="Use N font files spread evenly over the sorted list."
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="Runs of each pipeline, interleaved; medians are reported."
    )
    parser.add_argument(
        "--scratch",
        default=None,
        help="Folder for the PNGs (e.g. /dev/shm to leave the disk's file-creation cost out).",
    )
    args = parser.parse_args()
    letters = parse_letters(args.letters)
    files = discover_font_files(args.fonts)
    if args.limit:
        files = files[: args.limit]
    if args.sample and args.sample < len(files):
        files = [files[k * len(files) // args.sample] for k in range(args.sample)]
    for path in files:  # both pipelines then read the fonts from the page cache, not from the disk
        path.read_bytes()
    runs = {"naive": [], "ours": [], "raster": []}  # (glyphs, wall s, cpu s) of each repeat
    for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits every pipeline
        scratch = Path(tempfile.mkdtemp(prefix="fontglyphs-bench-", dir=args.scratch))
        try:
            runs["naive"].append(timed(naive_pillow, files, letters, scratch / "naive"))
            runs["ours"].append(timed(render_stage, files, letters, scratch / "fontglyphs"))
            runs["raster"].append(timed(rasterize_only, files, letters))
        finally:
            shutil.rmtree(scratch)
    naive, ours, raster = (median_run(runs[name]) for name in ("naive", "ours", "raster"))

    print(f"fonts: {len(files)} files, letters: {''.join(letters)}, cpu cores: {os.cpu_count()}")
    print(f"{'pipeline':<26}{'glyphs':>8}{'wall s':>8}{'cpu s':>8}{'glyphs/wall s':>15}{'glyphs/cpu s':>14}")
    rows = (
        ("naive Pillow (LANCZOS)", *naive),
        ("fontglyphs render -j 1", *ours),
        ("  rasterizer alone", *raster),
    )
    for name, count, wall, cpu in rows:
        print(f"{name:<26}{count:>8}{wall:>8.2f}{cpu:>8.2f}{count / wall:>15,.0f}{count / cpu:>14,.0f}")
    wall_ratio = (ours[0] / ours[1]) / (naive[0] / naive[1])
    cpu_ratio = (ours[0] / ours[2]) / (naive[0] / naive[2])
    repeats = f", medians of {args.repeat} interleaved runs" if args.repeat > 1 else ""
    print(f"ratio: {wall_ratio:.1f}x per wall second, {cpu_ratio:.1f}x per cpu second{repeats}")
    if args.repeat > 1:
        each = [(o[0] / o[2]) / (n[0] / n[2]) for o, n in zip(runs["ours"], runs["naive"], strict=True)]
        print("cpu ratio of each run: " + " ".join(f"{ratio:.1f}x" for ratio in each))
        naive_best, ours_best, raster_best = (
            max(count / cpu for count, _wall, cpu in runs[name]) for name in ("naive", "ours", "raster")
        )
        print(
            f"fastest repeat per cpu second: naive {naive_best:,.0f}, fontglyphs render {ours_best:,.0f}, "
            f"rasterizer alone {raster_best:,.0f}; ratio {ours_best / naive_best:.1f}x"
        )


if __name__ == "__main__":
    main()
