"""Batched perceptual hashes against imagehash itself, the hash value type, and near-duplicate search
against brute force.

The property checks (shift, rotation, length, hex round trip, bad sizes, golden values) run once for
every hasher, as imagehash's own tests do.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import imagehash
import numpy as np
import pytest
from fontfactory import build_font
from PIL import Image, ImageDraw, ImageFont

from fontglyphs.errors import UsageError
from fontglyphs.hashing import (
    PHASH_UNSURE,
    PRECISION_BITS,
    GlyphHash,
    HashInputError,
    Pairs,
    _folded_basis,
    _jit,
    _phash_buffers,
    _phash_flags,
    _resample_taps,
    as_uint64,
    average_hash,
    cross_near_pairs,
    dhash,
    near_duplicate_groups,
    near_duplicate_pairs,
    phash,
    resize_lanczos,
)
from fontglyphs.raster import RenderOptions, render_font

HASHERS = {
    "phash": (phash, imagehash.phash),
    "dhash": (dhash, imagehash.dhash),
    "average_hash": (average_hash, imagehash.average_hash),
}
# imagehash output for fixture_glyph(), pinned so a silent change to any algorithm fails here
GOLDEN = {
    ("phash", 8): "c39a2c6d1c363667",
    ("dhash", 8): "d1c9c8c9c1c0c8c8",
    ("average_hash", 8): "387c6c7c7c606020",
    ("phash", 5): "18995a3",
    ("dhash", 5): "18a4212",
    ("average_hash", 5): "0c73908",
}


def fixture_glyph() -> np.ndarray:
    """A soft-edged "P" filling the 28x28 frame, drawn with numpy so it never depends on a font."""
    yy, xx = np.mgrid[0:28, 0:28]
    ink = np.zeros((28, 28))
    ink[2:26, 5:11] = 1
    ring = np.hypot(yy - 9, xx - 13)
    ink[(ring > 3) & (ring < 8) & (xx >= 8)] = 1
    for _ in range(2):
        p = np.pad(ink, 1)
        ink = (2 * p[1:-1, 1:-1] + p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 6
    return np.round(ink / ink.max() * 255).astype(np.uint8)


def text_glyphs(n: int, rng: np.random.Generator) -> np.ndarray:
    """Letters drawn with Pillow's bundled font at random sizes and offsets, like rendered glyphs."""
    out = np.zeros((n, 28, 28), np.uint8)
    fonts = {size: ImageFont.load_default(size=size) for size in range(8, 33, 4)}
    for k in range(n):
        image = Image.new("L", (28, 28))
        font = fonts[int(rng.choice(list(fonts)))]
        xy = (int(rng.integers(-4, 12)), int(rng.integers(-8, 8)))
        ImageDraw.Draw(image).text(xy, "ABCDEFGHIJ"[k % 10], fill=255, font=font)
        out[k] = np.asarray(image)
    return out


def mixed_images(rng: np.random.Generator) -> np.ndarray:
    """About 2,000 28x28 images: noise, sparse dots, constants (median ties), symmetric shapes, letters."""
    noise = rng.integers(0, 256, (400, 28, 28), dtype=np.uint8)
    sparse = np.where(rng.random((400, 28, 28)) < 0.04, rng.integers(1, 256, (400, 28, 28)), 0).astype(
        np.uint8
    )
    constant = np.broadcast_to(np.arange(0, 256, 4, dtype=np.uint8)[:, None, None], (64, 28, 28))
    bars = np.zeros((136, 28, 28), np.uint8)
    for k, bar in enumerate(bars):  # left-right symmetric bars: half the DCT block is exactly zero
        half = 1 + k % 13
        bar[2 + k % 5 : 26 - k % 3, 14 - half : 14 + half] = 255 - k
    return np.concatenate([noise, sparse, constant, bars, text_glyphs(1000, rng)])


