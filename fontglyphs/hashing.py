"""Batched perceptual hashes, bit-identical to imagehash, and Hamming near-duplicate search.

The clean stage hashes hundreds of thousands of 28x28 glyphs and looks for near copies among them.
imagehash does this one PIL image at a time. Here a whole (N, H, W) uint8 batch goes through a few
numba kernels that work on groups of LANES images side by side: a group holds each pixel position as
a row of LANES values, one per image, so every inner loop runs along a contiguous row and compiles to
vector instructions whatever the image size.

The bits match imagehash exactly. Pillow's LANCZOS resize is redone in Pillow's own arithmetic: the
same int32 fixed-point weights, int32 sums, rounding shift and clip to uint8, pass by pass in Pillow's
order, so every intermediate pixel is the one Pillow computes and no rounding of ours needs to agree
with Pillow's. phash's DCT is floating point, but within a proven bound of scipy's (see phash); the
few images whose median is too close to call within that bound are redone with scipy, as imagehash
does. Chunks of images are shared by a thread pool; the kernels release the GIL. numba is imported,
and the kernels compiled (or loaded from its on-disk cache), on the first hash, so importing this
module stays cheap. Near duplicates are found by multi-index hashing instead of comparing all pairs.

Hashes come back as packed rows: ceil(hash_size**2 / 8) uint8 per image, the big-endian integer whose
hex is ``str(imagehash.<algo>(image))``. ``as_uint64`` turns 64-bit rows into the uint64 array the
search functions take; ``GlyphHash`` wraps one row as a value.

>>> import numpy as np
>>> glyphs = np.zeros((3, 28, 28), np.uint8)
>>> glyphs[:, 4:24, 6:11] = 255                   # an "L" ...
>>> glyphs[:, 19:24, 6:22] = 255
>>> glyphs[2] = np.roll(glyphs[0], 1, axis=1)     # ... the same "L", and one shifted a pixel right
>>> packed = phash(glyphs)
>>> packed.shape, packed.dtype
((3, 8), dtype('uint8'))
>>> a, b, c = (GlyphHash.from_packed(row) for row in packed)
>>> str(a), a == b, a - c, GlyphHash.from_hex(str(a)) == a
('c76738983c983c67', True, 8, True)
>>> near_duplicate_groups(as_uint64(packed), max_distance=8)
array([0, 0, 0])
>>> near_duplicate_pairs(as_uint64(packed), max_distance=8).distance
array([0, 8, 8])
"""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np

from fontglyphs.errors import UsageError

# Pillow's fixed point for 8-bit images: 32 bits minus 8 for the pixel minus 2 for overshoot and sign.
PRECISION_BITS = 22
LANCZOS_SUPPORT = 3.0
DCT_TILE = 4  # positions _phash_flags folds at once: 64 KB of folded rows for hash_size 8
PHASH_HIGHFREQ_FACTOR = 4  # imagehash's default: the DCT sees a (4 * hash_size)^2 image
# phash images whose median lies within this fraction of the largest possible coefficient of another
# coefficient go to scipy (see phash): 2**8 times the worst disagreement of the two DCTs.
PHASH_UNSURE = 2.0**-30
LANES = 64  # images per group: a pixel position is one 64-byte row
CHUNK_PIXELS = 1 << 20  # pixels per chunk (a thread's unit of work) in its largest stage: 1024 glyphs

SearchMethod = Literal["auto", "index", "brute"]
# CPU seconds per element measured on the 2-core reference VM; they only steer the search planner.
SORT_COST = 50e-9  # mask, mix, radix sort and run detection, per hash per table
CANDIDATE_COST = 30e-9  # expand, gather, xor and popcount, per candidate pair
BRUTE_COST = 3e-9  # xor and popcount, per pair of the all-pairs scan
MAX_TABLES = 2000
# Odd multiplier (2**64 / golden ratio) that mixes a table key into its top 32 bits.
KEY_MIX = np.uint64(0x9E3779B97F4A7C15)
CANDIDATE_CHUNK = 1 << 22  # candidate pairs verified at once, bounding scratch memory


class HashInputError(UsageError, ValueError):
    """A bad argument to a hash function; also a ValueError, as imagehash raises for a bad hash_size."""


# ---------------------------------------------------------------------------------------------------
# Pillow's LANCZOS resize, reproduced exactly
# ---------------------------------------------------------------------------------------------------


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


def _lanczos(x: float) -> float:
    # math.sin is the C library's sin, the one Pillow calls, so the weights agree to the last bit.
    if -3.0 <= x < 3.0:
        return _sinc(x) * _sinc(x / 3)
    return 0.0


class _Taps(NamedTuple):
    """One resampling pass: output j is clip8((2**21 + sum_t coeffs[j, t] * input[rows[j, t]]) >> 22)
    over t < counts[j]. A tuple of arrays, the form a kernel takes."""

    rows: np.ndarray  # (n_out, taps) int32 input indices
    coeffs: np.ndarray  # (n_out, taps) int32 fixed-point weights
    counts: np.ndarray  # (n_out,) int32 taps used, even


def _frozen_taps(rows: list[list[int]], coeffs: list[list[int]]) -> _Taps:
    """Ragged windows as a _Taps: each padded to an even count (and the table to its widest) with
    weight 0 on its last row, which changes no sum and lets _resample read two rows a step."""
    counts = np.array([len(window) + len(window) % 2 for window in coeffs], np.int32)
    table = _Taps(*(np.zeros((len(counts), counts.max()), np.int32) for _ in range(2)), counts)
    for j, (window_rows, window_coeffs) in enumerate(zip(rows, coeffs, strict=True)):
        table.rows[j] = window_rows + [window_rows[-1]] * (table.rows.shape[1] - len(window_rows))
        table.coeffs[j, : len(window_coeffs)] = window_coeffs
    for array in table:
        array.flags.writeable = False
    return table


