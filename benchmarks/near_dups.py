"""Near-duplicate search at dataset scale: fontglyphs' multi-index search against all-pairs brute force.

Builds --n 64-bit hashes shaped like glyph phashes (random bits, the DC bit always set, clusters of near
copies of a centre with 1..d planted bit flips, and exact copies), then for each distance d times
near_duplicate_pairs and near_duplicate_groups on all of them, checks that every planted (centre, copy)
pair is found, and checks exactness on a sample: every neighbour of --sample random items, found by
brute force against all n hashes, must be among the reported pairs, and nothing else. The baseline is a
blocked numpy brute force over all pairs, timed on --baseline-n hashes in the same run and extrapolated
quadratically to n (it is not run on all n: at 500,000 that is 1.25e11 pairs).

    python benchmarks/near_dups.py --n 500000 --distances 2,4,6,8
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from fontglyphs.hashing import near_duplicate_groups, near_duplicate_pairs

DC_BIT = np.uint64(1 << 63)  # phash's first bit, the DC coefficient, is above the median in practice


def make_hashes(n: int, max_distance: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n hashes and the planted (centre, copy) index pairs, each copy within max_distance of its centre."""
    n_copies, n_exact = n // 10, n // 50
    base = rng.integers(0, 2**64, n - n_copies - n_exact, dtype=np.uint64) | DC_BIT
    centres = rng.integers(0, len(base), n_copies // 4)  # clusters of about four near copies each
    copy_of = rng.choice(centres, n_copies)
    flip_count = rng.integers(1, max_distance + 1, n_copies) if max_distance else np.zeros(n_copies, int)
    bit_order = np.argsort(rng.random((n_copies, 63)), axis=1)  # distinct bits below the DC bit
    flips = np.zeros(n_copies, np.uint64)
    for k in range(max(max_distance, 1)):
        flips |= np.where(k < flip_count, np.uint64(1) << bit_order[:, k].astype(np.uint64), np.uint64(0))
    exact_of = rng.integers(0, len(base), n_exact)
    hashes = np.concatenate([base, base[copy_of] ^ flips, base[exact_of]])
    order = rng.permutation(n)
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    sources = np.concatenate([copy_of, exact_of])
    copies = np.arange(len(base), n)
    planted = np.sort(np.stack([position[sources], position[copies]]), axis=0)
    return hashes[order], planted


def brute_force_pairs(hashes: np.ndarray, max_distance: int, block: int = 2048) -> int:
    """The baseline: count pairs within max_distance by comparing every pair, block by block."""
    found = 0
    for lo in range(0, len(hashes), block):
        distances = np.bitwise_count(hashes[lo : lo + block, None] ^ hashes[None, lo:])
        found += int(np.count_nonzero(np.triu(distances <= max_distance, 1)))
    return found


def sample_is_exact(hashes: np.ndarray, max_distance: int, i: np.ndarray, j: np.ndarray, sample: int) -> bool:
    """Do the reported pairs touching `sample` random items equal their brute-force neighbours among all n?"""
    rng = np.random.default_rng(1)
    n = len(hashes)
    for item in rng.choice(n, sample, replace=False).tolist():
        neighbours = np.flatnonzero(np.bitwise_count(hashes ^ hashes[item]) <= max_distance)
        expected = np.sort(neighbours[neighbours != item])
        reported = np.sort(np.concatenate([j[i == item], i[j == item]]))
        if not np.array_equal(expected, reported):
            return False
    return True


def row(cells: list[object]) -> str:
    widths = [2, 9, 10, 10, 16, 14, 19, 9]
    return "".join(f"{cell!s:>{width}}" for cell, width in zip(cells, widths, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000, help="hashes to search (default 500000)")
    parser.add_argument("--distances", default="2,4,6,8", help="comma-separated max Hamming distances")
    parser.add_argument("--baseline-n", type=int, default=20_000, help="hashes the brute force is timed on")
    parser.add_argument("--sample", type=int, default=200, help="items checked exactly against brute force")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    ok = True
    print(f"{args.n:,} hashes; brute force timed on {args.baseline_n:,} and extrapolated by (n / m)^2")
    print(
        row(
            [
                "d",
                "pairs s",
                "groups s",
                "pairs",
                "planted recall",
                "sample exact",
                "brute s (extrap.)",
                "ratio",
            ]
        )
    )
    for max_distance in (int(d) for d in args.distances.split(",")):
        hashes, planted = make_hashes(args.n, max_distance, np.random.default_rng(args.seed + max_distance))
        start = time.perf_counter()
        i, j, _ = near_duplicate_pairs(hashes, max_distance)
        pairs_seconds = time.perf_counter() - start
        start = time.perf_counter()
        near_duplicate_groups(hashes, max_distance)
        groups_seconds = time.perf_counter() - start

        found = np.isin(planted[0] * args.n + planted[1], i * args.n + j)
        exact = sample_is_exact(hashes, max_distance, i, j, args.sample)
        subset = hashes[: args.baseline_n]
        start = time.perf_counter()
        brute_force_pairs(subset, max_distance)
        brute_seconds = (time.perf_counter() - start) * (args.n / len(subset)) ** 2
        ok &= bool(found.all()) and exact
        cells = [max_distance, f"{pairs_seconds:.2f}", f"{groups_seconds:.2f}", f"{len(i):,}"]
        cells += [f"{found.mean():.2%}", "yes" if exact else "NO", f"{brute_seconds:.0f}"]
        print(row([*cells, f"{brute_seconds / pairs_seconds:.0f}x"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