def reference_hex(reference, images: np.ndarray, hash_size: int) -> list[str]:
    return [str(reference(Image.fromarray(image), hash_size)) for image in images]


def hex_rows(packed: np.ndarray, hash_size: int) -> list[str]:
    return [GlyphHash.from_packed(row, hash_size).to_hex() for row in packed]


# ---------------------------------------------------------------------------------------------------
# Bit identity with imagehash, and Pillow's resize underneath it
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> np.ndarray:
    return mixed_images(np.random.default_rng(20240501))


@pytest.mark.parametrize("name", HASHERS)
def test_bit_identical_to_imagehash_on_mixed_images(name, mixed):
    ours, reference = HASHERS[name]
    assert hex_rows(ours(mixed), 8) == reference_hex(reference, mixed, 8)


@pytest.mark.parametrize("hash_size", [2, 3, 5, 7, 12, 16])
@pytest.mark.parametrize("name", HASHERS)
def test_bit_identical_for_other_hash_sizes(name, hash_size, mixed):
    ours, reference = HASHERS[name]
    sample = mixed[::10]
    assert hex_rows(ours(sample, hash_size), hash_size) == reference_hex(reference, sample, hash_size)


@pytest.mark.parametrize("shape", [(28, 28), (13, 47), (64, 9), (5, 5), (1, 3)])
@pytest.mark.parametrize("name", HASHERS)
def test_bit_identical_for_other_image_sizes(name, shape):
    ours, reference = HASHERS[name]
    images = np.random.default_rng(sum(shape)).integers(0, 256, (40, *shape), dtype=np.uint8)
    assert hex_rows(ours(images), 8) == reference_hex(reference, images, 8)


def test_resize_matches_pillow_lanczos_including_pass_order():
    rng = np.random.default_rng(7)
    # (in_height, in_width, height, width): up, down, mixed, one axis only, and tall shrinks that
    # Pillow 13 runs vertical pass first
    cases = [
        (28, 28, 32, 32),
        (28, 28, 8, 9),
        (60, 9, 34, 2),
        (100, 60, 32, 32),
        (40, 5, 5, 3),
        (9, 8, 8, 9),
        (30, 30, 30, 7),
        (30, 30, 7, 30),
        (2, 3, 50, 40),
        (37, 12, 24, 9),
    ]
    for _ in range(40):
        cases.append(tuple(int(v) for v in rng.integers(1, 70, 4)))
    for in_height, in_width, height, width in cases:
        images = rng.integers(0, 256, (6, in_height, in_width), dtype=np.uint8)
        expected = [np.asarray(Image.fromarray(im).resize((width, height), Image.LANCZOS)) for im in images]
        np.testing.assert_array_equal(resize_lanczos(images, width, height), np.stack(expected))


def test_batches_larger_than_a_chunk_and_empty_batches():
    images = mixed_images(np.random.default_rng(3))[:700]
    whole = phash(images)
    np.testing.assert_array_equal(whole[300:], phash(images[300:]))
    assert phash(images[:0]).shape == (0, 8)
    assert dhash(images[:0], 3).shape == (0, 2)


def fixed_weights(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's fixed-point weights as a dense (in_size, out_size) int64 matrix."""
    taps = _resample_taps(in_size, out_size)
    weights = np.zeros((in_size, out_size), np.int64)
    for out, count in enumerate(taps.counts):
        np.add.at(weights[:, out], taps.rows[out, :count], taps.coeffs[out, :count])
    return weights


def tie_row(in_size: int, out_size: int) -> tuple[int, np.ndarray]:
    """(output, input row) whose fixed-point LANCZOS sum for that output is exactly half-way between two
    integers, where Pillow rounds up and plain round-half-even would not."""
    k = fixed_weights(in_size, out_size)
    values = np.arange(256)
    half, whole = 1 << (PRECISION_BITS - 1), 1 << PRECISION_BITS
    for out in range(out_size):
        for a, b, c in itertools.combinations(np.flatnonzero(k[:, out]), 3):
            for pa in range(1, 256):
                sums = k[a, out] * pa + k[b, out] * values[:, None] + k[c, out] * values[None, :]
                hits = np.argwhere(sums % whole == half)
                if len(hits):
                    row = np.zeros(in_size, np.int64)
                    row[[a, b, c]] = pa, *hits[0]
                    assert (k[:, out] @ row) % whole == half
                    return out, row.astype(np.uint8)
    raise AssertionError("no tie found")


def pillow_resize(images: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(im).resize((width, height), Image.LANCZOS)) for im in images])