@lru_cache(maxsize=64)
def _resample_taps(in_size: int, out_size: int) -> _Taps:
    """Pillow's fixed-point LANCZOS coefficients for one axis: the integers Pillow multiplies by.

    Mirrors precompute_coeffs and normalize_coeffs_8bpc in Pillow's src/libImaging/Resample.c: the
    filter widens by the downscale factor, each output reads the window [xmin, xmax) found by
    truncation, the weights are normalised in double and rounded half away from zero to PRECISION_BITS
    fixed point. Weights that round to 0 at the window's ends are dropped.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = LANCZOS_SUPPORT * filterscale
    inverse = 1.0 / filterscale
    rows, coeffs = [], []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        taps = [_lanczos((x - center + 0.5) * inverse) for x in range(xmin, xmax)]
        total = 0.0
        for tap in taps:  # summed left to right, as Pillow does
            total += tap
        fixed = [
            int((-0.5 if k < 0 else 0.5) + k * (1 << PRECISION_BITS))
            for k in (tap / total if total != 0.0 else tap for tap in taps)
        ]
        used = [x for x, k in enumerate(fixed) if k] or [0]
        rows.append(list(range(xmin + used[0], xmin + used[-1] + 1)))
        coeffs.append(fixed[used[0] : used[-1] + 1])
    return _frozen_taps(rows, coeffs)


@lru_cache(maxsize=64)
def _identity_taps(size: int) -> _Taps:
    """A pass that keeps every value: (2**21 + 2**22 * p) >> 22 = p. It stands in for the pass Pillow
    skips when a size does not change, so that every resize is two passes."""
    return _frozen_taps([[j] for j in range(size)], [[1 << PRECISION_BITS]] * size)


@lru_cache(maxsize=1)
def _pillow_major() -> int:
    from PIL import __version__

    return int(__version__.split(".")[0])


def _vertical_first(in_width: int, in_height: int, width: int, height: int) -> bool:
    """Pillow's pass order: horizontal first, except that since Pillow 13 (python-pillow/Pillow#9549) the
    vertical pass runs first when the height loses more than twice as many pixels as the width."""
    return _pillow_major() >= 13 and height < in_height and in_height - height > 2 * (in_width - width)


class _ResizePlan(NamedTuple):
    """Pillow's two passes in its order, as _resize_group takes them. x_outer: the horizontal pass is
    first, so groups are gathered x before y; see _resize_group."""

    x_outer: bool
    first: _Taps
    second: _Taps


@lru_cache(maxsize=64)
def _resize_plan(in_width: int, in_height: int, width: int, height: int) -> _ResizePlan:
    horizontal = _resample_taps(in_width, width) if width != in_width else _identity_taps(width)
    vertical = _resample_taps(in_height, height) if height != in_height else _identity_taps(height)
    if _vertical_first(in_width, in_height, width, height):
        return _ResizePlan(False, vertical, horizontal)
    return _ResizePlan(True, horizontal, vertical)


# ---------------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------------

# Kernels are plain functions over arrays that _jit compiles with numba on first use, rebinding each
# name to its compiled version: numba (a third of a second to import) stays out of `import fontglyphs`,
# and kernels call each other through those names, as compiled code must. numba's disk cache keeps the
# machine code, so only the first run on a machine pays the compile; nogil lets the chunk threads run
# kernels side by side. fastmath only fuses multiply-adds, which phash's error bound allows for (see
# phash); the integer kernels are unaffected.
#
# A group holds LANES images side by side: pixel (a, b) of all of them is one contiguous row, so every
# inner loop runs along such rows and compiles to vector instructions whatever the image size. Each
# kernel call handles a whole chunk, one group at a time, in buffers it allocates once (under 0.5 MB
# for glyphs) and reuses group after group: fresh chunk-sized arrays for each step cost page faults
# that took as long as the arithmetic on the 2-core VM.
_KERNELS = (
    "_swap_blocks",
    "_gather",
    "_resample",
    "_resize_buffers",
    "_resize_group",
    "_resize_chunk",
    "_bitonic_steps",
    "_phash_flags",
    "_dhash_flags",
    "_average_flags",
    "_pack_flags",
    "_phash_buffers",
    "_hash_chunk",
)
_JIT_LOCK = threading.Lock()


def _jit() -> None:
    """Compile the kernels, once per process (see _KERNELS).

    numba's disk cache is found by source file but records the module's name, so a run that loads this
    file under another name (``python -m doctest fontglyphs/hashing.py``) would leave entries that the
    package cannot load: only the package module uses the cache.
    """
    with _JIT_LOCK:
        if not hasattr(globals()[_KERNELS[0]], "py_func"):
            import numba

            cache = __name__ == "fontglyphs.hashing"
            compile_kernel = numba.njit(cache=cache, nogil=True, fastmath={"contract"})
            for name in _KERNELS:
                globals()[name] = compile_kernel(globals()[name])


def _swap_blocks(
    a: np.uint64, b: np.uint64, shift: np.uint64, mask: np.uint64
) -> tuple[np.uint64, np.uint64]:
    """Exchange the high ``shift`` bits of each 2 * shift-bit block of ``a`` with the low ones of ``b``:
    one step of an 8x8 byte-matrix transpose."""
    swap = ((a >> shift) ^ b) & mask
    return a ^ (swap << shift), b ^ swap


def _gather(images: np.ndarray, start: int, x_outer: bool, out: np.ndarray) -> None:
    """Images start, start + 1, ... into the lanes of a group: out[x, y, lane] if x_outer, else
    out[y, x, lane]. Lanes past the last image keep what they held; nothing reads their results.

    Byte by byte that is a store per pixel. Where images come in whole aligned words, eight images at
    a time are read word by word (eight pixels of one image), each word of the eight transposed as an
    8x8 byte matrix in one vector loop, and stored word by word (one pixel of eight images).
    """
    height, width = images.shape[1:]
    _, inner, lanes = out.shape
    count = min(lanes, len(images) - start)
    fast = 0
    if lanes % 8 == 0 and height * width % 8 == 0 and images.ctypes.data % 8 == 0:
        fast = count - count % 8
        words, out_words = images.reshape(len(images), -1).view(np.uint64), out.reshape(-1).view(np.uint64)
        x_step, y_step = (inner * lanes // 8, lanes // 8) if x_outer else (lanes // 8, inner * lanes // 8)
        position = np.empty(height * width, np.int64)  # word of out_words holding pixel y * width + x
        for y in range(height):
            for x in range(width):
                position[y * width + x] = x * x_step + y * y_step
        m8, m16, m32 = np.uint64(0x00FF00FF00FF00FF), np.uint64(0x0000FFFF0000FFFF), np.uint64(0xFFFFFFFF)
        s8, s16, s32 = np.uint64(8), np.uint64(16), np.uint64(32)
        transposed = np.empty((8, words.shape[1]), np.uint64)
        t0, t1, t2, t3 = transposed[0], transposed[1], transposed[2], transposed[3]
        t4, t5, t6, t7 = transposed[4], transposed[5], transposed[6], transposed[7]
        for lane in range(0, fast, 8):
            k, column = start + lane, lane // 8
            r0, r1, r2, r3 = words[k], words[k + 1], words[k + 2], words[k + 3]
            r4, r5, r6, r7 = words[k + 4], words[k + 5], words[k + 6], words[k + 7]
            for q in range(words.shape[1]):  # word by word, the same steps: a vector loop
                w0, w1, w2, w3, w4, w5, w6, w7 = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q], r6[q], r7[q]
                w0, w1 = _swap_blocks(w0, w1, s8, m8)
                w2, w3 = _swap_blocks(w2, w3, s8, m8)
                w4, w5 = _swap_blocks(w4, w5, s8, m8)
                w6, w7 = _swap_blocks(w6, w7, s8, m8)
                w0, w2 = _swap_blocks(w0, w2, s16, m16)
                w1, w3 = _swap_blocks(w1, w3, s16, m16)
                w4, w6 = _swap_blocks(w4, w6, s16, m16)
                w5, w7 = _swap_blocks(w5, w7, s16, m16)
                w0, w4 = _swap_blocks(w0, w4, s32, m32)
                w1, w5 = _swap_blocks(w1, w5, s32, m32)
                w2, w6 = _swap_blocks(w2, w6, s32, m32)
                w3, w7 = _swap_blocks(w3, w7, s32, m32)
                t0[q], t1[q], t2[q], t3[q], t4[q], t5[q], t6[q], t7[q] = w0, w1, w2, w3, w4, w5, w6, w7
            for p in range(height * width):  # byte r of transposed[c, q] is pixel 8q + c of image k + r
                out_words[position[p] + column] = transposed[p % 8, p // 8]
    for lane in range(fast, count):
        image = images[start + lane]
        for y in range(height):
            for x in range(width):
                if x_outer:
                    out[x, y, lane] = image[y, x]
                else:
                    out[y, x, lane] = image[y, x]


def _resample(src: np.ndarray, taps: _Taps, transpose: bool, sums: np.ndarray, out: np.ndarray) -> None:
    """One Pillow pass along axis 0 of a (n_in, A, L) group into out, (A, n_out, L) if ``transpose``,
    else (n_out, A, L): out[j] = clip8((2**21 + sum_t coeffs[j, t] * src[rows[j, t]]) >> 22), int32
    sums of uint8 pixels times fixed-point weights, as ImagingResampleHorizontal/Vertical_8bpc.

    Each output row is a multiply-add over A * L contiguous values, two input rows at a time.
    """
    rows, coeffs, counts = taps
    n_in, across, lanes = src.shape
    width = across * lanes
    plane = src.reshape(n_in, width)
    for j in range(len(counts)):
        row0, row1, k0, k1 = plane[rows[j, 0]], plane[rows[j, 1]], coeffs[j, 0], coeffs[j, 1]
        for i in range(width):  # the first two taps start the sums, the rest add to them
            sums[i] = (1 << (PRECISION_BITS - 1)) + k0 * np.int32(row0[i]) + k1 * np.int32(row1[i])
        for t in range(2, counts[j], 2):
            row0, row1, k0, k1 = plane[rows[j, t]], plane[rows[j, t + 1]], coeffs[j, t], coeffs[j, t + 1]
            for i in range(width):
                sums[i] += k0 * np.int32(row0[i]) + k1 * np.int32(row1[i])
        if transpose:
            for a in range(across):
                row = out[a, j]
                for lane in range(lanes):
                    row[lane] = min(max(sums[a * lanes + lane] >> PRECISION_BITS, 0), 255)  # Pillow's clip8
        else:
            row = out[j].reshape(width)
            for i in range(width):
                row[i] = min(max(sums[i] >> PRECISION_BITS, 0), 255)


def _resize_buffers(
    images: np.ndarray, lanes: int, x_outer: bool, first: _Taps, second: _Taps
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(gathered, middle, sums, resized) buffers of _resize_group for one group of ``lanes`` images."""
    height, width = images.shape[1:]
    n_in, other = (width, height) if x_outer else (height, width)
    n_first, n_second = len(first.counts), len(second.counts)
    gathered = np.empty((n_in, other, lanes), np.uint8)
    middle = np.empty((other, n_first, lanes), np.uint8)
    sums = np.empty(max(other, n_first) * lanes, np.int32)
    shape = (n_second, n_first, lanes) if x_outer else (n_first, n_second, lanes)
    return gathered, middle, sums, np.empty(shape, np.uint8)


