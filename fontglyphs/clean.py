"""The clean stage: ``output/glyphs`` in; ``output/{small,large}`` and ``output/clean/`` out.

Order of work, and why:

1. load every image of the source (a render output with ``manifest.csv``, or any notMNIST-layout
   folder such as the original notMNIST_small); unreadable and wrongly sized files are flagged
   ``unreadable`` and listed, never fatal; review decisions that relabel an image apply here, so every
   later stage sees the label a person gave;
2. exact duplicates and label conflicts, by pixel bytes, so later stages see each picture once;
3. degenerate glyphs and fonts: blank, solid and ``.notdef``-box glyphs, fonts whose letters look alike;
4. label noise: out-of-fold probabilities (folds grouped by family) and confident learning
   (:mod:`fontglyphs.noise`) over what is left; fonts the model cannot read at all are symbol fonts;
5. split by family into ``small`` (``small_fraction`` of the images, counted among those it will keep)
   and ``large``;
6. near duplicates within each split and letter (hash of the ink box within ``near`` bits and mean
   ink alike; greedily one kept, never by chains), then leakage: any large image that is a near
   duplicate of an image small keeps is removed from large;
7. write both splits (hard links into the source), their manifests, the full manifest, flags,
   predictions, report and contact sheets.

``small`` is cleaned strictly (any flag removes an image); ``large`` is left as notMNIST left it, except
for exact duplicates and leaks (``clean_large=True`` cleans it strictly too). Nothing disappears
without a row: ``clean/manifest.csv`` has every input image with its split, status and flags::

    result = clean_dataset("output/glyphs", "output", CleanConfig(seed=0, noise=False))
    print(result.text())
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DatasetError, UsageError
from .letters import letter_dirname
from .manifest import (
    MANIFEST_NAME,
    GlyphRecord,
    atomic_open,
    atomic_write_text,
    manifest_csv,
    read_manifest,
    sort_records,
)
from .noise import EPOCHS as NOISE_EPOCHS
from .noise import MAX_STEPS as NOISE_MAX_STEPS

SMALL_FRACTION = 18_724 / 547_838  # notMNIST: small / (small + large), about 0.034
DEFAULT_NEAR = 4  # phash bits; docs/cleaning.md shows the distances this is chosen from
HASH_NAMES = ("phash", "dhash", "average_hash")
SPLITS = ("small", "large")
CLEAN_DIR = "clean"
SHEET_LIMIT = 256  # images per contact sheet
CAPTION_CHARS = 15  # what fits under a tile
TOP_GROUPS = 20  # most suspicious families listed in the report

# Flags, as they appear in the manifests and flags.csv.
UNREADABLE = "unreadable"
EXACT = "exact-duplicate"
CONFLICT = "label-conflict"
BLANK = "blank"
SOLID = "solid"
BOX = "notdef-box"
FONT_ALIKE = "font-identical-letters"
LETTERS_ALIKE = "letters-identical"
SYMBOL = "symbol-font"
NOISE = "label-noise-suspect"
NEAR = "near-duplicate"
LEAK = "leak"
REVIEW = "review"
RELABELLED = "relabelled"
# Flags that say what happened to an image without making it unfit for small.
INFORMATIVE = frozenset({RELABELLED})
# What large loses even when it is not cleaned.
LARGE_REMOVES = frozenset({UNREADABLE, EXACT, LEAK})
# Images with these flags are not shown to the label-noise model: they are removed anyway, and copies
# or shapeless pictures would only teach it noise.
UNSCORED = frozenset({EXACT, CONFLICT, BLANK, SOLID, BOX, FONT_ALIKE})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPLIT_ROUNDS = 4  # at most this many tries to bring small to its target size
SPLIT_TOLERANCE = 0.02  # ... stopping once within this share of it
MIN_INK = 1e-3  # ink below this counts as this much, so blank images compare without dividing by 0
ALIKE_PRESELECT_BITS = 16  # letters of one font further apart than this in hash bits are not one drawing


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the rules beyond ``--near`` (docs/cleaning.md gives the evidence for each value)."""

    ink_level: int = 128  # a pixel at or above this is ink
    near_ink: float = 1.1  # near duplicates also differ in mean ink by at most this factor
    blank_ink: float = 0.01  # mean ink (0..1) below this: a blank glyph
    solid_fill: float = 0.97  # share of ink pixels at or above this: a solid block
    box_edge: float = 0.9  # every side of the ink box at least this inked ...
    box_hollow: float = 0.05  # ... and its middle (central half each way) at most this: a .notdef box
    usual_share: float = 0.05  # a solid or box shape this common in a letter is how that letter looks
    alike_ink: float = 0.008  # letters of a font differing by at most this share of their ink: one drawing
    font_alike_share: float = 0.8  # this share of a font's letters alike: the font draws one shape
    symbol_share: float = 0.8  # this share of a font's letters read as other letters: not a letter font
    min_font_letters: int = 3  # the font-wide rules need at least this many letters
    min_font_boxes: int = 2  # box glyphs a font needs before they count as placeholders
    min_agreement: float = 0.8  # the noise model must read this share as labelled before its flags count
    majority_share: float = 0.75  # a picture with this share of its copies under one letter is that letter's
    majority_min: int = 3  # ... and at least this many copies