def test_sums_exactly_half_way_round_up_like_pillow():
    _, row = tie_row(28, 32)
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 11] = row  # a tie in the horizontal pass
    images[1] = images[0].T  # ... in the vertical pass
    images[2] = np.maximum(images[0], images[1])
    for width, height in ((32, 28), (28, 32), (32, 32)):
        np.testing.assert_array_equal(
            resize_lanczos(images, width, height), pillow_resize(images, width, height)
        )
    for name, (ours, reference) in HASHERS.items():
        assert hex_rows(ours(images), 8) == reference_hex(reference, images, 8), name


def test_very_wide_windows_match_pillow():
    # a 13,000x shrink: each output sums about 80,000 taps, still within int32 as in Pillow
    images = np.random.default_rng(11).integers(0, 256, (2, 1, 40000), dtype=np.uint8)
    np.testing.assert_array_equal(resize_lanczos(images, 3, 1), pillow_resize(images, 3, 1))
    np.testing.assert_array_equal(
        resize_lanczos(images.transpose(0, 2, 1), 1, 3), pillow_resize(images.transpose(0, 2, 1), 1, 3)
    )


def test_lanczos_sums_fit_in_int32():
    # Pillow's sums, ours too, are int32: 2**21 + 255 * (sum of |weights| of an output) must stay below 2**31
    sizes = [1, 2, 3, 5, 8, 9, 13, 16, 28, 32, 33, 64, 100]
    worst = max(np.abs(fixed_weights(i, o)).sum(axis=0).max() for i, o in itertools.product(sizes, sizes))
    assert (1 << (PRECISION_BITS - 1)) + 255 * worst < 2**31


@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (2, 2), (3, 200), (200, 3), (28, 28)])
def test_unchanged_and_tiny_sizes_match_pillow(shape):
    # an axis whose size does not change is a pass Pillow skips: here an identity pass, same pixels
    images = np.random.default_rng(sum(shape)).integers(0, 256, (9, *shape), dtype=np.uint8)
    height, width = shape
    for out_width, out_height in ((width, height), (width, 7), (5, height), (32, 32), (9, 8), (1, 1)):
        np.testing.assert_array_equal(
            resize_lanczos(images, out_width, out_height), pillow_resize(images, out_width, out_height)
        )


def test_tall_shrinks_run_the_vertical_pass_first_like_pillow():
    # Pillow 13 resizes y first when the height loses more than twice as many pixels as the width
    images = np.random.default_rng(13).integers(0, 256, (33, 90, 28), dtype=np.uint8)
    for width, height in ((28, 8), (24, 9), (32, 5), (9, 8)):
        np.testing.assert_array_equal(
            resize_lanczos(images, width, height), pillow_resize(images, width, height)
        )
    for name, (ours, reference) in HASHERS.items():
        assert hex_rows(ours(images, 5), 5) == reference_hex(reference, images, 5), name