def _resize_group(
    images: np.ndarray,
    start: int,
    x_outer: bool,
    first: _Taps,
    second: _Taps,
    gathered: np.ndarray,
    middle: np.ndarray,
    sums: np.ndarray,
    resized: np.ndarray,
) -> None:
    """Pillow's LANCZOS resize of the group of images from ``start`` into resized, (height, width, L).

    The group is gathered with the first pass's axis first; that pass hands the other axis first to
    the second pass, which writes y first: transposed back after a vertical-then-horizontal order.
    """
    _gather(images, start, x_outer, gathered)
    _resample(gathered, first, True, sums, middle)
    _resample(middle, second, not x_outer, sums, resized)


def _resize_chunk(images: np.ndarray, x_outer: bool, first: _Taps, second: _Taps, out: np.ndarray) -> None:
    """Pillow's LANCZOS resize of (N, H, W) images into out, (N, height, width)."""
    lanes = min(LANES, len(images))
    gathered, middle, sums, resized = _resize_buffers(images, lanes, x_outer, first, second)
    height, width = resized.shape[:2]
    for start in range(0, len(images), lanes):
        _resize_group(images, start, x_outer, first, second, gathered, middle, sums, resized)
        for lane in range(min(lanes, len(images) - start)):
            for y in range(height):
                for x in range(width):
                    out[start + lane, y, x] = resized[y, x, lane]


def _bitonic_steps(ordered: np.ndarray, lanes: int, start: int, stop: int, block: int, last: int) -> None:
    """Steps block / 2, block / 4, ..., ``last`` of a bitonic sorting network's merge of blocks of ``block``
    rows, over rows [start, stop) of ``ordered`` (rows of ``lanes`` values, one per image): at step s, rows
    [first, first + s) meet rows [first + s, first + 2 * s), the smaller values going to the first ones
    where ``first & block`` is 0 and to the second ones elsewhere."""
    step = block // 2
    while step >= last:
        for first in range(start, stop, 2 * step):
            a = ordered[first * lanes : (first + step) * lanes]
            b = ordered[(first + step) * lanes : (first + 2 * step) * lanes]
            low_run, high_run = (a, b) if first & block == 0 else (b, a)
            for i in range(step * lanes):
                x, y = low_run[i], high_run[i]
                low_run[i], high_run[i] = min(x, y), max(x, y)
        step //= 2


