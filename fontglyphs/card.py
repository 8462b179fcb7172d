"""The dataset card: ``<output>/README.md`` in the Hugging Face dataset-card style.

It says what the dataset is, exactly how it was made (command, versions, options), where every font
family came from and under which licence, how many images each split and class holds, what the cleaner
removed and how noisy the labels are estimated to be, its known limitations, and how to load each export.
"""

from __future__ import annotations

import csv
import platform
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from . import __version__
from .datasets import read_png
from .manifest import MANIFEST_NAME, atomic_write_text, read_manifest
from .report import contact_sheet, save_png

CARD_NAME = "README.md"
SAMPLES_PER_LETTER = 12


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import freetype

    versions = {
        "fontglyphs": __version__,
        "python": platform.python_version(),
        "freetype": ".".join(map(str, freetype.version())),
    }
    for package in ("numpy", "pillow", "fonttools", "torch"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def _licence_files(records) -> dict[str, str]:
    """Family -> licence file from fonts/SOURCES.csv beside the fonts, when the corpus ships one."""
    found = {}
    for sources in {
        Path(r.font_path).parents[len(Path(r.font_path).parents) - 2] / "SOURCES.csv"
        for r in records
        if len(Path(r.font_path).parents) >= 2
    }:
        if sources.is_file():
            with open(sources, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    if row.get("family") and row.get("license_file"):
                        found.setdefault(row["family"], row["license_file"])
    return found


def _sample_sheet(split_dir: Path, records, letters, seed: int = 0):
    """A few glyphs of every letter, chosen at random (seeded) so the sheet shows the spread of fonts."""
    rng = np.random.default_rng(seed)
    by_letter = defaultdict(list)
    for record in records:
        by_letter[record.letter].append(record)
    images, captions = [], []
    for letter in letters:
        pool = by_letter.get(letter, [])
        for index in sorted(rng.choice(len(pool), min(SAMPLES_PER_LETTER, len(pool)), replace=False)):
            images.append(read_png(split_dir / pool[index].path))
            captions.append(letter)
    return contact_sheet(images, captions, columns=SAMPLES_PER_LETTER, scale=2) if images else None


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _loading_section(exports: list[dict]) -> str:
    names = {e["name"] for e in exports}
    small = {
        fmt: next((n for n in sorted(names) if "small" in n and n.endswith(ext)), None)
        for fmt, ext in (
            ("tar", ".tar.gz"),
            ("mat", ".mat"),
            ("h5", ".h5"),
            ("npz", ".npz"),
            ("idx", "images-idx3-ubyte.gz"),
        )
    }
    return f"""## How to load it

PNG folders (`small/`, `large/`) are the notMNIST layout, so torchvision reads them as they are:

```python
from torchvision.datasets import ImageFolder
small = ImageFolder("small", loader=lambda p: __import__("PIL.Image").Image.open(p).convert("L"))
```

With fontglyphs installed, every format has a torch Dataset with the same interface:

```python
from fontglyphs.datasets import load_arrays
data = load_arrays("export/{small["h5"] or "notMNIST_small.h5"}")   # or the .npz, .mat, IDX or a PNG folder
data.images.shape, data.labels[:10], data.letters
```

numpy (`{small["npz"]}`):

```python
import numpy as np
with np.load("export/{small["npz"]}") as f:
    images, labels, letters = f["images"], f["labels"], f["letters"]
```

h5py (`{small["h5"]}`):

```python
import h5py
with h5py.File("export/{small["h5"]}") as f:
    images, labels = f["images"][:], f["labels"][:]       # (N, 28, 28) uint8, (N,)
    letters = f.attrs["letters"]
```

scipy / GNU Octave / MATLAB (`{small["mat"]}`, images are 28 x 28 x N as in notMNIST's .mat):

```python
import scipy.io
m = scipy.io.loadmat("export/{small["mat"]}")
images, labels = m["images"], m["labels"].ravel()          # images[:, :, i] is the i-th glyph
```

```octave
m = load("export/{small["mat"]}"); size(m.images), m.labels(1)
```

MNIST IDX (`{small["idx"]}`): byte-for-byte the MNIST format, so MNIST readers work unchanged
(e.g. torchvision's `read_image_file`, `idx2numpy.convert_from_file`).

The exact layouts are documented in the fontglyphs repository's `docs/formats.md`; `fontglyphs verify export`
re-reads every file and checks it against the manifests and `SHA256SUMS`.
"""


def write_dataset_card(result, config) -> Path:
    """Write ``<output>/README.md`` and its sample sheets from a finished build."""
    output_dir = Path(result.output_dir)
    report = result.clean
    letters = report["input"]["letters"]
    glyph_records = read_manifest(output_dir / "glyphs" / MANIFEST_NAME)
    split_records = {split: read_manifest(output_dir / split / MANIFEST_NAME) for split in ("small", "large")}

    sheet_lines = []
    for split, records in split_records.items():
        sheet = _sample_sheet(output_dir / split, records, letters)
        if sheet is not None:
            save_png(sheet, output_dir / "card" / f"{split}.png")
            sheet_lines.append(f"**{split}**\n\n![{split} samples](card/{split}.png)\n")

    counts = [
        [split]
        + [report["splits"][split]["per_class"].get(letter, 0) for letter in letters]
        + [report["splits"][split]["images"], report["splits"][split]["families"]]
        for split in ("small", "large")
    ]
    flag_rows = [
        [flag, n["flagged"], n["removed_from_small"], n["removed_from_large"]]
        for flag, n in report["flags"].items()
    ]
    noise_rows = [
        [
            name,
            f"{e['rate']:.2%}",
            f"{e['rate_interval'][0]:.2%} – {e['rate_interval'][1]:.2%}",
            e["suspects"],
        ]
        for name, e in (report.get("noise") or {}).get("splits", {}).items()
    ]

    licence_file = _licence_files(glyph_records)
    families = defaultdict(lambda: {"faces": set(), "licences": Counter(), "images": 0})
    for record in glyph_records:
        entry = families[record.family]
        entry["faces"].add(record.key)
        entry["licences"][record.license] += 1
        entry["images"] += 1
    family_rows = [
        [family, len(e["faces"]), e["images"], ", ".join(sorted(e["licences"])), licence_file.get(family, "")]
        for family, e in sorted(families.items())
    ]
    licence_totals = Counter()
    for e in families.values():
        licence_totals.update(e["licences"])

    versions = _versions()
    rejected = Counter(r.reason.split(" (")[0] for r in result.render.rejects if r.letter == "*")
    baseline = result.baseline
    card = f"""---
pretty_name: fontglyphs notMNIST-style letters {letters[0]}–{letters[-1]}
task_categories:
- image-classification
size_categories:
- {_size_category(sum(len(r) for r in split_records.values()))}
license: other
license_details: "per font family, see the table below (the images are renderings of the fonts)"
tags:
- notMNIST
- fonts
- glyphs
---

# fontglyphs dataset: letters {", ".join(letters)}

{report["input"]["images"]:,} renderings of the letters {", ".join(letters)} from
{result.render.fonts_rendered:,} font files ({len(families)} families), as 28x28 8-bit grayscale images in
the notMNIST tradition: a **large** set that is left uncleaned (except exact duplicates and leaks into small)
and a **small** set that is cleaned strictly, disjoint by font family. The protocol is notMNIST's: train on
large, test on small.

{chr(10).join(sheet_lines)}
## How it was made

Command: `{config.command or "fontglyphs build"}`

Versions: {", ".join(f"{k} {v}" for k, v in versions.items())}.

1. **render**: {result.render.fonts_found:,} font files found; every face and named instance of each rendered
   with FreeType (exact area coverage, no hinting), fit `{config.render.options.fit}`, size
   {config.render.options.size}; {sum(rejected.values())} files rejected ({
        _counter_text(rejected) or "none"
    }).
2. **clean**: perceptual-hash (pHash) exact and near-duplicate removal (Hamming distance ≤ {
        report["thresholds"]["near"]
    }),
   degenerate glyphs and fonts, confident-learning label-noise estimate, family-disjoint split
   (small fraction {report["config"]["small_fraction"]}, seed {report["config"]["seed"]}).
3. **export**: {", ".join(config.formats)} (see "How to load it"); every file re-read by `fontglyphs verify`.

## Counts

{_table(["split", *letters, "images", "families"], counts)}

### What the cleaner removed

{
        _table(["flag", "flagged", "removed from small", "removed from large"], flag_rows)
        if flag_rows
        else "Nothing."
    }

### Label noise (confident learning, out-of-fold, folds grouped by family)

{
        _table(["part", "estimated error rate", "95% interval", "suspects"], noise_rows)
        if noise_rows
        else "Not estimated (" + str(report.get("noise_skipped")) + ")."
    }

{_baseline_text(baseline)}
## Sources and licences

Images are renderings of the fonts below; each family keeps its own licence (texts in the source corpus's
`LICENSES/` folder). Totals by licence: {_counter_text(licence_totals)} images.

{_table(["family", "faces", "images", "licence", "licence file"], family_rows)}

## Known limitations

- Label noise is estimated, not measured: the small set is cleaned automatically (confident learning and
  hashing rules), not by hand, unless `fontglyphs review` decisions were applied ({_review_text(report)}).
- Fonts are a sample of what the corpus holds: families with many styles weigh more; decorative and
  symbol fonts are flagged by rules and a model, so some odd-but-correct letters may be removed and some
  wrong ones kept.
- With `--fit stretch` every glyph fills the frame, so aspect ratio is lost by design (notMNIST's look).
- Near-duplicates are judged by a 64-bit perceptual hash; two different fonts that draw a letter alike are
  treated as duplicates.

{_loading_section(result.exports)}
## Files

{
        _table(
            ["file", "bytes", "sha256"],
            [[e["name"], f"{e['bytes']:,}", f"`{e['sha256']}`"] for e in result.exports],
        )
    }
"""
    path = output_dir / CARD_NAME
    atomic_write_text(path, card)
    return path


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return name
    return "1M<n<10M"


def _counter_text(counter: Counter) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counter.most_common())


def _review_text(report: dict) -> str:
    review = report.get("review") or {}
    if not review.get("reviewed"):
        return "none so far"
    return f"{review['reviewed']} reviewed, {review.get('overruled', 0)} overruled"


def _baseline_text(metrics: dict | None) -> str:
    if not metrics:
        return "## Baseline\n\nNot run (`fontglyphs build --baseline` or `fontglyphs baseline` trains one).\n"
    test = metrics.get("test", {})
    return (
        f"## Baseline\n\n`fontglyphs baseline --train large --test small`: test accuracy "
        f"{test.get('accuracy', float('nan')):.2%} on {metrics.get('device', '?')} "
        f"({metrics.get('model', {}).get('name', metrics.get('config', {}).get('model', 'cnn'))}).\n"
    )