@pytest.mark.parametrize("name", HASHERS)
def test_unaligned_strided_read_only_and_odd_batches_give_the_same_bits(name, mixed):
    # the 8x8 byte transpose needs eight whole images and 8-byte aligned rows; other batches go pixel
    # by pixel, and must agree
    ours, reference = HASHERS[name]
    images = mixed[:45]
    expected = reference_hex(reference, images, 8)
    unaligned = np.empty(images.size + 1, np.uint8)[1:].reshape(images.shape)
    unaligned[...] = images
    transposed = np.ascontiguousarray(images.transpose(0, 2, 1)).transpose(0, 2, 1)
    read_only = images.copy()
    read_only.flags.writeable = False
    for variant in (images, unaligned, transposed, np.repeat(images, 2, axis=0)[::2], read_only):
        assert hex_rows(ours(variant), 8) == expected
    for count in (1, 7, 9, 33):
        assert hex_rows(ours(images[:count]), 8) == expected[:count]


def test_images_larger_than_a_chunk_match_pillow():
    images = np.random.default_rng(12).integers(0, 256, (3, 700, 400), dtype=np.uint8)
    np.testing.assert_array_equal(resize_lanczos(images, 32, 32), pillow_resize(images, 32, 32))
    assert hex_rows(phash(images), 8) == reference_hex(imagehash.phash, images, 8)


@pytest.mark.parametrize("hash_size", [2, 3, 8, 16])
def test_dct_coefficients_are_within_the_proven_bound_of_scipys(hash_size):
    # phash's exactness argument: every coefficient of ours within 2**-38 * M of scipy's, far below the
    # PHASH_UNSURE * M margin that sends an image to scipy
    import scipy.fftpack

    _jit()
    side, lanes = 4 * hash_size, 8
    rng = np.random.default_rng(hash_size)
    images = np.concatenate([
        rng.integers(0, 256, (3, side, side)),
        np.full((2, side, side), 255),
        np.where(rng.random((3, side, side)) < 0.1, 255, 0),
    ]).astype(np.uint8)  # fmt: skip
    scratch = _phash_buffers(side, hash_size, lanes)
    basis = _folded_basis(hash_size)
    flags, unsure = np.empty((hash_size * hash_size, lanes), np.uint8), np.empty(lanes, np.bool_)
    _phash_flags(np.ascontiguousarray(images.transpose(1, 2, 0)), basis, 0.0, flags, unsure, *scratch)
    ours = scratch[1].reshape(hash_size, hash_size, lanes).transpose(2, 0, 1)
    theirs = scipy.fftpack.dct(scipy.fftpack.dct(images, axis=1), axis=2)[:, :hash_size, :hash_size]
    largest = 4 * 255 * side * side
    assert np.abs(ours - theirs).max() <= 2.0**-38 * largest
    assert 2.0**-38 <= PHASH_UNSURE / 2**8  # the margin keeps a factor of 256 in hand


def test_importing_the_module_leaves_numba_for_the_first_hash():
    code = "import sys, fontglyphs.hashing; assert 'numba' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", HASHERS)
def test_any_worker_count_gives_the_same_bits_and_bad_counts_raise(name, mixed):
    ours, reference = HASHERS[name]
    # shuffled, so the median ties of the constant and bar images fall in many chunks and threads
    images = mixed[np.random.default_rng(4).permutation(len(mixed))]
    expected = reference_hex(reference, images, 8)
    for workers in (1, 2, 3, None):
        assert hex_rows(ours(images, workers=workers), 8) == expected
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(HashInputError, match="workers must be a positive integer or None"):
            ours(images[:3], workers=bad)
    with pytest.raises(HashInputError, match="workers"):
        resize_lanczos(images[:3], 8, 8, workers=0)


def test_work_arrays_reused_across_calls_of_other_shapes_give_the_same_bits(mixed):
    first = phash(mixed[:600])
    phash(mixed[:5], 16)
    dhash(mixed[:300], 5)
    resize_lanczos(mixed[:7], 50, 3)
    average_hash(mixed[:1], 2)
    np.testing.assert_array_equal(phash(mixed[:600]), first)


