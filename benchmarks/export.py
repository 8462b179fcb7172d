"""Export benchmark: time and peak memory of each format on a synthetic split, against a naive baseline.

    python benchmarks/export.py                 # 500,000 images (about 2 GB of PNG files in a temp dir)
    python benchmarks/export.py --n 20000       # a quick run
    python benchmarks/export.py --workdir /tmp/b   # keep the generated split there and reuse it next time

A synthetic ``large`` split (glyph-like 28x28 PNGs and a manifest.csv, 10 letters x N/10 fonts) is
generated once; then each format is exported in a fresh subprocess that reports its wall time and its
own peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so one measurement never inherits another's
peak. The baseline, measured in the same run, is the naive way: ``read_png_folder`` into memory, then
``np.savez_compressed``. The ratio compares it with the streamed npz export.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fontglyphs.export import FORMATS, ExportConfig, export_splits
from fontglyphs.manifest import GlyphRecord, write_manifest

LETTERS = "ABCDEFGHIJ"
BANK = 512  # distinct base glyphs; each image is one of them, shifted


def glyph_bank(seed: int = 0) -> np.ndarray:
    """Blobby anti-aliased shapes with ink 255 on 0: their PNGs compress like rendered letters do."""
    rng = np.random.default_rng(seed)
    noise = rng.random((BANK, 10, 10))
    big = np.kron(noise, np.ones((3, 3)))[:, 1:29, 1:29]  # 28x28 blocks
    smooth = sum(np.roll(np.roll(big, dy, 1), dx, 2) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9
    return (np.clip((smooth - 0.55) * 6, 0, 1) * 255).astype(np.uint8)


def generate_split(root: Path, n: int) -> None:
    """N images as ``<root>/<LETTER>/f<font>.png`` plus manifest.csv, the clean stage's layout."""
    bank = glyph_bank()
    rng = np.random.default_rng(1)
    shifts = rng.integers(-3, 4, (n, 2))
    for letter in LETTERS:
        (root / letter).mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(n):
        font, label = divmod(i, len(LETTERS))
        image = np.roll(bank[i % BANK], tuple(shifts[i]), axis=(0, 1))
        key = f"f{font:07d}"
        path = f"{LETTERS[label]}/{key}.png"
        Image.fromarray(image).save(root / path, optimize=False)
        records.append(
            GlyphRecord(
                path=path,
                letter=LETTERS[label],
                label=label,
                key=key,
                font_path=f"fonts/{key}.ttf",
                font_sha256=hashlib.sha256(key.encode()).hexdigest(),
                face_index=0,
                instance="",
                family=f"Family {font // 4}",
                style="Regular",
                license="OFL-1.1",
                pixel_sha256=hashlib.sha256(image.tobytes()).hexdigest(),
                split="large",
            )
        )
    write_manifest(root / "manifest.csv", records)


def child_export(output: Path, formats: str) -> dict:
    start = time.perf_counter()
    export_splits(
        ExportConfig(
            formats=tuple(formats.split(",")),
            splits=("large",),
            output_dir=output,
            export_dir=output / f"export-{formats.replace(',', '-')}",
            force=True,
        )
    )
    return {"seconds": time.perf_counter() - start}


def child_naive(output: Path) -> dict:
    from fontglyphs.datasets import read_png_folder

    start = time.perf_counter()
    arrays = read_png_folder(output / "large")
    np.savez_compressed(
        output / "naive.npz",
        images=arrays.images,
        labels=arrays.labels.astype(np.uint8),
        letters=np.asarray(arrays.letters),
        keys=arrays.keys,
        families=arrays.families,
    )
    return {"seconds": time.perf_counter() - start}


def measure(output: Path, job: str) -> dict:
    """Run one job in a fresh interpreter; it prints its time and its own peak RSS as JSON."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", job, "--output", str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(output: Path, rows: dict[str, dict]) -> None:
    print(f"\n{'job':28} {'seconds':>8} {'peak RSS MB':>12} {'files MB':>9}")
    for job, stats in rows.items():
        folder = output / ("naive.npz" if job == "naive" else f"export-{job.replace(',', '-')}")
        files = [folder] if folder.is_file() else [p for p in folder.iterdir() if p.name != "manifest.json"]
        size = sum(p.stat().st_size for p in files) / 2**20
        label = "naive npz (load all, savez)" if job == "naive" else ("all (one pass)" if "," in job else job)
        print(f"{label:28} {stats['seconds']:8.1f} {stats['peak_rss_mb']:12.0f} {size:9.1f}")
    naive, npz = rows["naive"], rows["npz"]
    print(
        f"\nstreamed npz vs naive: {npz['seconds'] / naive['seconds']:.2f}x the time, "
        f"{npz['peak_rss_mb'] / naive['peak_rss_mb']:.2f}x the peak memory"
    )
    one_pass = rows[",".join(FORMATS)]["seconds"] / sum(rows[fmt]["seconds"] for fmt in FORMATS)
    print(f"all formats in one pass vs one run per format: {one_pass:.2f}x the time")


def run(output: Path, n: int) -> None:
    manifest = output / "large" / "manifest.csv"
    if not manifest.is_file() or sum(1 for _ in open(manifest)) != n + 1:  # a kept split is reused
        shutil.rmtree(output, ignore_errors=True)
        start = time.perf_counter()
        generate_split(output / "large", n)
        print(f"generated {n:,} PNGs + manifest in {time.perf_counter() - start:.0f} s", flush=True)
    report(output, {job: measure(output, job) for job in (*FORMATS, ",".join(FORMATS), "naive")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500_000, help="images in the synthetic split")
    parser.add_argument(
        "--workdir", type=Path, help="keep the split and exports here, to reuse (default: a temp dir)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stats = child_naive(args.output) if args.child == "naive" else child_export(args.output, args.child)
        stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(stats))
    elif args.workdir:
        run(args.workdir / "output", args.n)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            run(Path(scratch) / "output", args.n)


if __name__ == "__main__":
    main()