@dataclass(frozen=True)
class CleanConfig:
    """Every option of the clean stage; the same config and input give byte-identical outputs."""

    small_fraction: float = SMALL_FRACTION
    near: int = DEFAULT_NEAR  # Hamming distance (bits of a 64-bit hash) of near duplicates
    seed: int = 0
    clean_large: bool = False
    noise: bool = True  # run the label-noise model
    noise_folds: int = 5
    noise_epochs: float = NOISE_EPOCHS  # passes over each training fold (within the model's step limits)
    noise_max_steps: int = NOISE_MAX_STEPS  # training steps per fold at most: bounds the time on big sets
    noise_budget: float | None = None  # seconds; shortens training to fit, at the cost of determinism
    device: str = "auto"
    hash: str = "phash"
    thresholds: Thresholds = field(default_factory=Thresholds)

    def validate(self) -> None:
        if not 0.0 <= self.small_fraction <= 1.0:
            raise UsageError(f"--small-fraction {self.small_fraction}: must be between 0 and 1")
        if not 0 <= self.near <= 64:
            raise UsageError(f"--near {self.near}: must be a number of bits from 0 to 64")
        if self.noise_folds < 2:
            raise UsageError(f"--folds {self.noise_folds}: need 2 or more")
        if self.noise_epochs <= 0:
            raise UsageError(f"--noise-epochs {self.noise_epochs}: must be positive")
        if self.noise_max_steps < 1:
            raise UsageError(f"--noise-max-steps {self.noise_max_steps}: must be 1 or more")
        if self.noise_budget is not None and self.noise_budget <= 0:
            raise UsageError(f"--noise-budget {self.noise_budget}: must be a positive number of seconds")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise UsageError(f"--device {self.device!r}: choose auto, cpu or cuda")
        if self.thresholds.near_ink <= 1:
            raise UsageError(f"near_ink {self.thresholds.near_ink}: must be a factor above 1")
        if self.hash not in HASH_NAMES:
            raise UsageError(f"hash {self.hash!r}: choose one of {', '.join(HASH_NAMES)}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Finding:
    """One flag on some images: why (one detail per image) and, for copies and look-alikes, of what."""

    flag: str
    index: np.ndarray  # (n,) int64 image indices
    detail: list[str]
    partner: np.ndarray | None = None  # (n,) the image each one copies or resembles


def finding(flag: str, index, detail: str | Sequence[str] = "", partner=None) -> Finding:
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    details = [detail] * len(index) if isinstance(detail, str) else list(detail)
    if partner is not None:
        partner = np.asarray(partner, dtype=np.int64).reshape(-1)
    return Finding(flag, index, details, partner)


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Every input image: its record, and the pixels of those that could be read."""

    root: Path
    records: list[GlyphRecord]  # sorted by (label, key): "first in key order" is "lowest index"
    letters: tuple[str, ...]  # by label
    images: np.ndarray  # (M, H, W) uint8, the readable images
    index: np.ndarray  # (M,) record index of each readable image
    native: np.ndarray  # (M,) bool: the file is an 8-bit grayscale PNG that can be linked as it is
    problems: list[tuple[int, str]]  # (record index, reason) of the images that could not be used
    has_manifest: bool


def _is_gray_png(data: bytes) -> bool:
    """8-bit grayscale, the dataset contract; a file in any other form is re-encoded, not linked."""
    return (
        data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) > 25 and data[24:26] == b"\x08\x00"
    )


def _source_records(root: Path) -> tuple[list[GlyphRecord], tuple[str, ...], bool]:
    from .datasets import index_split

    manifest = root / MANIFEST_NAME
    if manifest.is_file():
        records = [
            dataclasses.replace(r, split="", status="ok", flags="")
            for r in read_manifest(manifest)
            if r.status == "ok"
        ]
        by_label = {r.label: r.letter for r in records}
        letters = tuple(by_label.get(i, "") for i in range(max(by_label, default=-1) + 1))
        return sort_records(records), letters, True
    index = index_split(root)
    records = [
        GlyphRecord(
            path=path,
            letter=index.letters[label],
            label=int(label),
            key=key,
            font_path="",
            font_sha256="",
            face_index=0,
            instance="",
            family=family,
            style="",
            license="",
            pixel_sha256="",
        )
        for path, label, key, family in zip(
            index.paths, index.labels, index.keys, index.families, strict=True
        )
    ]
    return sort_records(records), index.letters, False


def load_corpus(root: str | os.PathLike, progress: bool = False) -> Corpus:
    """Read every image under ``root``; a file that cannot be used is a problem, not an error."""
    from tqdm import tqdm

    from .datasets import read_png

    root = Path(root)
    if not root.is_dir():
        raise DatasetError(
            f"{root}: no such folder; run `fontglyphs render` first, or give a notMNIST-layout folder"
        )
    records, letters, has_manifest = _source_records(root)
    if not records:
        raise DatasetError(f"{root}: no images found (expected {root}/<LETTER>/<key>.png)")
    decoded: list[tuple[int, np.ndarray, bool]] = []
    problems: list[tuple[int, str]] = []
    for i, record in enumerate(tqdm(records, desc="reading", unit="img", disable=not progress, leave=False)):
        path = root / record.path
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append((i, f"cannot read the file ({error.strerror or error})"))
            continue
        try:
            image = read_png(io.BytesIO(data), str(path))
        except DatasetError as error:
            problems.append((i, str(error).split(": ", 1)[-1]))
            continue
        decoded.append((i, image, _is_gray_png(data)))
    if not decoded:
        first = records[problems[0][0]].path
        raise DatasetError(
            f"{root}: none of the {len(records)} images could be read (first: {first}: {problems[0][1]})"
        )
    # The size most images have is the dataset's size; the others are the odd ones out.
    shape = Counter(image.shape for _, image, _ in decoded).most_common(1)[0][0]
    kept = []
    for i, image, native in decoded:
        if image.shape == shape:
            kept.append((i, image, native))
        else:
            problems.append((i, f"size {image.shape[1]}x{image.shape[0]}, expected {shape[1]}x{shape[0]}"))
    images = np.stack([image for _, image, _ in kept])
    index = np.array([i for i, _, _ in kept], dtype=np.int64)
    for row, i in enumerate(index):
        if not records[i].pixel_sha256:
            records[i] = dataclasses.replace(
                records[i], pixel_sha256=hashlib.sha256(images[row].tobytes()).hexdigest()
            )
    return Corpus(
        root,
        records,
        letters,
        images,
        index,
        np.array([n for _, _, n in kept], dtype=bool),
        sorted(problems),
        has_manifest,
    )


# ---------------------------------------------------------------------------------------------------
# Stages: pure functions over arrays of the readable images, returning findings
# ---------------------------------------------------------------------------------------------------


def pixel_content(images: np.ndarray) -> np.ndarray:
    """An id per distinct picture, equal exactly when the pixel bytes are (a 128-bit BLAKE2 digest per
    image, sorted; sorting the raw rows instead is 10-40 times slower, glyph rows share long runs of
    background)."""
    digests = b"".join(hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images)
    return np.unique(np.frombuffer(digests, dtype="V16"), return_inverse=True)[1].reshape(-1)


def exact_duplicates(
    content: np.ndarray, labels: np.ndarray, letters: Sequence[str], thresholds: Thresholds
) -> list[Finding]:
    """Same pixels within a letter: the first (in key order) stays, the others are duplicates.

    Same pixels under several letters is a label conflict. When most copies of the picture carry one
    letter (a solid block: hundreds of sans-serif I's, and one broken font's F) the picture is that
    letter's, and only the copies under other letters conflict; without such a majority all of them do.
    """
    n = len(labels)
    n_classes = int(labels.max()) + 1
    values, first, inverse, counts = np.unique(
        content.astype(np.int64) * n_classes + labels,
        return_index=True,
        return_inverse=True,
        return_counts=True,
    )
    inverse = inverse.reshape(-1)
    keeper = first[inverse]
    duplicate = np.flatnonzero(keeper != np.arange(n))
    findings = [finding(EXACT, duplicate, "same pixels", keeper[duplicate])]
    picture, label = values // n_classes, values % n_classes
    copies = np.bincount(picture, weights=counts)
    most = np.zeros(len(copies), dtype=np.int64)
    np.maximum.at(most, picture, counts)
    majority = (counts == most[picture]) & (counts >= thresholds.majority_min)
    majority &= counts >= thresholds.majority_share * copies[picture]
    conflicting = (np.bincount(picture)[picture] > 1) & ~majority
    conflict = np.flatnonzero(conflicting[inverse])
    described: dict[int, str] = {}
    for k in np.flatnonzero(np.bincount(picture)[picture] > 1):
        text = f"{letters[label[k]]} x{counts[k]}"
        described[int(picture[k])] = (
            f"{described[int(picture[k])]}, {text}" if picture[k] in described else text
        )
    detail = [f"same pixels under {described[int(content[i])]}" for i in conflict]
    findings.append(finding(CONFLICT, conflict, detail))
    return findings


@dataclass(frozen=True)
class Shapes:
    """Per-image measurements the degenerate-glyph rules read."""

    ink: np.ndarray  # (M,) mean ink, 0..1
    fill: np.ndarray  # (M,) share of ink pixels
    box: np.ndarray  # (M,) bool: a hollow rectangle


def ink_bounds(on: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(top, bottom, left, right, any ink) of each (N, H, W) bool mask; bounds inclusive."""
    _, height, width = on.shape
    rows, cols = on.any(axis=2), on.any(axis=1)
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom, right = height - 1 - rows[:, ::-1].argmax(axis=1), width - 1 - cols[:, ::-1].argmax(axis=1)
    return top, bottom, left, right, rows.any(axis=1)


def _hollow_boxes(on: np.ndarray, edge: float, hollow: float) -> np.ndarray:
    """A rectangle outline: every side of the ink's bounding box inked, its middle empty."""
    n, height, width = on.shape
    top, bottom, left, right, inked = ink_bounds(on)
    box_h, box_w = bottom - top + 1, right - left + 1
    y, x, i = np.arange(height), np.arange(width), np.arange(n)
    in_x = (x >= left[:, None]) & (x <= right[:, None])
    in_y = (y >= top[:, None]) & (y <= bottom[:, None])
    sides = np.minimum.reduce(
        [
            (on[i, top] & in_x).sum(axis=1) / box_w,
            (on[i, bottom] & in_x).sum(axis=1) / box_w,
            (on[i, :, left] & in_y).sum(axis=1) / box_h,
            (on[i, :, right] & in_y).sum(axis=1) / box_h,
        ]
    )
    framed = np.flatnonzero(inked & (box_h >= height // 2) & (box_w >= width // 4) & (sides >= edge))
    top, bottom, left, right = top[framed], bottom[framed], left[framed], right[framed]
    box_h, box_w = box_h[framed], box_w[framed]
    mid_y = (y >= (top + box_h // 4)[:, None]) & (y <= (bottom - box_h // 4)[:, None])
    mid_x = (x >= (left + box_w // 4)[:, None]) & (x <= (right - box_w // 4)[:, None])
    middle = mid_y[:, :, None] & mid_x[:, None, :]
    middle_ink = (on[framed] & middle).sum(axis=(1, 2)) / np.maximum(middle.sum(axis=(1, 2)), 1)
    box = np.zeros(n, dtype=bool)
    box[framed[middle_ink <= hollow]] = True
    return box


def measure_shapes(images: np.ndarray, thresholds: Thresholds, chunk: int = 65536) -> Shapes:
    parts = []
    pixels = images.shape[1] * images.shape[2]
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk]
        on = batch >= thresholds.ink_level
        fill = on.sum(axis=(1, 2)) / pixels
        box = np.zeros(len(batch), dtype=bool)
        candidates = np.flatnonzero(fill < thresholds.solid_fill)  # a box's middle is empty
        box[candidates] = _hollow_boxes(on[candidates], thresholds.box_edge, thresholds.box_hollow)
        parts.append((batch.sum(axis=(1, 2), dtype=np.uint64) / (255.0 * pixels), fill, box))
    ink, fill, box = (np.concatenate(column) for column in zip(*parts, strict=True))
    return Shapes(ink, fill, box)


def degenerate_glyphs(
    shapes: Shapes, labels: np.ndarray, font: np.ndarray, letters: Sequence[str], thresholds: Thresholds
) -> tuple[list[Finding], dict[str, dict[str, float]], np.ndarray]:
    """Blank, solid and box glyphs.

    A solid or box shape that a sizeable share of a letter's images have is how fonts draw that letter
    (a sans-serif I stretched to the frame is a solid block), so it is kept. A box is a placeholder only
    when its font has more than one: an outline font's I or a square font's D is a rectangle too.

    Returns the findings, the share of each shape per letter where it counts as usual, and the mask of
    images kept for that reason.
    """
    n_classes = len(letters)
    blank = shapes.ink < thresholds.blank_ink
    solid = (shapes.fill >= thresholds.solid_fill) & ~blank
    box = shapes.box & ~blank & ~solid
    per_letter = np.maximum(np.bincount(labels, minlength=n_classes), 1)
    findings = [finding(BLANK, np.flatnonzero(blank), [f"ink {v:.4f}" for v in shapes.ink[blank]])]
    usual_shapes: dict[str, dict[str, float]] = {}
    kept_as_usual = np.zeros(len(labels), dtype=bool)
    for flag, mask in ((SOLID, solid), (BOX, box)):
        share = np.bincount(labels, weights=mask, minlength=n_classes) / per_letter
        usual = share >= thresholds.usual_share
        usual_shapes[flag] = {letters[c]: round(float(share[c]), 6) for c in np.flatnonzero(usual)}
        unusual = mask & ~usual[labels]
        if flag == BOX:
            unusual &= np.bincount(font, weights=unusual)[font] >= thresholds.min_font_boxes
        flagged = np.flatnonzero(unusual)
        kept_as_usual |= mask & usual[labels]
        detail = [
            f"ink pixels {shapes.fill[i]:.3f}; {share[labels[i]]:.1%} of {letters[labels[i]]} look so"
            for i in flagged
        ]
        findings.append(finding(flag, flagged, detail))
    return findings, usual_shapes, kept_as_usual


def _within_font_pairs(font: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b), a before b, of images of the same font; vectorised per font size."""
    order = np.argsort(font, kind="stable")
    sizes = np.bincount(font)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    a_parts, b_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for size in np.unique(sizes[sizes > 1]):
        first = starts[sizes == size][:, None]
        a_offset, b_offset = np.triu_indices(size, 1)
        a_parts.append(order[(first + a_offset).ravel()])
        b_parts.append(order[(first + b_offset).ravel()])
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _ink_difference(images: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Sum of |a - b| over the pixels, as a share of the inkier image's ink (so a hairline E and F,
    whose strokes barely reach mid-grey, differ by their bar and not by nothing)."""
    parts = [np.zeros(0)]
    for start in range(0, len(a), chunk):
        left = images[a[start : start + chunk]].astype(np.int32)
        right = images[b[start : start + chunk]].astype(np.int32)
        ink = np.maximum(left.sum(axis=(1, 2)), right.sum(axis=(1, 2)))
        parts.append(np.abs(left - right).sum(axis=(1, 2)) / np.maximum(ink, 1))
    return np.concatenate(parts)


def alike_letters(
    images: np.ndarray,
    hashes: np.ndarray,
    font: np.ndarray,
    labels: np.ndarray,
    letters: Sequence[str],
    thresholds: Thresholds,
) -> list[Finding]:
    """Letters of one font that are one drawing: they differ by at most ``alike_ink`` of their ink. A font
    most of whose letters are one drawing is flagged as a whole; otherwise each alike letter. Hash
    distance only preselects pairs: it misses the stroke that tells a boxed B from a boxed D, and the
    letters of a heavy display font differ by as little as 1.2% of their ink (docs/cleaning.md)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(labels)
    a, b = _within_font_pairs(font)
    close = np.bitwise_count(hashes[a] ^ hashes[b]) <= ALIKE_PRESELECT_BITS
    a, b = a[close], b[close]
    differ = _ink_difference(images, a, b)
    alike = differ <= thresholds.alike_ink
    a, b, differ = a[alike], b[alike], differ[alike]
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    component = connected_components(graph, directed=False)[1]
    component_size = np.bincount(component)[component]
    sizes = np.bincount(font)
    largest = np.zeros(len(sizes), dtype=np.int64)
    np.maximum.at(largest, font, component_size)
    whole = (sizes >= thresholds.min_font_letters) & (largest >= thresholds.font_alike_share * sizes)
    everyone = np.flatnonzero(whole[font])
    detail = [f"{largest[font[i]]} of {sizes[font[i]]} letters are one drawing" for i in everyone]
    findings = [finding(FONT_ALIKE, everyone, detail)]
    single = ~whole[font[a]]
    index = np.concatenate((a[single], b[single]))
    partner = np.concatenate((b[single], a[single]))
    differ = np.concatenate((differ[single], differ[single]))
    order = np.lexsort((partner, index))
    first = np.unique(index[order], return_index=True)[1]
    index, partner, differ = index[order][first], partner[order][first], differ[order][first]
    detail = [
        f"same drawing as its {letters[labels[p]]} (differs by {d:.1%} of its ink)"
        for p, d in zip(partner, differ, strict=True)
    ]
    findings.append(finding(LETTERS_ALIKE, index, detail, partner))
    return findings


def symbol_fonts(
    font: np.ndarray, scored: np.ndarray, misread: np.ndarray, thresholds: Thresholds
) -> Finding:
    """Fonts whose letters the model mostly reads as other letters: dingbats, symbols, ciphers.
    ``scored`` marks the images the model saw, ``misread`` those it predicted as another letter."""
    n_fonts = int(font.max()) + 1
    seen = np.bincount(font[scored], minlength=n_fonts)
    wrong = np.bincount(font[scored & misread], minlength=n_fonts)
    share = wrong / np.maximum(seen, 1)
    bad = (seen >= thresholds.min_font_letters) & (share >= thresholds.symbol_share)
    flagged = np.flatnonzero(bad[font])
    return finding(
        SYMBOL,
        flagged,
        [f"{wrong[font[i]]} of {seen[font[i]]} letters read as other letters" for i in flagged],
    )


def split_families(families: np.ndarray, weights: np.ndarray, target: float, seed: int) -> np.ndarray:
    """True for images of the families chosen for small, until their ``weights`` add up to about ``target``.
    Families in a seeded random order; each joins small if that brings small closer to the target, so
    small families fill the last gap. Deterministic: the same inputs and seed give the same split."""
    names, family = np.unique(families, return_inverse=True)
    family = family.reshape(-1)
    weight = np.bincount(family, weights=weights, minlength=len(names))
    chosen = np.zeros(len(names), dtype=bool)
    current = 0.0
    for f in np.random.default_rng(seed).permutation(len(names)):
        if weight[f] and abs(current + weight[f] - target) < abs(current - target):
            chosen[f] = True
            current += weight[f]
    return chosen[family]


@dataclass(frozen=True)
class Looks:
    """What near-duplicate tests compare: the hash of each image's ink box, and its mean ink.

    Two images are near duplicates when their hashes are within ``max_distance`` bits and their ink
    differs by at most a factor ``ink_ratio``. The hash sees shape, not stroke weight (a Thin and a Black
    instance of one font hash alike, docs/cleaning.md); ink, unchanged by a shift or a blur, tells them apart.
    """

    hashes: np.ndarray  # (N,) uint64
    ink: np.ndarray  # (N,) mean ink, 0..1
    max_distance: int
    ink_ratio: float

    def subset(self, index: np.ndarray) -> Looks:
        return Looks(self.hashes[index], self.ink[index], self.max_distance, self.ink_ratio)

    def alike(self, a: np.ndarray, b: np.ndarray, ink_a=None, ink_b=None) -> np.ndarray:
        """Whether items a and b (already within the hash distance) have alike ink."""
        ink_a = self.ink[a] if ink_a is None else ink_a
        ink_b = self.ink[b] if ink_b is None else ink_b
        low, high = np.minimum(ink_a, ink_b), np.maximum(ink_a, ink_b)
        return high <= self.ink_ratio * np.maximum(low, MIN_INK)

    def ink_bins(self) -> np.ndarray:
        """Log-ink buckets one ``ink_ratio`` wide: alike ink is in the same or a neighbouring bucket."""
        return np.floor(np.log(np.maximum(self.ink, MIN_INK)) / np.log(self.ink_ratio)).astype(np.int64)


def _range_products(start_a, count_a, start_b, count_b) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) with a in [start_a, start_a + count_a) and b in [start_b, start_b + count_b), per row."""
    sizes = count_a * count_b
    row = np.repeat(np.arange(len(sizes)), sizes)
    offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return start_a[row] + offset // count_b[row], start_b[row] + offset % count_b[row]


def greedy_keepers(looks: Looks, rank: np.ndarray) -> np.ndarray:
    """Keeper of each item: itself, or a kept item it is a near duplicate of.

    Items are taken in ``rank`` order (lower first); one is kept unless an item kept before it is a near
    duplicate. Unlike "one per connected group", nothing is dropped for a chain of small steps: single
    linkage at distance 4 joins thousands of different A's into one group (docs/cleaning.md). Items with
    equal hash and ink bucket are one node, which its best-ranked item stands for, so many copies cost
    nothing; the greedy pass runs in vectorised rounds, each deciding every node whose better-ranked
    neighbours are all decided.
    """
    from .hashing import near_duplicate_pairs

    values, value_of = np.unique(looks.hashes, return_inverse=True)
    bins = looks.ink_bins()
    _, node_start, node = np.unique(
        value_of.reshape(-1) * (int(bins.max() - bins.min()) + 1) + bins - bins.min(),
        return_index=True,
        return_inverse=True,
    )
    node = node.reshape(-1)
    order = np.lexsort((np.arange(len(rank)), rank))
    best = order[np.unique(node[order], return_index=True)[1]]  # the best-ranked item of each node
    position = np.empty(len(rank), dtype=np.int64)
    position[order] = np.arange(len(rank))
    node_rank = position[best]
    # Candidate nodes: those of hash values within the distance, and those of one value in other buckets.
    value_pairs = near_duplicate_pairs(values, looks.max_distance)
    x = np.concatenate((value_pairs.i, np.arange(len(values))))
    y = np.concatenate((value_pairs.j, np.arange(len(values))))
    node_value = value_of.reshape(-1)[node_start]
    first_node = np.searchsorted(node_value, np.arange(len(values)))
    nodes_of = np.bincount(node_value, minlength=len(values))
    a, b = _range_products(first_node[x], nodes_of[x], first_node[y], nodes_of[y])
    near = (a < b) & (np.abs(bins[best[a]] - bins[best[b]]) <= 1)
    a, b = a[near], b[near]
    near = looks.alike(best[a], best[b])
    a, b = a[near], b[near]
    swap = node_rank[a] > node_rank[b]
    better, worse = np.where(swap, b, a), np.where(swap, a, b)
    n_nodes = len(best)
    undecided, kept = np.ones(n_nodes, dtype=bool), np.zeros(n_nodes, dtype=bool)
    suppressor = np.full(n_nodes, -1, dtype=np.int64)
    while undecided.any():
        waiting = np.zeros(n_nodes, dtype=bool)
        waiting[worse[undecided[better]]] = True
        beaten = kept[better] & undecided[worse]
        by_rank = np.full(n_nodes, len(rank), dtype=np.int64)
        np.minimum.at(by_rank, worse[beaten], node_rank[better[beaten]])
        removed = undecided & (by_rank < len(rank))
        suppressor[removed] = node[order[by_rank[removed]]]
        newly_kept = undecided & ~removed & ~waiting
        kept |= newly_kept
        undecided &= ~(removed | newly_kept)
    owner = np.where(kept, np.arange(n_nodes), suppressor)
    return best[owner[node]]


def _describe_pairs(flag: str, index, partner, looks: Looks, where: str) -> Finding:
    order = np.lexsort((partner, index))
    index, partner = index[order], partner[order]
    first = np.unique(index, return_index=True)[1]
    index, partner = index[first], partner[first]
    distance = np.bitwise_count(looks.hashes[index] ^ looks.hashes[partner])
    ratio = np.maximum(looks.ink[index], MIN_INK) / np.maximum(looks.ink[partner], MIN_INK)
    detail = [f"distance {d}, ink x{r:.2f} of {where}" for d, r in zip(distance, ratio, strict=True)]
    return finding(flag, index, detail, partner)


def near_duplicates(looks: Looks, labels: np.ndarray, members: np.ndarray, rank: np.ndarray) -> Finding:
    """Within the ``members`` (one split), per letter: :func:`greedy_keepers` by ``rank``; every image
    that is not kept is a near duplicate of its keeper."""
    flagged, partners = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for label in np.unique(labels[members]):
        chosen = np.flatnonzero(members & (labels == label))
        keeper = chosen[greedy_keepers(looks.subset(chosen), rank[chosen])]
        copy = keeper != chosen
        flagged.append(chosen[copy])
        partners.append(keeper[copy])
    return _describe_pairs(NEAR, np.concatenate(flagged), np.concatenate(partners), looks, "a kept image")


def leaks(looks: Looks, labels: np.ndarray, small: np.ndarray, large: np.ndarray) -> Finding:
    """Large images that are near duplicates of an image small keeps (same letter): they would let a
    model trained on large see small's test images."""
    from .hashing import cross_near_pairs

    flagged, partners = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for label in np.unique(labels[small]):
        left = np.flatnonzero(small & (labels == label))
        right = np.flatnonzero(large & (labels == label))
        if len(right):
            pairs = cross_near_pairs(looks.hashes[left], looks.hashes[right], looks.max_distance)
            alike = looks.alike(left[pairs.i], right[pairs.j])
            flagged.append(right[pairs.j[alike]])
            partners.append(left[pairs.i[alike]])
    return _describe_pairs(
        LEAK, np.concatenate(flagged), np.concatenate(partners), looks, "an image in small"
    )


# ---------------------------------------------------------------------------------------------------
# Flags bookkeeping
# ---------------------------------------------------------------------------------------------------


class FlagBook:
    """Every finding, and per image the set of its flags as bits (fast to test for 500,000 images)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.findings: list[Finding] = []
        self.bits = np.zeros(n, dtype=np.uint32)
        self.bit_of: dict[str, int] = {}

    def add(self, found: Finding) -> None:
        if not len(found.index):
            return
        bit = self.bit_of.setdefault(found.flag, 1 << len(self.bit_of))
        self.bits[found.index] |= bit
        self.findings.append(found)

    def has(self, *flags: str) -> np.ndarray:
        mask = sum(self.bit_of.get(flag, 0) for flag in flags)
        return (self.bits & mask) != 0

    def any_but(self, flags: frozenset[str]) -> np.ndarray:
        return self.has(*(flag for flag in self.bit_of if flag not in flags))

    def names(self) -> list[str]:
        """The ";"-joined sorted flags of each image (one string per distinct combination)."""
        combos, inverse = np.unique(self.bits, return_inverse=True)
        text = [";".join(sorted(f for f, bit in self.bit_of.items() if combo & bit)) for combo in combos]
        return [text[k] for k in inverse.reshape(-1)]

    def count(self, flag: str, where: np.ndarray | None = None) -> int:
        mask = self.has(flag)
        return int((mask & where).sum() if where is not None else mask.sum())


# ---------------------------------------------------------------------------------------------------
# The whole stage
# ---------------------------------------------------------------------------------------------------


@dataclass
class CleanResult:
    """What a clean run produced, and the report it wrote."""

    output_dir: Path
    report: dict
    timings: dict[str, float]

    def text(self) -> str:
        """A one-screen summary for the command line."""
        report = self.report
        lines = [
            f"input: {report['input']['images']} images of {report['input']['fonts']} fonts, "
            f"{report['input']['families']} families, {len(report['input']['problems'])} unreadable"
        ]
        for split in SPLITS:
            info = report["splits"][split]
            lines.append(
                f"{split}: {info['images']} images, {info['fonts']} fonts, {info['families']} families, "
                f"{info['removed']} removed -> {self.output_dir / split}"
            )
        removed = ", ".join(f"{flag} {n['flagged']}" for flag, n in report["flags"].items())
        lines.append(f"flags: {removed or 'none'}")
        noise = report.get("noise") or {}
        for name, estimate in noise.get("splits", {}).items():
            low, high = estimate["rate_interval"]
            lines.append(
                f"label noise {name}: {estimate['rate']:.2%} (95% {low:.2%}-{high:.2%}), "
                f"{estimate['suspects']} suspects"
            )
        if not noise:
            lines.append(f"label noise: not estimated ({report['noise_skipped']})")
        elif noise["note"]:
            lines.append(f"label noise: {noise['note']}")
        review = report.get("review")
        if review and review["reviewed"]:
            lines.append(
                f"review: {review['reviewed']} reviewed, {review['overruled']} overruled, "
                f"small label error {review['error_rate']:.2%} (95% {review['interval'][0]:.2%}-"
                f"{review['interval'][1]:.2%})"
            )
        seconds = sum(self.timings.values())
        lines.append(f"report: {self.output_dir / CLEAN_DIR / 'report.md'} ({seconds:.1f} s)")
        return "\n".join(lines)


def fill_frame(images: np.ndarray) -> np.ndarray:
    """Each image's ink box stretched to the whole frame, as ``--fit stretch`` renders already are.

    Hashes of the raw frame move a lot with position: on rendered glyphs a 1-pixel shift changes a
    median 10 of phash's 64 bits (docs/cleaning.md), so a shifted copy would pass for another image.
    Hashing the ink box makes a shifted copy hash alike; stretched renders are left as they are.
    """
    from PIL import Image

    top, bottom, left, right, inked = ink_bounds(images > 0)
    height, width = images.shape[1:]
    moved = np.flatnonzero(inked & ((top > 0) | (left > 0) | (bottom < height - 1) | (right < width - 1)))
    if not len(moved):
        return images
    framed = images.copy()
    for n in moved:
        crop = Image.fromarray(images[n, top[n] : bottom[n] + 1, left[n] : right[n] + 1])
        framed[n] = np.asarray(crop.resize((width, height), Image.Resampling.BILINEAR))
    return framed


def glyph_hashes(images: np.ndarray, name: str = "phash", chunk: int = 65536) -> np.ndarray:
    """(N,) uint64 hashes (``name``: a :mod:`fontglyphs.hashing` function) of each image's ink box."""
    from . import hashing

    function = getattr(hashing, name)
    parts = [
        hashing.as_uint64(function(fill_frame(images[start : start + chunk])))
        for start in range(0, len(images), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _check_paths(source: Path, output_dir: Path) -> None:
    """Clean never reads what it is about to overwrite, nor writes where it reads (a split folder
    inside a notMNIST-layout source would be read back as a class)."""
    resolved = source.resolve()
    for name in (*SPLITS, CLEAN_DIR):
        target = (output_dir / name).resolve()
        if resolved == target or resolved.is_relative_to(target):
            raise UsageError(
                f"{source}: is clean's own output folder {output_dir / name}; copy it elsewhere or "
                "choose another --output"
            )
        if target.is_relative_to(resolved):
            raise UsageError(f"--output {output_dir}: would write {output_dir / name} inside SOURCE {source}")


def _apply_review(corpus: Corpus, decisions: dict, labels: np.ndarray, book: FlagBook) -> dict:
    """Review decisions on the readable images: rejections flag ``review``; a relabel changes the label
    (to a letter of the dataset; any other new letter rejects the image). Returns counts for the report."""
    from .review.decisions import REJECTING

    letter_index = {letter: i for i, letter in enumerate(corpus.letters) if letter}
    where = {(corpus.records[i].key, corpus.records[i].letter): row for row, i in enumerate(corpus.index)}
    rejected, rejected_detail, relabelled, relabel_detail = [], [], [], []
    unmatched = 0
    for (key, letter), decision in sorted(decisions.items()):
        row = where.get((key, letter))
        if row is None:
            unmatched += 1
            continue
        by = f" by {decision.reviewer}" if decision.reviewer else ""
        if decision.decision in REJECTING:
            rejected.append(row)
            rejected_detail.append(f"{decision.decision}{by}")
        elif decision.decision == "relabel":
            new = letter_index.get(decision.new_letter)
            if new is None:
                rejected.append(row)
                rejected_detail.append(
                    f"relabel to {decision.new_letter!r}{by}, not a letter of this dataset"
                )
            else:
                labels[row] = new
                relabelled.append(row)
                relabel_detail.append(f"{letter} -> {decision.new_letter}{by}")
    book.add(finding(REVIEW, rejected, rejected_detail))
    book.add(finding(RELABELLED, relabelled, relabel_detail))
    return {"unmatched": unmatched, "rejected": len(rejected), "relabelled": len(relabelled)}


def _run_noise(corpus, labels, families, font, scored, config: CleanConfig, progress: bool):
    """Out-of-fold estimate over the scored images, or the reason it was skipped. Folds are grouped by
    family; ``font`` tells the model which images are one face (each draws a letter once)."""
    if not config.noise:
        return None, "--no-noise"
    classes = np.unique(labels[scored])
    if len(classes) < 2:
        return None, "fewer than 2 letters among the images left after dedup"
    if len(np.unique(families[scored])) < 2:
        return None, "fewer than 2 font families among the images left after dedup"
    from .noise import estimate_label_noise

    estimate = estimate_label_noise(
        corpus.images[scored],
        labels[scored],
        families[scored],
        max(len(corpus.letters), 2),
        faces=font[scored],
        folds=config.noise_folds,
        seed=config.seed,
        device=config.device,
        time_budget=config.noise_budget,
        progress=progress,
        epochs=config.noise_epochs,
        max_steps=config.noise_max_steps,
    )
    return estimate, ""


def _noise_summary(estimate, letters: Sequence[str]) -> dict:
    """The estimate as JSON, per-class values keyed by letter, the group list cut to the top ones."""
    info = estimate.to_json()
    info["class_rates"] = {letters[c]: v for c, v in enumerate(info["class_rates"]) if c < len(letters)}
    info["class_intervals"] = {
        letters[c]: v for c, v in enumerate(info["class_intervals"]) if c < len(letters)
    }
    info["thresholds"] = {letters[c]: v for c, v in enumerate(info["thresholds"]) if c < len(letters)}
    info["group_scores"] = dict(list(info["group_scores"].items())[:TOP_GROUPS])
    return info


def clean_dataset(
    source: str | os.PathLike = "output/glyphs",
    output_dir: str | os.PathLike = "output",
    config: CleanConfig | None = None,
    *,
    progress: bool = False,
) -> CleanResult:
    """Clean ``source``; write both splits and the report under ``output_dir`` (see the module docstring)."""
    from .review.decisions import REVIEW_NAME, read_decisions, reviewed_error_estimate

    config = config or CleanConfig()
    config.validate()
    th = config.thresholds
    source, output_dir = Path(source), Path(output_dir)
    _check_paths(source, output_dir)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    corpus = load_corpus(source, progress)
    decisions = read_decisions(output_dir / CLEAN_DIR / REVIEW_NAME)
    records, rows, letters = corpus.records, corpus.index, corpus.letters
    labels = np.array([records[i].label for i in rows], dtype=np.int64)
    original_labels = labels.copy()
    families = np.array([records[i].family or records[i].key for i in rows])
    font = np.unique(np.array([records[i].key for i in rows]), return_inverse=True)[1].reshape(-1)
    book = FlagBook(len(rows))
    review_counts = _apply_review(corpus, decisions, labels, book)
    lap("load")

    hashes = glyph_hashes(corpus.images, config.hash)
    for found in exact_duplicates(pixel_content(corpus.images), labels, letters, th):
        book.add(found)
    lap("hash and exact duplicates")

    shapes = measure_shapes(corpus.images, th)
    found_shapes, usual_shapes, kept_as_usual = degenerate_glyphs(shapes, labels, font, letters, th)
    for found in found_shapes + alike_letters(corpus.images, hashes, font, labels, letters, th):
        book.add(found)
    lap("degenerate glyphs and fonts")

    scored = ~book.has(*UNSCORED)
    estimate, noise_skipped = _run_noise(corpus, labels, families, font, scored, config, progress)
    scored_rows = np.flatnonzero(scored) if estimate is not None else np.zeros(0, np.int64)
    weak_model = estimate is not None and estimate.agreement < th.min_agreement
    if estimate is not None and not weak_model:
        _flag_noise(book, estimate, scored_rows, labels, font, letters, th)
    lap("label noise")

    looks = Looks(hashes, shapes.ink, config.near, th.near_ink)
    in_small = _split(book, looks, labels, families, config)
    lap("split, near duplicates and leaks")

    removes = book.any_but(INFORMATIVE)
    kept = np.where(in_small | config.clean_large, ~removes, ~book.has(*LARGE_REMOVES))
    assigned = np.where(in_small, "small", "large")
    final, split_records = _final_records(corpus, book, labels, assigned, kept)
    review_estimate = None
    if decisions:
        automatic = [
            records[rows[r]] for r in np.flatnonzero(in_small & ~book.any_but(INFORMATIVE | {REVIEW}))
        ]
        review_estimate = {**reviewed_error_estimate(decisions, automatic), **review_counts}
    noise_info = None
    if estimate is not None:
        noise_info = _noise_report(
            estimate, scored_rows, labels, families, in_small, kept, letters, config.seed
        )
        noise_info["applied"] = not weak_model
        noise_info["note"] = (
            f"the model reads only {estimate.agreement:.0%} of the images as labelled (below "
            f"{th.min_agreement:.0%}): too weak to act on, so no image is flagged; train it longer "
            "(--noise-epochs)"
            if weak_model
            else ""
        )
    lap("assemble")

    report = _report(
        corpus,
        config,
        book,
        original_labels,
        families,
        in_small,
        kept,
        split_records,
        usual_shapes,
        noise_info,
        noise_skipped,
        review_estimate,
        decisions,
    )
    _write_outputs(corpus, output_dir, final, split_records, book, report, progress)
    sheets = _sheets(corpus, book, estimate, scored_rows, labels, kept_as_usual, kept, in_small, config.seed)
    _write_sheets(output_dir / CLEAN_DIR / "sheets", sheets)
    _write_flags(corpus, output_dir / CLEAN_DIR, book, assigned, estimate, scored_rows, labels)
    lap("write")
    atomic_write_text(output_dir / CLEAN_DIR / "timings.json", json.dumps(timings, indent=2) + "\n")
    return CleanResult(output_dir, report, timings)


def _flag_noise(book: FlagBook, estimate, scored_rows, labels, font, letters, th: Thresholds) -> None:
    """Label-noise suspects, and the fonts the model reads as other letters throughout."""
    suspects = scored_rows[estimate.suspects]
    predicted = estimate.predicted[estimate.suspects]
    probability = estimate.probabilities[estimate.suspects, predicted]
    detail = [
        f"given {letters[labels[i]]}, model reads {letters[p]} ({q:.2f})"
        for i, p, q in zip(suspects, predicted, probability, strict=True)
    ]
    book.add(finding(NOISE, suspects, detail))
    scored = np.zeros(book.n, dtype=bool)
    scored[scored_rows] = True
    misread = np.zeros(book.n, dtype=bool)
    misread[scored_rows] = estimate.predicted != labels[scored_rows]
    book.add(symbol_fonts(font, scored, misread, th))


def _split(book: FlagBook, looks: Looks, labels, families, config: CleanConfig) -> np.ndarray:
    """Split by family; flag near duplicates within each split, then large's leaks into small.

    small's target is ``small_fraction`` of what both splits will hold. What a family adds to small is
    known only after near-duplicate removal inside small, so the split is made with a first guess (one
    image per distinct look, hash and ink bucket, in each family, of those no other flag removes) and then
    redone with the target scaled by how far small's kept count fell from it; small is cheap to deduplicate.
    """
    removes = book.any_but(INFORMATIVE)
    rank = removes.astype(np.int64)  # keep a clean image of each near-duplicate group, then key order
    family = np.unique(families, return_inverse=True)[1].reshape(-1)
    eligible = np.flatnonzero(~removes)
    signature = np.stack((family, looks.hashes.view(np.int64), looks.ink_bins()))[:, eligible]
    weight = np.zeros(len(labels))
    weight[eligible[np.unique(signature, axis=1, return_index=True)[1]]] = 1.0
    total = weight.sum() if config.clean_large else float((~book.has(*LARGE_REMOVES)).sum())
    target = goal = config.small_fraction * total
    for _ in range(SPLIT_ROUNDS):
        in_small = split_families(families, weight, goal, config.seed)
        near = near_duplicates(looks, labels, in_small & ~book.has(EXACT), rank)
        kept = int((in_small & ~removes).sum()) - len(np.setdiff1d(near.index, np.flatnonzero(removes)))
        if not kept or abs(kept - target) <= SPLIT_TOLERANCE * target:
            break
        goal *= target / kept
    book.add(near)
    book.add(near_duplicates(looks, labels, ~in_small & ~book.has(EXACT), rank))
    book.add(leaks(looks, labels, in_small & ~book.any_but(INFORMATIVE), ~in_small))
    return in_small


def _noise_report(estimate, scored_rows, labels, families, in_small, kept, letters, seed: int) -> dict:
    """The model's estimate over everything scored, and confident learning redone on each split's part
    (same out-of-fold probabilities): small before and after cleaning, and large as kept."""
    from .noise import confident_learning

    info = {"model": _noise_summary(estimate, letters), "splits": {}}
    parts = {
        "small before cleaning": in_small[scored_rows],
        "small": (kept & in_small)[scored_rows],
        "large": (kept & ~in_small)[scored_rows],
    }
    for name, mask in parts.items():
        if mask.any():
            subset = confident_learning(
                labels[scored_rows][mask],
                estimate.probabilities[mask],
                families[scored_rows][mask],
                seed=seed,
            )
            summary = _noise_summary(subset, letters)
            summary.pop("model")
            info["splits"][name] = summary
    return info


def _final_records(
    corpus: Corpus, book: FlagBook, labels: np.ndarray, assigned: np.ndarray, kept: np.ndarray
):
    """Every input record with its split, status and flags (the source's path and letter, so review
    decisions keep matching), and per split the (row, record) of each kept image as the split holds it:
    ``<LETTER-DIR>/<key>.png`` under its possibly relabelled letter. A relabelled image whose font has
    its own image of the new letter becomes ``<key>~<old letter>``, keeping keys unique per letter."""
    records, rows, letters = corpus.records, corpus.index, corpus.letters
    flag_text = book.names()
    taken = {(r.key, r.letter) for r in records}
    final = list(records)
    split_records: dict[str, list[tuple[int, GlyphRecord]]] = {split: [] for split in SPLITS}
    for row, i in enumerate(rows):
        split = str(assigned[row]) if kept[row] else ""
        final[i] = dataclasses.replace(
            records[i], split=split, status="ok" if kept[row] else "removed", flags=flag_text[row]
        )
        if kept[row]:
            letter, key = letters[labels[row]], records[i].key
            if letter != records[i].letter and (key, letter) in taken:
                key = f"{key}~{letter_dirname(records[i].letter)}"
            moved = dataclasses.replace(
                final[i],
                path=f"{letter_dirname(letter)}/{key}.png",
                key=key,
                letter=letter,
                label=int(labels[row]),
            )
            split_records[split].append((row, moved))
    for i, _ in corpus.problems:
        final[i] = dataclasses.replace(records[i], split="", status="removed", flags=UNREADABLE)
    return final, split_records


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def _report(
    corpus,
    config,
    book,
    original_labels,
    families,
    in_small,
    kept,
    split_records,
    usual_shapes,
    noise_info,
    noise_skipped,
    review_estimate,
    decisions,
) -> dict:
    records, rows, letters = corpus.records, corpus.index, corpus.letters
    keys = [records[i].key for i in rows]
    flags = {}
    for flag in sorted(book.bit_of):
        flags[flag] = {
            "flagged": book.count(flag),
            "removed_from_small": book.count(flag, in_small & ~kept),
            "removed_from_large": book.count(flag, ~in_small & ~kept),
        }
    if corpus.problems:
        flags[UNREADABLE] = {
            "flagged": len(corpus.problems),
            "removed_from_small": 0,
            "removed_from_large": 0,
        }
    splits = {}
    for split, members in (("small", in_small), ("large", ~in_small)):
        chosen = split_records[split]
        per_class = Counter(record.letter for _, record in chosen)
        splits[split] = {
            "images": len(chosen),
            "assigned": int(members.sum()),
            "removed": int((members & ~kept).sum()),
            "fonts": len({record.key for _, record in chosen}),
            "families": len(set(families[members].tolist())),
            "per_class": {letter: per_class.get(letter, 0) for letter in letters if letter},
        }
    return {
        "source": str(corpus.root),
        "config": config.to_json(),
        "thresholds": {
            "near": config.near,
            "hash": config.hash,
            **dataclasses.asdict(config.thresholds),
            "usual_shapes": usual_shapes,
        },
        "input": {
            "images": len(records),
            "readable": len(rows),
            "fonts": len(set(keys)),
            "families": len(set(families.tolist())),
            "has_manifest": corpus.has_manifest,
            "letters": list(letters),
            "per_class": {
                letters[c]: int(n)
                for c, n in enumerate(np.bincount(original_labels, minlength=len(letters)))
                if letters[c]
            },
            "problems": [{"path": records[i].path, "reason": reason} for i, reason in corpus.problems],
        },
        "flags": flags,
        "splits": splits,
        "noise": noise_info,
        "noise_skipped": noise_skipped,
        "review": review_estimate,
        "review_file": bool(decisions),
    }


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def report_markdown(report: dict) -> str:
    """The report for people: what came in, what each rule removed, what the splits hold, label noise."""
    lines = ["# Clean report", "", f"Source: `{report['source']}`", ""]
    source = report["input"]
    lines += [
        f"{source['images']} images of {source['fonts']} fonts in {source['families']} families; "
        f"{source['readable']} readable.",
        "",
    ]
    if source["problems"]:
        lines += ["## Unreadable files", "", "| file | reason |", "|---|---|"]
        lines += [f"| `{p['path']}` | {p['reason']} |" for p in source["problems"]] + [""]
    lines += [
        "## Flags",
        "",
        "| flag | images | removed from small | removed from large |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {flag} | {n['flagged']} | {n['removed_from_small']} | {n['removed_from_large']} |"
        for flag, n in report["flags"].items()
    ] + [""]
    letters = [letter for letter in source["letters"] if letter]
    lines += [
        "## Splits",
        "",
        "| split | images | fonts | families | removed | " + " | ".join(letters) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(letters),
    ]
    for split, info in report["splits"].items():
        counts = " | ".join(str(info["per_class"].get(letter, 0)) for letter in letters)
        lines.append(
            f"| {split} | {info['images']} | {info['fonts']} | {info['families']} | {info['removed']} "
            f"| {counts} |"
        )
    lines.append("")
    noise = report["noise"]
    lines += ["## Label noise", ""]
    if noise:
        model = noise["model"]
        lines += [
            f"Confident learning on out-of-fold probabilities ({model['model'].get('folds')} folds grouped "
            f"by family, {model['model'].get('steps_per_fold')} steps per fold); "
            f"intervals: {model['interval']}.",
            "",
            "| set | images | suspects | rate | 95% interval | " + " | ".join(letters) + " |",
            "|---|---:|---:|---:|---|" + "---:|" * len(letters),
        ]
        for name, estimate in {"all scored": model, **noise["splits"]}.items():
            low, high = estimate["rate_interval"]
            per_class = " | ".join(_percent(estimate["class_rates"].get(letter)) for letter in letters)
            lines.append(
                f"| {name} | {estimate['images']} | {estimate['suspects']} | {_percent(estimate['rate'])} "
                f"| {_percent(low)}–{_percent(high)} | {per_class} |"
            )
        if noise["note"]:
            lines += ["", f"**Not applied**: {noise['note']}."]
        lines += [
            "",
            "The estimate for `small` after cleaning is optimistic: the suspects it would count were "
            "removed. The reviewed sample below is the honest check.",
            "",
        ]
    else:
        lines += [f"Not estimated: {report['noise_skipped']}.", ""]
    review = report["review"]
    lines += ["## Review", ""]
    if review:
        interval = review["interval"]
        lines += [
            f"{review['reviewed']} of {review['small']} small images reviewed "
            f"({review['coverage']:.1%}); {review['accepted']} accepted, {review['overruled']} overruled "
            f"({review['rejected']} rejected, {review['relabelled']} relabelled); "
            f"{review['unmatched']} decisions match no image.",
            f"Label error of small in the reviewed sample: {_percent(review['error_rate'])}"
            + (f" (95% {_percent(interval[0])}–{_percent(interval[1])})." if interval else "."),
            "",
        ]
    else:
        lines += ["No review decisions (output/clean/review.csv); `fontglyphs review` writes them.", ""]
    th = report["thresholds"]
    lines += ["## Thresholds", "", "| name | value |", "|---|---|"]
    lines += [f"| {name} | {json.dumps(value, sort_keys=True)} |" for name, value in th.items()] + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------


def _place(source: Path, target: Path, link: bool) -> bool:
    """Put ``source``'s bytes at ``target``: a hard link when the file system allows, else a copy.
    Returns whether linking still works, so a failing file system is tried once, not 500,000 times."""
    if target.exists() and link and os.path.samefile(source, target):
        return link
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    if temporary.exists():
        temporary.unlink()
    if link:
        try:
            os.link(source, temporary)
        except OSError:
            link = False
    if not link:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
    return link


def _png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, "L").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _write_split(
    corpus: Corpus, split_dir: Path, chosen: list[tuple[int, GlyphRecord]], progress: bool
) -> None:
    """The split folder holds exactly the manifest's images: new ones placed, stale ones removed."""
    from tqdm import tqdm

    link = True
    expected = set()
    for row, record in tqdm(
        chosen, desc=f"writing {split_dir.name}", unit="img", disable=not progress, leave=False
    ):
        target = split_dir / record.path
        expected.add(record.path)
        if corpus.native[row]:
            link = _place(corpus.root / corpus.records[corpus.index[row]].path, target, link)
        else:
            data = _png_bytes(corpus.images[row])
            if not target.is_file() or target.read_bytes() != data:
                with atomic_open(target, "wb") as handle:
                    handle.write(data)
    for path in sorted(split_dir.glob("*/*")):
        if (
            path.is_file()
            and f"{path.parent.name}/{path.name}" not in expected
            and (path.suffix.lower() == ".png" or path.name.endswith(".tmp"))
        ):
            path.unlink()
    for folder in sorted(split_dir.iterdir()) if split_dir.is_dir() else ():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    atomic_write_text(split_dir / MANIFEST_NAME, manifest_csv(record for _, record in chosen))


def _csv_text(header: Sequence[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_flags(
    corpus: Corpus,
    clean_dir: Path,
    book: FlagBook,
    assigned: np.ndarray,
    estimate,
    scored_rows: np.ndarray,
    labels: np.ndarray,
) -> None:
    """flags.csv (one row per image and flag; ``split`` is the one the image's family was given, so a
    removal says where it happened) and predictions.csv (what the review page shows as the model's guess)."""
    records, rows = corpus.records, corpus.index
    entries = [
        (int(rows[row]), found.flag, found.detail[k], str(assigned[row]))
        for found in book.findings
        for k, row in enumerate(found.index)
    ]
    entries += [(i, UNREADABLE, reason, "") for i, reason in corpus.problems]
    entries.sort()
    atomic_write_text(
        clean_dir / "flags.csv",
        _csv_text(
            ("path", "letter", "key", "split", "flag", "detail"),
            (
                (records[i].path, records[i].letter, records[i].key, split, flag, detail)
                for i, flag, detail, split in entries
            ),
        ),
    )
    predictions = clean_dir / "predictions.csv"
    if estimate is None:
        if predictions.exists():
            predictions.unlink()  # a stale file would show the review page guesses about other data
        return
    confidence = estimate.probabilities.max(axis=1)
    atomic_write_text(
        predictions,
        _csv_text(
            ("path", "label", "predicted", "confidence", "suspect_score"),
            (
                (records[rows[r]].path, int(labels[r]), int(p), f"{c:.6f}", f"{q:.6f}")
                for r, p, c, q in zip(
                    scored_rows, estimate.predicted, confidence, estimate.suspect_rank, strict=True
                )
            ),
        ),
    )


def _sheets(corpus, book, estimate, scored_rows, labels, kept_as_usual, kept, in_small, seed) -> dict:
    """Contact sheets by name: one per flag (copies beside what they copy), the top label-noise
    suspects, the shapes kept as usual for their letter, and a random sample of each split."""
    from .report import contact_sheet

    records, rows, letters, images = corpus.records, corpus.index, corpus.letters, corpus.images

    def caption(row: int, letter: str = "") -> str:
        # Cut here: contact_sheet trims an over-long caption one character at a time.
        text = f"{letter or letters[labels[row]]} {records[rows[row]].key}"
        return text if len(text) <= CAPTION_CHARS else text[: CAPTION_CHARS - 1] + "…"

    def spread(index: np.ndarray, limit: int) -> np.ndarray:
        """An even spread over key order, so every letter shows, not only the first."""
        if len(index) <= limit:
            return index
        return index[np.linspace(0, len(index) - 1, limit).round().astype(np.int64)]

    sheets = {}
    for found in book.findings:
        if found.flag == NOISE:
            continue
        pick = spread(np.arange(len(found.index)), SHEET_LIMIT // (2 if found.partner is not None else 1))
        tiles, captions = [], []
        for k in pick:
            tiles.append(images[found.index[k]])
            captions.append(caption(found.index[k]))
            if found.partner is not None:
                tiles.append(images[found.partner[k]])
                captions.append(caption(found.partner[k], f"={letters[labels[found.partner[k]]]}"))
        pairs = " (each beside the image it resembles)" if found.partner is not None else ""
        title = f"{found.flag}: {len(found.index)} images, {len(pick)} shown{pairs}"
        sheets[found.flag] = contact_sheet(tiles, captions, title=title)
    if estimate is not None and estimate.suspects.any():
        local = np.flatnonzero(estimate.suspects)
        local = local[np.argsort(-estimate.suspect_rank[local], kind="stable")][:SHEET_LIMIT]
        tiles = images[scored_rows[local]]
        captions = [
            caption(scored_rows[k], f"{letters[labels[scored_rows[k]]]}>{letters[estimate.predicted[k]]}")
            for k in local
        ]
        sheets["label-noise-top"] = contact_sheet(
            tiles, captions, title=f"top {len(local)} label-noise suspects (given>predicted key)"
        )
    usual = np.flatnonzero(kept_as_usual)
    if len(usual):
        pick = spread(usual, SHEET_LIMIT)
        sheets["kept-as-usual"] = contact_sheet(
            images[pick],
            [caption(r) for r in pick],
            title=f"solid or box shapes kept as usual for their letter: {len(usual)}",
        )
    rng = np.random.default_rng(seed)
    for split, members in (("small", in_small), ("large", ~in_small)):
        chosen = np.flatnonzero(kept & members)
        if len(chosen):
            pick = np.sort(rng.choice(chosen, min(SHEET_LIMIT, len(chosen)), replace=False))
            sheets[f"{split}-sample"] = contact_sheet(
                images[pick],
                [caption(r) for r in pick],
                title=f"{split}: {len(pick)} of {len(chosen)} kept images",
            )
    return sheets


def _write_outputs(
    corpus: Corpus,
    output_dir: Path,
    final: list[GlyphRecord],
    split_records: dict,
    book: FlagBook,
    report: dict,
    progress: bool,
) -> None:
    for split in SPLITS:
        _write_split(corpus, output_dir / split, split_records[split], progress)
    clean_dir = output_dir / CLEAN_DIR
    atomic_write_text(clean_dir / MANIFEST_NAME, manifest_csv(final))
    atomic_write_text(clean_dir / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(clean_dir / "report.md", report_markdown(report))


def _write_sheets(sheet_dir: Path, sheets: dict) -> None:
    from .report import save_png

    for name, sheet in sheets.items():
        save_png(sheet, sheet_dir / f"{name}.png")
    for stale in sheet_dir.glob("*.png") if sheet_dir.is_dir() else ():
        if stale.stem not in sheets:
            stale.unlink()