def _phash_flags(
    pixels: np.ndarray,
    basis: np.ndarray,
    tolerance: float,
    flags: np.ndarray,
    unsure: np.ndarray,
    across: np.ndarray,
    low: np.ndarray,
    fold: np.ndarray,
    sums: np.ndarray,
    ordered: np.ndarray,
) -> None:
    """phash of each image of a (side, side, L) group: flags[u * hash_size + v, lane], whether the low
    (u, v) frequency of scipy's unnormalised 2-D DCT-II (over y, then over x) of the image in ``lane``
    is above the median of them all, as imagehash decides it, and unsure[lane], whether that median is
    within ``tolerance`` of another coefficient.

    Both DCT stages are the same pass. ``basis`` holds the DCT's first side / 2 rows (row side - 1 - n
    is row n, negated for odd frequencies; zero rows pad it to a multiple of 4), so the input rows are
    folded into sums (even frequencies) and differences (odd) of mirrored rows, which halves the
    multiply-adds, DCT_TILE positions at a time, so the folded rows stay in cache. Two frequencies of
    the same parity share each pass over the folded rows, four rows a step. Each output row is stored
    transposed (``across``: [x, u * L + lane]; ``low``: [u, v * L + lane]), so the second stage runs
    along x as the first along y. The median comes from a bitonic sorting network over all lanes at
    once; ``ordered`` has room for a power of two of rows, those past hash_size**2 held at +inf.
    """
    side, _, lanes = pixels.shape
    half, hash_size = side // 2, basis.shape[1]
    n_bits = hash_size * hash_size
    plane = pixels.reshape(side, side * lanes)
    for stage in range(2):
        positions, dst = (side, across) if stage == 0 else (hash_size, low)
        for first in range(0, positions, DCT_TILE):
            start, n = first * lanes, (min(first + DCT_TILE, positions) - first) * lanes
            for t in range(half):
                even, odd = fold[0, t], fold[1, t]
                if stage == 0:
                    top, bottom = plane[t, start : start + n], plane[side - 1 - t, start : start + n]
                    for i in range(n):
                        even[i] = np.float64(top[i]) + np.float64(bottom[i])
                        odd[i] = np.float64(top[i]) - np.float64(bottom[i])
                else:
                    top_x, bottom_x = across[t, start : start + n], across[side - 1 - t, start : start + n]
                    for i in range(n):
                        even[i] = top_x[i] + bottom_x[i]
                        odd[i] = top_x[i] - bottom_x[i]
            for j in range(hash_size):
                if j % 4 >= 2:
                    continue  # frequency j was done with j - 2, which reads the same folded rows
                folded, pair = fold[j % 2], j + 2 < hash_size
                sums_j, sums_k = sums[0], sums[1]
                for i in range(n):
                    sums_j[i] = sums_k[i] = 0.0
                for t in range(0, len(basis), 4):  # four folded rows a step: fused multiply-add chains
                    c0, c1, c2, c3 = basis[t, j], basis[t + 1, j], basis[t + 2, j], basis[t + 3, j]
                    k = j + 2 if pair else j
                    d0, d1, d2, d3 = basis[t, k], basis[t + 1, k], basis[t + 2, k], basis[t + 3, k]
                    row0, row1, row2, row3 = folded[t], folded[t + 1], folded[t + 2], folded[t + 3]
                    for i in range(n):
                        a0, a1, a2, a3 = row0[i], row1[i], row2[i], row3[i]
                        sums_j[i] = sums_j[i] + c0 * a0 + c1 * a1 + c2 * a2 + c3 * a3
                        sums_k[i] = sums_k[i] + d0 * a0 + d1 * a1 + d2 * a2 + d3 * a3
                for k in range(2 if pair else 1):
                    for a in range(n // lanes):
                        row = dst[first + a, (j + 2 * k) * lanes : (j + 2 * k + 1) * lanes]
                        for lane in range(lanes):
                            row[lane] = sums[k, a * lanes + lane]
    size = len(ordered) // lanes
    ordered[: n_bits * lanes] = low.reshape(-1)  # row u * hash_size + v: coefficient (u, v) of each lane
    # Bitonic sort, each half on its own first (one half of the rows stays in L1 through all its steps,
    # where the whole would go out to L2 and back at every step), then the last merge over both.
    half_rows = size // 2
    for start in range(0, size, half_rows):
        block = 2
        while block <= half_rows:
            _bitonic_steps(ordered, lanes, start, start + half_rows, block, 1)
            block *= 2
    rows = ordered.reshape(size, lanes)
    middle = n_bits // 2
    if n_bits == size:
        # The median pair lies across the halves: the merge's first step (the bitonic split) leaves the
        # smaller half of the values in the first half of the rows, so the pair is that half's largest
        # and the other half's smallest; the merge's other steps would only sort within each half.
        _bitonic_steps(ordered, lanes, 0, size, size, half_rows)
        lower, upper = rows[0].copy(), rows[half_rows].copy()
        for row in range(1, half_rows):
            for lane in range(lanes):
                lower[lane] = max(lower[lane], rows[row, lane])
                upper[lane] = min(upper[lane], rows[half_rows + row, lane])
        below, above = lower, upper  # read only for an odd count of bits
    else:
        _bitonic_steps(ordered, lanes, 0, size, size, 1)
        lower, upper = rows[(n_bits - 1) // 2], rows[middle]
        below, above = rows[middle - 1], rows[middle + 1]
    median = (lower + upper) / 2  # np.median's formula
    for lane in range(len(unsure)):
        if n_bits % 2:
            unsure[lane] = min(upper[lane] - below[lane], above[lane] - upper[lane]) <= tolerance
        else:
            unsure[lane] = (upper[lane] - lower[lane]) / 2 <= tolerance
    coefficients = low.reshape(n_bits, lanes)  # row u * hash_size + v
    for k in range(n_bits):
        for lane in range(lanes):
            flags[k, lane] = coefficients[k, lane] > median[lane]


def _dhash_flags(pixels: np.ndarray, flags: np.ndarray) -> None:
    """dhash of each image of a (height, width, L) group: flags[y * (width - 1) + x, lane], whether
    pixel (y, x + 1) of the image in ``lane`` is brighter than pixel (y, x)."""
    height, width, lanes = pixels.shape
    for y in range(height):
        for x in range(width - 1):
            left, right, row = pixels[y, x], pixels[y, x + 1], flags[y * (width - 1) + x]
            for lane in range(lanes):
                row[lane] = right[lane] > left[lane]


def _average_flags(pixels: np.ndarray, flags: np.ndarray) -> None:
    """average_hash of each image of a (height, width, L) group: flags[y * width + x, lane], whether
    pixel (y, x) of the image in ``lane`` is above the image's mean.

    imagehash compares with numpy's mean, the exact pixel sum S (an integer, exact in float64) divided
    by the count n and rounded. An integer p is above that exactly when p * n > S: if S / n is an
    integer the division is exact, and if not it lies at least 1 / n from the nearest integer, far
    more than the rounding moves it.
    """
    height, width, lanes = pixels.shape
    plane = pixels.reshape(height * width, lanes)
    total = np.zeros(lanes, np.int64)
    for k in range(len(plane)):
        for lane in range(lanes):
            total[lane] += plane[k, lane]
    for k in range(len(plane)):
        for lane in range(lanes):
            flags[k, lane] = np.int64(plane[k, lane]) * len(plane) > total[lane]


def _pack_flags(flags: np.ndarray, packed: np.ndarray) -> None:
    """packed[lane]: the (n_bits, L) flags of a lane as one big-endian integer, as _pack_bits packs a
    row, for the first len(packed) lanes."""
    n_bits, lanes = flags.shape
    pad = -n_bits % 8  # leading zero bits
    byte = np.zeros(lanes, np.uint8)
    for k in range(n_bits):
        for lane in range(lanes):
            byte[lane] = (byte[lane] << 1) | flags[k, lane]
        if (pad + k) % 8 == 7:
            for lane in range(len(packed)):
                packed[lane, (pad + k) // 8] = byte[lane]


def _phash_buffers(
    side: int, hash_size: int, lanes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(across, low, fold, sums, ordered): the buffers _phash_flags works in."""
    size = 1
    while size < hash_size * hash_size:
        size *= 2
    return (
        np.empty((side, hash_size * lanes)),
        np.empty((hash_size, hash_size * lanes)),
        np.zeros((2, -(-side // 8) * 4, DCT_TILE * lanes)),  # rows past side / 2 stay 0, as in the basis
        np.empty((2, DCT_TILE * lanes)),
        np.full(size * lanes, np.inf),
    )


def _hash_chunk(
    images: np.ndarray,
    x_outer: bool,
    first: _Taps,
    second: _Taps,
    kind: str,
    basis: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packed, unsure, doubtful) for (N, H, W) images and hash ``kind`` ("phash", "dhash" or
    "average_hash"): their packed rows, whether each is unsure (phash only: see _phash_flags), and the
    resized pixels of the unsure ones, in order, for scipy to settle. ``basis`` and ``tolerance`` are
    phash's (basis is (0, 0) for the others)."""
    count = len(images)
    lanes = min(LANES, count)
    gathered, middle, sums, resized = _resize_buffers(images, lanes, x_outer, first, second)
    height, width = resized.shape[:2]
    hash_size = basis.shape[1]
    if kind == "phash":
        n_bits = hash_size * hash_size
    else:
        n_bits = height * (width - 1) if kind == "dhash" else height * width
    scratch = _phash_buffers(height, hash_size, lanes)  # empty unless phash
    flags = np.empty((n_bits, lanes), np.uint8)
    packed = np.empty((count, -(-n_bits // 8)), np.uint8)
    unsure = np.zeros(count, np.bool_)
    doubtful = np.empty((count, height, width), np.uint8)  # only the pages written get touched
    found = 0
    for start in range(0, count, lanes):
        stop = min(start + lanes, count)
        _resize_group(images, start, x_outer, first, second, gathered, middle, sums, resized)
        if kind == "phash":
            _phash_flags(resized, basis, tolerance, flags, unsure[start:stop], *scratch)
        elif kind == "dhash":
            _dhash_flags(resized, flags)
        else:
            _average_flags(resized, flags)
        _pack_flags(flags, packed[start:stop])
        for lane in range(stop - start):
            if unsure[start + lane]:
                doubtful[found] = resized[:, :, lane]
                found += 1
    return packed, unsure, doubtful[:found]


# ---------------------------------------------------------------------------------------------------
# Chunks and threads
# ---------------------------------------------------------------------------------------------------


def _map_chunks(
    images: np.ndarray,
    size: tuple[int, int],
    out: np.ndarray,
    fn: Callable[[int, np.ndarray], np.ndarray | None],
    workers: int,
) -> np.ndarray:
    """out[chunk] = fn(start, chunk) over chunks of images resized to ``size`` (width, height), on up to
    ``workers`` threads; fn may also fill out[chunk] itself and return None.

    A chunk holds at most CHUNK_PIXELS pixels in its largest stage, and whole groups of LANES images
    where it can. The kernels let go of the GIL, so the threads keep the cores busy; each chunk
    writes only its own rows, so the result does not depend on the threads.
    """
    _jit()
    (height_in, width_in), (width, height) = images.shape[1:], size
    largest = max(height_in, height) * max(width_in, width)  # either pass order's intermediate fits too
    length = max(1, CHUNK_PIXELS // largest)
    if length > LANES:
        length -= length % LANES

    def run(start: int) -> None:
        # contiguous and writable, the one array type the kernels are compiled (and cached) for
        chunk = np.require(images[start : start + length], requirements="CW")
        rows = fn(start, chunk)
        if rows is not None:
            out[start : start + len(chunk)] = rows

    starts = range(0, len(images), length)
    if min(workers, len(starts)) <= 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(min(workers, len(starts))) as pool:
            list(pool.map(run, starts))
    return out


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise HashInputError(f"workers must be a positive integer or None, got {workers!r}")
    return workers


def resize_lanczos(images: np.ndarray, width: int, height: int, workers: int | None = None) -> np.ndarray:
    """Resize a (N, H, W) uint8 batch to (N, height, width), equal to PIL's
    ``Image.fromarray(img).resize((width, height), Image.LANCZOS)`` for every image.

    ``workers`` threads share the chunks (None: one per CPU); the result is the same for any count.
    """
    _check_images(images)
    for name, size in (("width", width), ("height", height)):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise HashInputError(f"resize {name} must be a positive integer, got {size!r}")
    out = np.empty((len(images), height, width), np.uint8)
    return _map_chunks(
        images,
        (width, height),
        out,
        lambda start, chunk: _resize_chunk(
            chunk,
            *_resize_plan(chunk.shape[2], chunk.shape[1], width, height),
            out[start : start + len(chunk)],
        ),
        _check_workers(workers),
    )


# ---------------------------------------------------------------------------------------------------
# Hashes
# ---------------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _check_images(images: np.ndarray) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3:
        raise HashInputError(f"images must be a uint8 array of shape (N, H, W), got {_describe(images)}")
    if 0 in images.shape[1:]:
        raise HashInputError(f"images must be at least 1x1 pixels, got shape {images.shape}")


def _check_hash_size(hash_size: int) -> None:
    if not isinstance(hash_size, int) or isinstance(hash_size, bool) or hash_size < 2:
        raise HashInputError(f"hash_size must be an integer >= 2, got {hash_size!r}")


def _pack_bits(bits: np.ndarray) -> np.ndarray:
    """(N, B) bools -> (N, ceil(B / 8)) uint8 holding each row as a big-endian integer."""
    pad = -bits.shape[1] % 8
    return np.packbits(np.pad(bits, ((0, 0), (pad, 0))) if pad else bits, axis=1)


def _hash_batch(images: np.ndarray, hash_size: int, kind: str, workers: int | None) -> np.ndarray:
    """Packed ``kind`` hashes of a batch, chunk by chunk (see _hash_chunk). phash's unsure images are
    settled by scipy at the end, in one batch, as its per-call cost is ten times its per-image cost."""
    _check_hash_size(hash_size)
    _check_images(images)
    side = PHASH_HIGHFREQ_FACTOR * hash_size
    # (width, height) to resize to; dhash compares neighbours along x, so it keeps one spare column
    size = {"phash": (side, side), "dhash": (hash_size + 1, hash_size)}.get(kind, (hash_size, hash_size))
    basis = _folded_basis(hash_size if kind == "phash" else 0)
    tolerance = PHASH_UNSURE * 4 * 255 * side * side
    doubtful: list[tuple[np.ndarray, np.ndarray]] = []  # (indices, resized pixels) of unsure images

    def chunk_rows(start: int, chunk: np.ndarray) -> np.ndarray:
        plan = _resize_plan(chunk.shape[2], chunk.shape[1], *size)
        packed, unsure, pixels = _hash_chunk(chunk, *plan, kind, basis, tolerance)
        if len(pixels):  # a copy, so the chunk's buffer can go
            doubtful.append((start + np.flatnonzero(unsure), pixels.copy()))
        return packed

    out = np.empty((len(images), -(-hash_size * hash_size // 8)), np.uint8)
    packed = _map_chunks(images, size, out, chunk_rows, _check_workers(workers))
    if doubtful:
        index, pixels = (np.concatenate(parts) for parts in zip(*doubtful, strict=True))
        packed[index] = _pack_bits(_phash_exact_bits(pixels, hash_size))
    return packed


@lru_cache(maxsize=16)
def _dct_basis(side: int, keep: int) -> np.ndarray:
    """The first ``keep`` rows of scipy's unnormalised DCT-II of length ``side``, as (side, keep):
    2 cos(pi k (2n + 1) / (2 side)), the angle taken modulo 2 pi first, so it is within a few ulp of
    the angle and the value within 2**-47 of the exact one, however large ``side``."""
    n, k = np.arange(side)[:, None], np.arange(keep)[None, :]
    basis = 2.0 * np.cos(np.pi * (k * (2 * n + 1) % (4 * side)) / (2 * side))
    basis.flags.writeable = False
    return basis


@lru_cache(maxsize=16)
def _folded_basis(hash_size: int) -> np.ndarray:
    """The first half of _dct_basis(4 * hash_size, hash_size), as _phash_flags takes it: rows of zeros
    pad it to a multiple of 4 rows, which it multiplies four at a time. (0, 0) for hash_size 0, what
    the other hashes pass in its place."""
    side = PHASH_HIGHFREQ_FACTOR * hash_size
    basis = np.zeros((-(-side // 8) * 4, hash_size))
    basis[: side // 2] = _dct_basis(side, hash_size)[: side // 2]
    basis.flags.writeable = False
    return basis


def _phash_exact_bits(pixels: np.ndarray, hash_size: int) -> np.ndarray:
    """imagehash's phash step as it is, on resized uint8 images: scipy's DCT over axis 0 then 1 of
    each, then the median; (N, hash_size**2) bools."""
    import scipy.fftpack

    # every DCT line is computed on its own, so only the kept vertical frequencies need the second pass
    vertical = scipy.fftpack.dct(pixels, axis=1)[:, :hash_size, :]
    low = scipy.fftpack.dct(vertical, axis=2)[:, :, :hash_size].reshape(len(pixels), -1)
    return low > np.median(low, axis=1, keepdims=True)


def average_hash(images: np.ndarray, hash_size: int = 8, workers: int | None = None) -> np.ndarray:
    """Average hash of each image of a (N, H, W) uint8 batch: is each pixel of the shrunk image above
    the mean? Follows https://www.hackerfactor.com/blog/index.php?/archives/432-Looks-Like-It.html and
    equals ``imagehash.average_hash(Image.fromarray(img), hash_size)`` bit for bit.

    Returns (N, ceil(hash_size**2 / 8)) uint8 rows, each the big-endian integer of the row-major bits.
    ``workers`` threads share the work (None: one per CPU); the bits are the same for any count.
    """
    return _hash_batch(images, hash_size, "average_hash", workers)


def phash(images: np.ndarray, hash_size: int = 8, workers: int | None = None) -> np.ndarray:
    """Perceptual hash of each image of a (N, H, W) uint8 batch: is each low-frequency DCT coefficient
    above their median? Follows https://www.hackerfactor.com/blog/index.php?/archives/432-Looks-Like-It.html
    and equals ``imagehash.phash(Image.fromarray(img), hash_size)`` bit for bit.

    Returns (N, ceil(hash_size**2 / 8)) uint8 rows, each the big-endian integer of the row-major bits.
    ``workers`` threads share the work (None: one per CPU); the bits are the same for any count.

    Why the bits are imagehash's. Let M = 4 * 255 * side**2 (side = 4 * hash_size), the most a
    coefficient can be. _phash_flags computes each within 2**-38 * M of its exact value: its basis is
    within 2**-47 of the exact one (_dct_basis), the first stage's folded pixel sums are exact
    integers, and each stage is chains of at most side / 2 + 2 fused multiply-adds and one fold, each
    step rounding once, which keeps the error below 4 * (side / 2 + 3) * 2**-53 * M, under 2**-38 * M
    for any side up to 2**13. scipy's FFT-based DCT is within a few log2(side) ulp of M. So when our
    median is more than PHASH_UNSURE * M = 2**-30 * M = 2**8 * 2**-38 * M from every other
    coefficient, scipy's coefficients split into the same two sets above and below its median, and
    every bit agrees (tests/test_hashing.py checks the bound). Images closer than that (exact ties:
    blank glyphs, mirror-symmetric ones whose odd frequencies vanish; about 5% of real glyphs) are
    done again with scipy, exactly as imagehash does. float64 it must be: in float32 the bound would
    be a few units, and the middle coefficients of a third of real glyphs lie that close together.
    """
    return _hash_batch(images, hash_size, "phash", workers)


def dhash(images: np.ndarray, hash_size: int = 8, workers: int | None = None) -> np.ndarray:
    """Difference hash of each image of a (N, H, W) uint8 batch: is each pixel of the shrunk image
    brighter than its left neighbour? Follows
    https://www.hackerfactor.com/blog/index.php?/archives/529-Kind-of-Like-That.html and equals
    ``imagehash.dhash(Image.fromarray(img), hash_size)`` bit for bit.

    Returns (N, ceil(hash_size**2 / 8)) uint8 rows, each the big-endian integer of the row-major bits.
    ``workers`` threads share the work (None: one per CPU); the bits are the same for any count.
    """
    return _hash_batch(images, hash_size, "dhash", workers)


def as_uint64(packed: np.ndarray) -> np.ndarray:
    """(N, 8) packed 64-bit hashes -> (N,) uint64, the form the near-duplicate search takes."""
    if (
        not isinstance(packed, np.ndarray)
        or packed.dtype != np.uint8
        or packed.ndim != 2
        or packed.shape[1] != 8
    ):
        raise HashInputError(
            f"packed hashes must be uint8 of shape (N, 8) (hash_size 8), got {_describe(packed)}"
        )
    return np.ascontiguousarray(packed).view(">u8")[:, 0].astype(np.uint64)


@dataclass(frozen=True)
class GlyphHash:
    """One hash as a value: ``a - b`` is the Hamming distance, ``str`` is imagehash's hex.

    Unlike imagehash.ImageHash, equality with None is simply False (and ``!=`` True), and the hash of
    the object uses every bit, so sets and dicts of hashes do not collide by construction.
    """

    value: int
    bits: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or not isinstance(self.bits, int) or self.bits < 1:
            raise HashInputError(f"a hash needs an int value and a positive int bit count, got {self!r}")
        if not 0 <= self.value < 1 << self.bits:
            raise HashInputError(f"hash value {self.value!r} does not fit in {self.bits} bits")

    def __sub__(self, other: GlyphHash) -> int:
        if not isinstance(other, GlyphHash):
            return NotImplemented
        if other.bits != self.bits:
            raise HashInputError(f"cannot compare a {self.bits}-bit hash with a {other.bits}-bit hash")
        return (self.value ^ other.value).bit_count()

    def __hash__(self) -> int:
        # hash(int) folds values modulo 2**61 - 1, so 64-bit hashes would collide (1 << 61 with 1)
        return hash((self.bits, self.value.to_bytes(-(-self.bits // 8), "big")))

    def __len__(self) -> int:
        return self.bits

    def __str__(self) -> str:
        return self.to_hex()

    def to_hex(self) -> str:
        """Hex digits as ``str(imagehash.ImageHash)`` prints them: ceil(bits / 4), zero-padded."""
        return f"{self.value:0{-(-self.bits // 4)}x}"

    @classmethod
    def from_hex(cls, text: str, hash_size: int | None = None) -> GlyphHash:
        """Parse ``to_hex`` or imagehash output; hash_size defaults to the square size the length implies,
        as imagehash.hex_to_hash assumes."""
        if hash_size is None:
            hash_size = math.isqrt(len(text) * 4)
        _check_hash_size(hash_size)
        bits = hash_size * hash_size
        if len(text) != -(-bits // 4) or not re.fullmatch("[0-9a-fA-F]+", text):
            raise HashInputError(
                f"{text!r} is not a {-(-bits // 4)}-digit hex hash for hash_size {hash_size}"
            )
        return cls(int(text, 16), bits)

    @classmethod
    def from_packed(cls, row: np.ndarray, hash_size: int = 8) -> GlyphHash:
        """Wrap one row of average_hash/phash/dhash output."""
        _check_hash_size(hash_size)
        bits = hash_size * hash_size
        if not isinstance(row, np.ndarray) or row.dtype != np.uint8 or row.shape != (-(-bits // 8),):
            raise HashInputError(
                f"a packed row for hash_size {hash_size} must be {-(-bits // 8)} uint8 bytes"
            )
        return cls(int.from_bytes(row.tobytes(), "big"), bits)


# ---------------------------------------------------------------------------------------------------
# Near-duplicate search
# ---------------------------------------------------------------------------------------------------


class Pairs(NamedTuple):
    """Index pairs within a Hamming distance, sorted by (i, j); each field is an int64 array."""

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray


@dataclass(frozen=True)
class _Grouping:
    """Items grouped by exact hash: ``values[k]`` is held by items ``order[start[k]:stop[k]]``."""

    values: np.ndarray
    inverse: np.ndarray
    order: np.ndarray
    start: np.ndarray
    stop: np.ndarray


def _group_equal(hashes: np.ndarray) -> _Grouping:
    values, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    stop = np.cumsum(counts)
    return _Grouping(values, inverse, np.argsort(inverse, kind="stable"), stop - counts, stop)


def _check_search_args(hashes: np.ndarray, name: str, max_distance: int, method: str) -> None:
    if not isinstance(hashes, np.ndarray) or hashes.dtype != np.uint64 or hashes.ndim != 1:
        raise HashInputError(
            f"{name} must be a 1-D uint64 array of hashes (see as_uint64), got {_describe(hashes)}"
        )
    if not isinstance(max_distance, int) or isinstance(max_distance, bool) or not 0 <= max_distance <= 64:
        raise HashInputError(f"max_distance must be an integer from 0 to 64, got {max_distance!r}")
    if method not in ("auto", "index", "brute"):
        raise HashInputError(f"method must be 'auto', 'index' or 'brute', got {method!r}")


def _expand_ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (k, p) with starts[k] <= p < stops[k], without a Python loop."""
    counts = np.maximum(stops - starts, 0)
    owner = np.repeat(np.arange(len(counts)), counts)
    shift = np.repeat(np.cumsum(counts) - counts - starts, counts)
    return owner, np.arange(len(owner)) - shift


def _expand_ranges_chunked(starts: np.ndarray, stops: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """_expand_ranges in pieces of about CANDIDATE_CHUNK pairs, so a crowded table cannot exhaust memory."""
    ends = np.cumsum(np.maximum(stops - starts, 0))
    if len(ends) == 0 or ends[-1] == 0:
        return
    cuts = np.searchsorted(ends, np.arange(CANDIDATE_CHUNK, ends[-1], CANDIDATE_CHUNK), side="right")
    for lo, hi in itertools.pairwise([0, *np.unique(cuts).tolist(), len(ends)]):
        owner, position = _expand_ranges(starts[lo:hi], stops[lo:hi])
        yield owner + lo, position


def _table_masks(blocks: int, max_distance: int) -> list[int]:
    """Bit masks of the multi-index tables: bit b belongs to block b % blocks, and each table keys on one
    choice of blocks - max_distance of the blocks.

    Two hashes within max_distance differ in at most max_distance blocks, so (pigeonhole) they agree
    exactly on at least one such choice and meet in that table. Interleaved rather than contiguous
    blocks spread the correlated neighbouring DCT bits of a phash over all blocks.
    """
    block_masks = [sum(1 << b for b in range(k, 64, blocks)) for k in range(blocks)]
    return [sum(combo) for combo in itertools.combinations(block_masks, blocks - max_distance)]


def _plan(n_sorted: int, n_pairs: float, max_distance: int, method: SearchMethod) -> list[int] | None:
    """Table masks of the cheapest multi-index layout, or None to compare all pairs.

    The cost model assumes uniformly random bits: a table keyed on b bits sorts every hash once and
    meets n_pairs / 2**b candidate pairs.
    """
    best_cost, best_blocks = math.inf, max_distance + 1
    for blocks in range(max_distance + 1, 65):
        tables = math.comb(blocks, max_distance)
        if tables > MAX_TABLES:
            break
        small, n_large = divmod(64, blocks)
        kept = blocks - max_distance
        # a key of `kept` blocks holding j of the n_large one-bit-longer blocks has kept * small + j bits
        candidates = sum(
            math.comb(n_large, j) * math.comb(blocks - n_large, kept - j) * 2.0 ** -(kept * small + j)
            for j in range(min(n_large, kept) + 1)
        )
        cost = tables * SORT_COST * n_sorted + CANDIDATE_COST * n_pairs * candidates
        if cost < best_cost:
            best_cost, best_blocks = cost, blocks
    if method == "brute" or (method == "auto" and BRUTE_COST * n_pairs <= best_cost):
        return None
    return _table_masks(best_blocks, max_distance)


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of uint32 keys as two 16-bit passes, which numpy radix-sorts in linear time."""
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def _table_candidates(keys: np.ndarray, n_left: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of positions in ``keys`` (masked hashes) whose keys are equal.

    n_left None: self-join, pairs (a, b) with a < b. Otherwise keys[:n_left] are the left set and the
    rest the right set, and pairs are (left position, right position - n_left). Keys are mixed down
    to 32 bits first; a collision only adds a candidate, which verification drops.
    """
    mixed = ((keys * KEY_MIX) >> 32).astype(np.uint32)
    order = _stable_order(mixed)  # stable: equal keys keep ascending positions, lefts before rights
    ordered = mixed[order]
    edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    run_start, run_stop = np.concatenate(([0], edges)), np.concatenate((edges, [len(keys)]))
    crowded = run_stop - run_start > 1
    run_start, run_stop = run_start[crowded], run_stop[crowded]
    run, position = _expand_ranges(run_start, run_stop)
    if n_left is None:
        first = position + 1
    else:
        is_left = order[position] < n_left
        lefts = np.bincount(run[is_left], minlength=len(run_start))
        run, position = run[is_left], position[is_left]
        first = run_start[run] + lefts[run]
    for owner, partner in _expand_ranges_chunked(first, run_stop[run]):
        a, b = order[position[owner]], order[partner]
        yield (a, b) if n_left is None else (a, b - n_left)


def _index_join(
    left: np.ndarray, right: np.ndarray | None, max_distance: int, masks: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within max_distance found through the multi-index tables, each reported once."""
    other = left if right is None else right
    n_left = None if right is None else len(left)
    both = left if right is None else np.concatenate((left, right))
    codes = []
    for mask in masks:
        for a, b in _table_candidates(both & np.uint64(mask), n_left):
            near = np.bitwise_count(left[a] ^ other[b]) <= max_distance
            codes.append(a[near] * len(other) + b[near])
    unique = np.unique(np.concatenate([np.zeros(0, np.int64), *codes]))
    return np.divmod(unique, len(other))


def _brute_join(
    left: np.ndarray, right: np.ndarray | None, max_distance: int
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within max_distance by comparing every pair, in blocks of rows."""
    other = left if right is None else right
    rows = max(1, CANDIDATE_CHUNK // max(len(other), 1))
    found_a, found_b = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lo in range(0, len(left), rows):
        first = lo if right is None else 0  # a self-join only needs columns from the block's first row on
        near = np.bitwise_count(left[lo : lo + rows, None] ^ other[None, first:]) <= max_distance
        a, b = np.nonzero(near)
        a, b = a + lo, b + first
        keep = b > a if right is None else slice(None)
        found_a.append(a[keep])
        found_b.append(b[keep])
    return np.concatenate(found_a), np.concatenate(found_b)


def _value_pairs(
    left: np.ndarray, right: np.ndarray | None, max_distance: int, method: SearchMethod
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of positions in distinct sorted values within max_distance, sorted; a < b if self-join."""
    if right is None:
        n_sorted, n_pairs = len(left), len(left) * (len(left) - 1) / 2
    else:
        n_sorted, n_pairs = len(left) + len(right), len(left) * len(right)
    if n_pairs == 0 or (right is None and max_distance == 0):  # distinct values are never 0 apart
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    masks = _plan(n_sorted, n_pairs, max_distance, method)
    if masks is None:
        return _brute_join(left, right, max_distance)
    return _index_join(left, right, max_distance, masks)


def _member_pairs(
    groups_a: _Grouping, groups_b: _Grouping, value_a: np.ndarray, value_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (item holding value_a[k], item holding value_b[k]) pair: the value pairs blown up to items."""
    pair, slot_a = _expand_ranges(groups_a.start[value_a], groups_a.stop[value_a])
    b_values = value_b[pair]
    item_pair, slot_b = _expand_ranges(groups_b.start[b_values], groups_b.stop[b_values])
    return groups_a.order[slot_a[item_pair]], groups_b.order[slot_b]


def _sorted_pairs(i: np.ndarray, j: np.ndarray, hashes_i: np.ndarray, hashes_j: np.ndarray) -> Pairs:
    order = np.lexsort((j, i))
    i, j = i[order].astype(np.int64), j[order].astype(np.int64)
    return Pairs(i, j, np.bitwise_count(hashes_i[i] ^ hashes_j[j]).astype(np.int64))


def near_duplicate_pairs(hashes: np.ndarray, max_distance: int, method: SearchMethod = "auto") -> Pairs:
    """Every pair i < j of 64-bit hashes within Hamming distance max_distance.

    Exact duplicates are grouped first and the search runs over distinct values, by multi-index
    hashing (method "index": split the 64 bits into blocks, look only at pairs that agree exactly on
    enough blocks, verify them by popcount) or, when the planner finds it cheaper, e.g. for a few
    hundred hashes or a large max_distance, by comparing all pairs ("brute"). A group of c equal
    hashes yields c * (c - 1) / 2 pairs; near_duplicate_groups avoids that quadratic output.
    """
    _check_search_args(hashes, "hashes", max_distance, method)
    groups = _group_equal(hashes)
    # equal hashes: partners of the item at each grouped position are the later positions of its group
    dup_owner, dup_slot = _expand_ranges(
        np.arange(1, len(hashes) + 1), groups.stop[groups.inverse[groups.order]]
    )
    value_a, value_b = _value_pairs(groups.values, None, max_distance, method)
    near_i, near_j = _member_pairs(groups, groups, value_a, value_b)
    i = np.concatenate((groups.order[dup_owner], np.minimum(near_i, near_j)))
    j = np.concatenate((groups.order[dup_slot], np.maximum(near_i, near_j)))
    return _sorted_pairs(i, j, hashes, hashes)


def near_duplicate_groups(hashes: np.ndarray, max_distance: int, method: SearchMethod = "auto") -> np.ndarray:
    """Cluster id per hash: connected components of the "within max_distance" graph (single linkage).

    What a dedup stage needs: keep one item per id. Equal hashes are merged before any pair is formed,
    so large clusters of exact copies cost nothing. Ids are numbered 0, 1, ... in order of first item.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    _check_search_args(hashes, "hashes", max_distance, method)
    groups = _group_equal(hashes)
    value_a, value_b = _value_pairs(groups.values, None, max_distance, method)
    n_values = len(groups.values)
    graph = coo_array((np.ones(len(value_a), np.int8), (value_a, value_b)), shape=(n_values, n_values))
    labels = connected_components(graph, directed=False)[1][groups.inverse]
    _, first_item, label_index = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first_item), np.int64)
    rank[np.argsort(first_item)] = np.arange(len(first_item))
    return rank[label_index]


def cross_near_pairs(
    left: np.ndarray, right: np.ndarray, max_distance: int, method: SearchMethod = "auto"
) -> Pairs:
    """Every pair (i in left, j in right) of 64-bit hashes within Hamming distance max_distance.

    For leakage checks such as "no image in small has a near duplicate in large". Same search as
    near_duplicate_pairs, run between the distinct values of the two sets.
    """
    _check_search_args(left, "left", max_distance, method)
    _check_search_args(right, "right", max_distance, method)
    groups_left, groups_right = _group_equal(left), _group_equal(right)
    value_a, value_b = _value_pairs(groups_left.values, groups_right.values, max_distance, method)
    i, j = _member_pairs(groups_left, groups_right, value_a, value_b)
    return _sorted_pairs(i, j, left, right)