def test_bit_identical_on_glyphs_rendered_from_font_files(tmp_path):
    fonts = [
        build_font(tmp_path / "a.ttf"),
        build_font(tmp_path / "b.otf", cff=True, cell=80, weight=0.6),
        build_font(tmp_path / "c.ttf", cell=120, weight=1.3, slant=0.2),
        build_font(tmp_path / "d.ttf", cell=90, weight=0.8, slant=-0.15),
    ]
    glyphs = np.stack([
        image
        for fit in ("stretch", "contain")
        for path in fonts
        for glyph_set in render_font(path, "ABCDEFGHIJ", RenderOptions(fit=fit))
        for image in glyph_set.images.values()
    ])  # fmt: skip
    assert len(glyphs) == 80
    for name, (ours, reference) in HASHERS.items():
        for hash_size in (8, 6):
            assert hex_rows(ours(glyphs, hash_size), hash_size) == reference_hex(
                reference, glyphs, hash_size
            ), name


# ---------------------------------------------------------------------------------------------------
# imagehash-style properties, once per hasher
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HASHERS)
def test_one_pixel_shift_is_near_and_rotation_is_far(name):
    ours, _ = HASHERS[name]
    glyph = fixture_glyph()
    shifted = [np.roll(glyph, step, axis) for axis in (0, 1) for step in (1, -1)]
    rotated = [np.rot90(glyph, turns) for turns in (1, 2, 3)]
    original, *others = (GlyphHash.from_packed(row) for row in ours(np.stack([glyph, *shifted, *rotated])))
    distances = [original - other for other in others]
    assert max(distances[:4]) <= 12
    assert min(distances[4:]) >= 20


@pytest.mark.parametrize("hash_size", [2, 3, 4, 8, 11, 16])
@pytest.mark.parametrize("name", HASHERS)
def test_length_is_hash_size_squared(name, hash_size):
    ours, _ = HASHERS[name]
    packed = ours(fixture_glyph()[None], hash_size)
    assert packed.shape == (1, -(-hash_size * hash_size // 8))
    assert len(GlyphHash.from_packed(packed[0], hash_size)) == hash_size * hash_size


@pytest.mark.parametrize("hash_size", [2, 3, 5, 8, 16])
@pytest.mark.parametrize("name", HASHERS)
def test_hex_round_trip_is_exact_and_imagehash_reads_it(name, hash_size):
    ours, reference = HASHERS[name]
    value = GlyphHash.from_packed(ours(fixture_glyph()[None], hash_size)[0], hash_size)
    assert GlyphHash.from_hex(value.to_hex()) == value
    assert GlyphHash.from_hex(value.to_hex(), hash_size) == value
    assert imagehash.hex_to_hash(str(value)) == reference(Image.fromarray(fixture_glyph()), hash_size)


@pytest.mark.parametrize("bad", [-1, 0, 1, 2.0, True, "8", None])
@pytest.mark.parametrize("name", HASHERS)
def test_bad_hash_size_raises_value_error(name, bad):
    ours, _ = HASHERS[name]
    with pytest.raises(ValueError, match="hash_size must be an integer >= 2"):
        ours(fixture_glyph()[None], bad)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 28, 28), np.float64),
        np.zeros((28, 28), np.uint8),
        np.zeros((1, 2, 28, 28), np.uint8),
        np.zeros((2, 0, 28), np.uint8),
        [[[0]]],
    ],
    ids=["float", "2-D", "4-D", "empty image", "list"],
)
@pytest.mark.parametrize("name", HASHERS)
def test_bad_images_raise_a_usage_error(name, bad):
    ours, _ = HASHERS[name]
    with pytest.raises(UsageError, match="images must be"):
        ours(bad)


@pytest.mark.parametrize("key", GOLDEN)
def test_golden_values_pin_each_algorithm(key):
    name, hash_size = key
    ours, _ = HASHERS[name]
    assert hex_rows(ours(fixture_glyph()[None], hash_size), hash_size) == [GOLDEN[key]]


# ---------------------------------------------------------------------------------------------------
# The value type
# ---------------------------------------------------------------------------------------------------


