"""Batched perceptual hashes, bit-identical to imagehash, and Hamming near-duplicate search.

The clean stage hashes hundreds of thousands of 28x28 glyphs and looks for near copies among them.
imagehash does this one PIL image at a time; here a whole (N, H, W) uint8 batch is hashed with a few
matrix products, and the bits match imagehash exactly because Pillow's fixed-point LANCZOS resampling
is reproduced integer for integer. Near duplicates are found by multi-index hashing instead of
comparing all pairs.

Hashes come back as packed rows: one row of ceil(hash_size**2 / 8) uint8 per image, holding the
big-endian integer whose hex is ``str(imagehash.<algo>(image))``. ``as_uint64`` turns 64-bit rows into
the uint64 array the search functions take; ``GlyphHash`` wraps a single row.

>>> import numpy as np
>>> glyphs = np.zeros((3, 28, 28), np.uint8)
>>> glyphs[:, 4:24, 9:19] = 255          # two identical bars ...
>>> glyphs[2, 4:24, 9] = 0                # ... and one with a column of ink missing
>>> packed = phash(glyphs)
>>> packed.shape, packed.dtype
((3, 8), dtype('uint8'))
>>> a, b, c = (GlyphHash.from_packed(row) for row in packed)
>>> a == b, a - c <= 8, GlyphHash.from_hex(str(a)) == a
(True, True, True)
>>> near_duplicate_groups(as_uint64(packed), max_distance=8)
array([0, 0, 0])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np

from fontglyphs.errors import UsageError

# Pillow's fixed point for 8-bit images: 32 bits minus 8 for the pixel minus 2 for overshoot and sign.
PRECISION_BITS = 22
LANCZOS_SUPPORT = 3.0
PHASH_HIGHFREQ_FACTOR = 4  # imagehash's default: the DCT sees a (4 * hash_size)^2 image
HASH_CHUNK = 4096  # images per resize/DCT batch: bounds float64 scratch to tens of MB

SearchMethod = Literal["auto", "index", "brute"]
# Measured per-element costs on the reference 2-core machine (seconds); they only steer the planner.
SORT_COST = 80e-9  # mask, argsort and run detection, per hash per table
CANDIDATE_COST = 60e-9  # expand, gather, xor, popcount, per candidate pair
BRUTE_COST = 4e-9  # xor and popcount, per pair in the all-pairs scan
MAX_TABLES = 2000
CANDIDATE_CHUNK = 1 << 22  # candidate pairs verified at once


class HashInputError(UsageError, ValueError):
    """A bad hash argument; also a ValueError, as imagehash raises for a bad hash_size."""


# ---------------------------------------------------------------------------------------------------
# Pillow's LANCZOS resize, reproduced exactly
# ---------------------------------------------------------------------------------------------------


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


def _lanczos(x: float) -> float:
    # math.sin is the C library sin Pillow calls, so the float64 weights agree to the last bit.
    if -3.0 <= x < 3.0:
        return _sinc(x) * _sinc(x / 3)
    return 0.0


@lru_cache(maxsize=64)
def _resample_weights(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's fixed-point LANCZOS weights as an (out_size, in_size) matrix of integers (as float64).

    Follows precompute_coeffs and normalize_coeffs_8bpc in Pillow's src/libImaging/Resample.c: the
    filter widens by the downscale factor, each output pixel's window is [xmin, xmax) rounded by
    truncation, the weights are normalised in double and then rounded half away from zero to
    PRECISION_BITS fixed point. Stored as float64 so BLAS does the products; every partial sum is an
    integer below 2**53, so the matmul is exact whatever order BLAS adds in.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = LANCZOS_SUPPORT * filterscale
    weights = np.zeros((out_size, in_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        taps = [_lanczos((x - center + 0.5) / filterscale) for x in range(xmin, xmax)]
        # Pillow multiplies by ss = 1 / filterscale; division by filterscale differs when it is not 1.
        taps = [_lanczos((x - center + 0.5) * (1.0 / filterscale)) for x in range(xmin, xmax)]
        total = 0.0
        for tap in taps:
            total += tap
        for x, tap in zip(range(xmin, xmax), taps, strict=True):
            k = tap / total if total != 0.0 else tap
            weights[xx, x] = int(k * (1 << PRECISION_BITS) + (-0.5 if k < 0 else 0.5))
    weights.flags.writeable = False
    return weights
