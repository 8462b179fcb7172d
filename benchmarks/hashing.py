"""Perceptual-hash throughput: fontglyphs' batched hashes against imagehash per image, same glyphs, one run.

The glyphs are real: letters A-J of every font file under the repo's fonts/, rendered to 28x28 by
``fontglyphs.raster.render_font`` in both looks (stretch and contain), shuffled with a fixed seed and cut
to --n. The baseline is what a per-image pipeline does with such an array:
``imagehash.<hash>(Image.fromarray(img))`` for each image, on one core. fontglyphs hashes the whole array
in one call, first on one thread, then on every CPU. Every hash of both runs is checked against imagehash.

fontglyphs is called back to back for as long as imagehash took, so both are timed over the same span.
Its first calls, which import numba and compile the kernels (or load them from numba's disk cache), are
timed apart, before the table.
The machine may be shared, so each side runs --repeat times, interleaved, and the medians count:
  per-core ratio  imagehash CPU seconds / fontglyphs CPU seconds on one thread (time.process_time), the
                  work each needs, whatever else the machine is doing;
  wall ratio      imagehash wall seconds / fontglyphs wall seconds on all CPUs (time.perf_counter), what a
                  user waits, which on a busy machine depends on how many cores the others leave free.

    python benchmarks/hashing.py --n 4000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from fontglyphs.fonts import discover_font_files
from fontglyphs.hashing import GlyphHash, average_hash, dhash, phash
from fontglyphs.raster import RenderOptions, render_font

FONTS_DIR = Path(__file__).resolve().parents[1] / "fonts"
HASHERS = [
    ("phash", phash, imagehash.phash),
    ("dhash", dhash, imagehash.dhash),
    ("average_hash", average_hash, imagehash.average_hash),
]


def render_glyphs(fonts_dir: Path, n: int, seed: int) -> tuple[np.ndarray, int]:
    """(up to n glyphs, font files used): A-J of every font in both fit modes, shuffled with ``seed``."""
    files = discover_font_files([fonts_dir])
    glyphs = []
    for fit in ("stretch", "contain"):
        for path in files:
            for glyph_set in render_font(path, "ABCDEFGHIJ", RenderOptions(fit=fit)):
                glyphs.extend(glyph_set.images.values())
    if not glyphs:
        sys.exit(f"no glyphs rendered from {fonts_dir}: the benchmark needs the repo's font corpus")
    order = np.random.default_rng(seed).permutation(len(glyphs))[:n]
    return np.stack([glyphs[k] for k in order]), len(files)


def timed(run: Callable[[], object], min_seconds: float) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of the whole process, result) per call, over as many calls as take
    ``min_seconds``: both sides are then timed over similar spans, which a busy scheduler treats alike."""
    calls, wall, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        result = run()
        calls += 1
        elapsed = time.perf_counter() - wall
        if elapsed >= min_seconds:
            return elapsed / calls, (time.process_time() - cpu) / calls, result


def measure(
    ours: Callable[..., np.ndarray], reference: Callable, glyphs: np.ndarray, hash_size: int, repeat: int
) -> tuple[dict[str, tuple[float, float]], bool]:
    """Median (wall, CPU) microseconds per image of imagehash, fontglyphs on one thread and on all CPUs,
    and whether every fontglyphs hash equals imagehash's."""
    workers = {"one": 1, "all": os.cpu_count() or 1}
    runs: dict[str, list[tuple[float, float]]] = {"imagehash": [], "one": [], "all": []}
    identical = True
    for _ in range(repeat):
        span, cpu, hashes = timed(lambda: [reference(Image.fromarray(g), hash_size) for g in glyphs], 0)
        runs["imagehash"].append((span, cpu))
        expected = [str(h) for h in hashes]
        for key, count in workers.items():
            wall, cpu, packed = timed(lambda count=count: ours(glyphs, hash_size, workers=count), span)
            runs[key].append((wall, cpu))
            identical &= [GlyphHash.from_packed(r, hash_size).to_hex() for r in packed] == expected
    scale = 1e6 / len(glyphs)
    medians = {
        key: (scale * statistics.median(w for w, _ in times), scale * statistics.median(c for _, c in times))
        for key, times in runs.items()
    }
    return medians, identical


def row(cells: list[object]) -> str:
    widths = [-13, 10, 10, 12, 10, 13, 8, 11]
    return "".join(
        f"{cell!s:<{-w}}" if w < 0 else f"{cell!s:>{w}}" for cell, w in zip(cells, widths, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="glyph images to hash (default 4000)")
    parser.add_argument("--hash-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side; the medians count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fonts", type=Path, default=FONTS_DIR, help="font folder (default: the repo's)")
    args = parser.parse_args()

    glyphs, n_files = render_glyphs(args.fonts, args.n, args.seed)
    cpus = os.cpu_count() or 1
    print(f"{len(glyphs)} glyphs of 28x28: A-J of {n_files} font files, stretch and contain")
    print(f"hash_size {args.hash_size}; median of {args.repeat} interleaved runs per side; {cpus} CPUs")
    start = time.perf_counter()
    for _, ours, _ in HASHERS:
        ours(glyphs[:1], args.hash_size)
    print(f"first calls (numba import + kernel compile or cache load): {time.perf_counter() - start:.1f} s")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("microseconds per image: imagehash on one core; fontglyphs on 1 thread and on all CPUs")
    print(row(["hash", "ih CPU", "ih wall", "fg 1t CPU", "per-core", f"fg {cpus}t wall", "wall", "same"]))
    all_identical = True
    for name, ours, reference in HASHERS:
        us, identical = measure(ours, reference, glyphs, args.hash_size, args.repeat)
        all_identical &= identical
        (ih_wall, ih_cpu), (_, one_cpu), (all_wall, _) = us["imagehash"], us["one"], us["all"]
        print(row([
            name,
            f"{ih_cpu:.2f}",
            f"{ih_wall:.2f}",
            f"{one_cpu:.2f}",
            f"{ih_cpu / one_cpu:.1f}x",
            f"{all_wall:.2f}",
            f"{ih_wall / all_wall:.1f}x",
            "yes" if identical else "NO",
        ]))  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