def test_glyph_hash_distance_equality_and_none():
    a, b = GlyphHash(0b1011), GlyphHash(0b0001)
    assert a - b == 2 and b - a == 2 and a - a == 0
    assert a == GlyphHash(0b1011) and a != b
    assert (a == None) is False and (a != None) is True  # noqa: E711 (the comparison is the test)
    with pytest.raises(TypeError):
        a - None
    with pytest.raises(ValueError, match="cannot compare a 64-bit hash with a 16-bit hash"):
        a - GlyphHash(1, 16)


def test_glyph_hash_hash_uses_every_bit():
    values = [GlyphHash(1 << bit) for bit in range(64)]
    assert len({hash(v) for v in values}) == 64
    assert len(set(values)) == 64
    assert {GlyphHash(5): "x"}[GlyphHash.from_hex("0000000000000005")] == "x"


def test_glyph_hash_hex_is_imagehash_hex():
    image = Image.fromarray(fixture_glyph())
    for hash_size in (2, 3, 6, 8):
        reference = imagehash.phash(image, hash_size)
        ours = GlyphHash.from_packed(phash(fixture_glyph()[None], hash_size)[0], hash_size)
        assert str(ours) == str(reference)
        assert GlyphHash.from_hex(str(reference)) == ours


@pytest.mark.parametrize("text", ["xyz0000000000000", "0x12345678901234", "123", " 123456789abcdef", ""])
def test_glyph_hash_rejects_bad_hex(text):
    with pytest.raises(HashInputError):
        GlyphHash.from_hex(text, 8)


def test_glyph_hash_rejects_values_out_of_range_and_bad_rows():
    with pytest.raises(HashInputError, match="does not fit in 4 bits"):
        GlyphHash(16, 4)
    with pytest.raises(HashInputError):
        GlyphHash(-1)
    with pytest.raises(HashInputError, match="must be 8 uint8 bytes"):
        GlyphHash.from_packed(np.zeros(4, np.uint8))


def test_as_uint64_matches_the_hex_and_rejects_other_sizes():
    packed = phash(mixed_images(np.random.default_rng(1))[:50])
    assert [f"{v:016x}" for v in as_uint64(packed).tolist()] == hex_rows(packed, 8)
    with pytest.raises(HashInputError, match=r"shape \(N, 8\)"):
        as_uint64(phash(fixture_glyph()[None], 5))


# ---------------------------------------------------------------------------------------------------
# Near-duplicate search against brute force
# ---------------------------------------------------------------------------------------------------


def planted_hashes(n: int, max_distance: int, seed: int) -> np.ndarray:
    """Random hashes plus near copies with 1..max_distance flipped bits, exact copies, and one big clump."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64, n, dtype=np.uint64)
    sources = rng.integers(0, n, n // 4)
    flips = np.zeros(len(sources), np.uint64)
    for k in range(len(sources)):
        for bit in rng.choice(
            64, int(rng.integers(1, max_distance + 1)) if max_distance else 0, replace=False
        ):
            flips[k] |= np.uint64(1) << np.uint64(bit)
    clump = np.full(60, base[0])  # 60 equal hashes: 1,770 pairs at distance 0
    return rng.permutation(np.concatenate([base, base[sources] ^ flips, base[: n // 10], clump]))


def brute_pairs(left: np.ndarray, right: np.ndarray | None, max_distance: int) -> Pairs:
    distances = np.bitwise_count(left[:, None] ^ (left if right is None else right)[None, :])
    near = distances <= max_distance
    if right is None:
        near = np.triu(near, 1)
    i, j = np.nonzero(near)
    return Pairs(i, j, distances[i, j])


def canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel a partition by order of first appearance, so two labelings compare with ==."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse]


def brute_groups(n: int, pairs: Pairs) -> np.ndarray:
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(pairs.i.tolist(), pairs.j.tolist(), strict=True):
        parent[root(i)] = root(j)
    return canonical(np.array([root(x) for x in range(n)]))


def assert_same_pairs(got: Pairs, expected: Pairs) -> None:
    for field in Pairs._fields:
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)


@pytest.mark.parametrize("method", ["index", "brute", "auto"])
@pytest.mark.parametrize("max_distance", [0, 1, 4, 8])
def test_near_duplicate_pairs_equal_brute_force(max_distance, method):
    hashes = planted_hashes(2500, max_distance, seed=max_distance)
    expected = brute_pairs(hashes, None, max_distance)
    assert len(expected.i) > 2000  # the planted pairs are there to be found
    assert_same_pairs(near_duplicate_pairs(hashes, max_distance, method), expected)


@pytest.mark.parametrize("max_distance", [0, 1, 4, 8])
def test_near_duplicate_groups_are_the_connected_components(max_distance):
    hashes = planted_hashes(2500, max_distance, seed=10 + max_distance)
    expected = brute_groups(len(hashes), brute_pairs(hashes, None, max_distance))
    for method in ("index", "brute"):
        groups = near_duplicate_groups(hashes, max_distance, method)
        np.testing.assert_array_equal(groups, expected)  # numbered by first item, like canonical()


@pytest.mark.parametrize("method", ["index", "brute", "auto"])
@pytest.mark.parametrize("max_distance", [0, 1, 4, 8])
def test_cross_near_pairs_equal_brute_force(max_distance, method):
    hashes = planted_hashes(2500, max_distance, seed=20 + max_distance)
    small, large = hashes[:900], hashes[900:]
    assert_same_pairs(
        cross_near_pairs(small, large, max_distance, method), brute_pairs(small, large, max_distance)
    )


def test_wide_distances_and_tiny_inputs():
    hashes = planted_hashes(300, 4, seed=5)
    for max_distance in (20, 64):
        assert_same_pairs(
            near_duplicate_pairs(hashes, max_distance, "index"), brute_pairs(hashes, None, max_distance)
        )
    empty = np.zeros(0, np.uint64)
    assert len(near_duplicate_pairs(empty, 3).i) == 0
    assert len(near_duplicate_pairs(hashes[:1], 3).i) == 0
    assert near_duplicate_groups(empty, 3).shape == (0,)
    assert len(cross_near_pairs(empty, hashes, 3).i) == 0


def test_a_clump_of_equal_hashes_is_one_group():
    others = np.random.default_rng(9).integers(0, 2**64, 100, dtype=np.uint64)
    hashes = np.concatenate([np.full(5000, 12345, np.uint64), others])
    groups = near_duplicate_groups(hashes, 2)
    np.testing.assert_array_equal(groups, np.concatenate([np.zeros(5000, int), np.arange(1, 101)]))
    assert len(near_duplicate_pairs(hashes[:300], 0).i) == 300 * 299 // 2


@pytest.mark.parametrize(
    ("hashes", "max_distance", "method", "message"),
    [
        (np.zeros(3, np.int64), 2, "auto", "1-D uint64 array"),
        (np.zeros((3, 1), np.uint64), 2, "auto", "1-D uint64 array"),
        (np.zeros(3, np.uint64), -1, "auto", "max_distance must be an integer from 0 to 64"),
        (np.zeros(3, np.uint64), 65, "auto", "max_distance"),
        (np.zeros(3, np.uint64), True, "auto", "max_distance"),
        (np.zeros(3, np.uint64), 2, "fast", "method must be"),
    ],
)
def test_search_rejects_bad_arguments(hashes, max_distance, method, message):
    for call in (near_duplicate_pairs, near_duplicate_groups):
        with pytest.raises(UsageError, match=message):
            call(hashes, max_distance, method)
    with pytest.raises(UsageError, match=message):
        cross_near_pairs(np.zeros(2, np.uint64), hashes, max_distance, method)
