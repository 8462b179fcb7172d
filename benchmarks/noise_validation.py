"""Planted-noise validation of the label-noise estimate (fontglyphs.noise; issue 4, item 5).

    python benchmarks/noise_validation.py                       # bundled corpus + matplotlib's fonts
    python benchmarks/noise_validation.py --fonts DIR --rates 0.02 0.065 0.10 --cache /tmp/base.npz

Base set: every face with all ten letters A-J among the fonts given, rendered by fontglyphs.raster
(notMNIST's stretch fit), exact duplicate faces dropped, plus ``--dot-fonts`` FontBuilder fonts
(tests/fontfactory.py) of random weight and slant, one family each. Groups are font families.

Planted noise at each rate r: r * N images, half in each kind:

* wrong-outline fonts: whole faces whose letters carry each other's outlines (a random derangement of
  A-J). A FontBuilder face is rebuilt with ``build_font(outlines=...)`` and rendered again; a corpus
  face has its images' labels permuted, which is what rendering a copy with a permuted cmap gives;
* random relabels: single images given a uniformly chosen other letter.

Truth. An image is mislabelled when its given letter is not the letter its outline draws. A corpus is
not clean by itself, so the unplanted set is scored first (row "0.00%") and the faces with the most
flagged letters, and the least recognised ones, are looked at (``review_*.png``):

* faces that draw no letter at A-J (symbol, dingbat, math and other-script fonts) are left out with
  ``--no-letter-fonts``: the degenerate-font stage removes them before the noise estimate runs, and
  confident learning, which counts letters seen under another letter's name, does not count them;
* faces that draw other letters than the ones named (say C-L at A-J) are kept and named with
  ``--wrong-fonts``: pre-existing errors, added to the truth of every row.

Errors nobody identified stay in the data as "right" and count against the estimate.

Every run keeps its probabilities and truth in ``--sheets`` (``planted_<rate>.npz``) for analysis.

Baseline measured in the same run: the naive rate ``mean(argmax != given label)``; the ratio column is
its error over confident learning's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # fontfactory: FontBuilder fixture fonts

from fontfactory import build_font  # noqa: E402

from fontglyphs.errors import FontGlyphsError  # noqa: E402
from fontglyphs.fonts import discover_font_files  # noqa: E402
from fontglyphs.noise import MAX_STEPS, estimate_label_noise  # noqa: E402
from fontglyphs.raster import RenderOptions, render_font  # noqa: E402
from fontglyphs.report import contact_sheet  # noqa: E402

LETTERS = "ABCDEFGHIJ"
K = len(LETTERS)
# Faces of the default fonts that draw no letter at A-J, found on the review sheet: cmex10 is TeX's math
# extension font (brackets and radicals at those code points). The degenerate-font stage runs before the
# noise estimate and removes such faces, so they are left out of the validation too.
REVIEWED_NO_LETTERS = ["cmex10.ttf"]


def default_font_dirs() -> list[Path]:
    dirs = [ROOT / "fonts"]
    try:
        import matplotlib

        dirs.append(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf")
    except ImportError:
        pass
    return [d for d in dirs if d.is_dir()]


def render_corpus(font_dirs: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces with all ten letters: images (F, 10, 28, 28), families (F,), names (F,); duplicates once."""
    faces, families, names, seen = [], [], [], set()
    for path in discover_font_files(font_dirs):
        try:
            sets = render_font(path, LETTERS, RenderOptions())
        except FontGlyphsError:
            continue
        for glyphs in sets:
            if len(glyphs.images) < K:
                continue
            stack = np.stack([glyphs.images[letter] for letter in LETTERS])
            digest = hashlib.sha256(stack.tobytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            faces.append(stack)
            families.append(glyphs.face.family or Path(path).stem)
            names.append(f"{Path(path).name}#{glyphs.face.face_index}{glyphs.face.instance}")
    return np.stack(faces), np.array(families), np.array(names)


def render_dot_font(directory: Path, index: int, weight: float, slant: float, outlines: dict | None = None):
    """The ten letters of a FontBuilder dot-matrix font; ``outlines={"A": "C", ...}`` draws C under A."""
    path = build_font(
        directory / f"dots{index}.ttf", family=f"Dots {index}", weight=weight, slant=slant, outlines=outlines
    )
    (glyphs,) = render_font(path, LETTERS, RenderOptions())
    return np.stack([glyphs.images[letter] for letter in LETTERS])


def base_set(font_dirs: list[Path], dot_fonts: int, seed: int, workdir: Path, cache: Path | None) -> dict:
    if cache is not None and cache.exists():
        with np.load(cache) as data:
            return dict(data)
    faces, families, names = render_corpus(font_dirs)
    rng = np.random.default_rng(seed)
    params = np.column_stack([rng.uniform(0.5, 1.0, dot_fonts), rng.uniform(-0.2, 0.35, dot_fonts)])
    dots = [render_dot_font(workdir, i, w, s) for i, (w, s) in enumerate(params)]
    base = {
        "faces": np.concatenate([faces, np.stack(dots)]) if dots else faces,
        "families": np.concatenate([families, [f"Dots {i}" for i in range(dot_fonts)]]),
        "names": np.concatenate([names, [f"dots{i}.ttf" for i in range(dot_fonts)]]),
        "dot_params": np.concatenate([np.full((len(faces), 2), np.nan), params]),
    }
    if cache is not None:
        np.savez_compressed(cache, **base)
    return base


def derangement(rng: np.random.Generator) -> np.ndarray:
    while True:
        perm = rng.permutation(K)
        if (perm != np.arange(K)).all():
            return perm


def plant(base: dict, rate: float, seed: int, workdir: Path) -> dict:
    """One data set with ``rate`` of its images planted wrong: images, given and true labels (-1: no
    letter at all), and each image's kind (0 right, 1 wrong-outline font, 2 relabel, 3 pre-existing
    wrong font). Letter L of a planted wrong font draws the outline of letter perm[L]."""
    rng = np.random.default_rng(seed)
    faces = base["faces"].copy()
    n_faces = len(faces)
    true = np.tile(np.arange(K), (n_faces, 1))
    kind = np.zeros((n_faces, K), dtype=np.int8)
    true[base["wrong"]], kind[base["wrong"]] = -1, 3
    target = round(rate * n_faces * K)
    for face in rng.choice(np.flatnonzero(~base["wrong"]), round(target / 2 / K), replace=False):
        perm = derangement(rng)
        weight, slant = base["dot_params"][face]
        if np.isnan(weight):  # a corpus face: its own images, named after the wrong letters
            faces[face] = faces[face][perm]
        else:
            outlines = {LETTERS[i]: LETTERS[perm[i]] for i in range(K)}
            faces[face] = render_dot_font(workdir, int(face), weight, slant, outlines)
        true[face], kind[face] = perm, 1
    true, kind = true.ravel(), kind.ravel()
    given = np.tile(np.arange(K), n_faces)  # the image of cmap letter L is named L, whatever it draws
    relabelled = rng.choice(np.flatnonzero(kind == 0), target - int((kind == 1).sum()), replace=False)
    given[relabelled] = (true[relabelled] + rng.integers(1, K, len(relabelled))) % K
    kind[relabelled] = 2
    return {"images": faces.reshape(-1, *faces.shape[2:]), "given": given, "true": true, "kind": kind}


def named(names: np.ndarray, prefixes: list[str]) -> np.ndarray:
    return np.array([any(str(name).startswith(p) for p in prefixes) for name in names], dtype=bool)


def without_faces(base: dict, drop: np.ndarray) -> dict:
    keep = np.setdiff1d(np.arange(len(base["faces"])), drop)
    return {name: values[keep] for name, values in base.items()}


def run(data: dict, base: dict, args, name: str) -> tuple[object, tuple[float, float]]:
    """Estimate on one data set; its probabilities and truth are kept in the sheets folder for analysis."""
    started, cpu = time.perf_counter(), time.process_time()
    estimate = estimate_label_noise(
        data["images"],
        data["given"],
        np.repeat(base["families"], K),
        K,
        faces=np.repeat(np.arange(len(base["faces"])), K),
        folds=args.folds,
        seed=args.seed,
        epochs=args.epochs,
        max_steps=args.max_steps,
        progress=not args.quiet,
    )
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    np.savez_compressed(
        args.sheets / f"{name}.npz",
        probabilities=estimate.probabilities,
        **{key: data[key] for key in ("given", "true", "kind")},
        families=np.repeat(base["families"], K),
    )
    return estimate, seconds


def scores(estimate, data: dict) -> dict:
    wrong = data["given"] != data["true"]
    flagged = estimate.suspects
    naive = float(np.mean(estimate.predicted != data["given"]))
    row = {
        "truth": float(wrong.mean()),
        "rate": estimate.rate,
        "interval": estimate.rate_interval,
        "error_pp": 100 * abs(estimate.rate - wrong.mean()),
        "naive": naive,
        "naive_error_pp": 100 * abs(naive - wrong.mean()),
        "precision": float(wrong[flagged].mean()) if flagged.any() else float("nan"),
        "recall": float(flagged[wrong].mean()) if wrong.any() else float("nan"),
        "suspects": int(flagged.sum()),
        "agreement": estimate.agreement,
    }
    for code, name in ((1, "font"), (2, "relabel")):
        if (data["kind"] == code).any():
            row[f"recall_{name}"] = float(flagged[data["kind"] == code].mean())
    return row


def review_sheets(base: dict, estimate, directory: Path, count: int = 40) -> None:
    """Two sheets for a person to find the corpus's own errors: the faces with the most flagged letters
    (marked *, with the letter the model reads) and the faces the model recognises least."""
    flagged = estimate.suspects.reshape(-1, K)
    predicted = estimate.predicted.reshape(-1, K)
    recognised = (1 - estimate.suspect_rank).reshape(-1, K).mean(axis=1)
    for name, order in (
        ("review_most_flagged_faces.png", np.argsort(-flagged.sum(axis=1), kind="stable")),
        ("review_least_recognised_faces.png", np.argsort(recognised, kind="stable")),
    ):
        top = order[:count]
        captions = [
            f"{base['names'][f][:9]} {LETTERS[j]}{'*' if flagged[f, j] else ' '}{LETTERS[predicted[f, j]]}"
            for f in top
            for j in range(K)
        ]
        contact_sheet(base["faces"][top].reshape(-1, 28, 28), captions, columns=2 * K, scale=2).save(
            directory / name
        )


def cleanlab_check(estimate, given: np.ndarray, extra_path: str) -> str:
    """Same probabilities through the cleanlab package, when it can be imported (not a dependency)."""
    if extra_path:
        sys.path.append(extra_path)
    try:
        from cleanlab.count import estimate_joint
        from cleanlab.filter import find_label_issues
    except ImportError:
        return "cleanlab not importable: no cross-check"
    rate = 1 - np.trace(estimate_joint(given, estimate.probabilities.astype(np.float64)))
    issues = find_label_issues(given, estimate.probabilities.astype(np.float64), n_jobs=1)
    return (
        f"cleanlab: rate {rate:.4%} (ours {estimate.rate:.4%}); issues {issues.sum()} (ours "
        f"{estimate.suspects.sum()}), {np.sum(issues != estimate.suspects)} images differ"
    )


def print_table(rows: list[dict]) -> None:
    print(
        f"{'planted':>8} {'truth':>7} {'estimate [95% interval]':>27} {'|err| pp':>8} {'naive':>7} "
        f"{'naive pp':>8} {'ratio':>6} {'prec':>6} {'recall':>6} {'font':>5} {'relab':>5} {'flagged':>7} "
        f"{'s':>5} {'cpu s':>6}"
    )
    for row in rows:
        low, high = row["interval"]
        ratio = row["naive_error_pp"] / max(row["error_pp"], 1e-9)
        print(
            f"{row['planted']:>8.2%} {row['truth']:>7.2%} {row['rate']:>9.2%} [{low:>6.2%}, {high:>6.2%}] "
            f"{row['error_pp']:>8.2f} {row['naive']:>7.2%} {row['naive_error_pp']:>8.2f} {ratio:>6.1f} "
            f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row.get('recall_font', float('nan')):>5.2f} "
            f"{row.get('recall_relabel', float('nan')):>5.2f} {row['suspects']:>7d} {row['seconds']:>5.0f} "
            f"{row['cpu']:>6.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fonts", nargs="*", type=Path, help="font files or folders (default: corpus + matplotlib)"
    )
    parser.add_argument("--dot-fonts", type=int, default=100, help="FontBuilder dot-matrix fonts to add")
    parser.add_argument("--rates", nargs="*", type=float, default=[0.02, 0.065, 0.10])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS, help="per fold")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-letter-fonts",
        nargs="*",
        default=REVIEWED_NO_LETTERS,
        help="faces (name prefixes) a person confirmed draw no letters (symbols, other scripts): left out",
    )
    parser.add_argument(
        "--wrong-fonts",
        nargs="*",
        default=[],
        help="faces (name prefixes) a person confirmed draw other letters than named: pre-existing errors",
    )
    parser.add_argument("--max-faces", type=int, help="a seeded random subset of the corpus faces")
    parser.add_argument("--cache", type=Path, help="npz of the rendered base set, written once, then read")
    parser.add_argument("--sheets", type=Path, default=Path("output/noise_validation"), help="contact sheets")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    parser.add_argument(
        "--cleanlab",
        nargs="?",
        const="",
        metavar="DIR",
        help="cross-check against cleanlab, importable as is or from DIR (e.g. a pip --target folder)",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        base = base_set(args.fonts or default_font_dirs(), args.dot_fonts, args.seed, workdir, args.cache)
        base = without_faces(base, np.flatnonzero(named(base["names"], args.no_letter_fonts)))
        base["wrong"] = named(base["names"], args.wrong_fonts)
        if args.max_faces and args.max_faces < len(base["faces"]):
            corpus = np.flatnonzero(np.isnan(base["dot_params"][:, 0]))
            drop = np.random.default_rng(args.seed).permutation(corpus)[args.max_faces :]
            base = without_faces(base, drop)
        n_faces = len(base["faces"])
        print(
            f"base set: {n_faces} faces ({int((~np.isnan(base['dot_params'][:, 0])).sum())} FontBuilder), "
            f"{n_faces * K} images, {len(np.unique(base['families']))} families "
            f"({time.perf_counter() - started:.0f} s to prepare)"
        )

        args.sheets.mkdir(parents=True, exist_ok=True)
        rows = []
        for rate in [0.0, *args.rates]:
            data = plant(base, rate, args.seed + 1, workdir)
            estimate, seconds = run(data, base, args, f"planted_{rate:g}")
            rows.append({**scores(estimate, data), "planted": rate, "seconds": seconds[0], "cpu": seconds[1]})
            if rate == 0.0:
                review_sheets(base, estimate, args.sheets)
            if args.cleanlab is not None:
                print("  " + cleanlab_check(estimate, data["given"], args.cleanlab))
        print(
            f"\nleft out, drawing no letter: {', '.join(args.no_letter_fonts) or 'none'}\n"
            f"truth = planted + {int(base['wrong'].sum())} pre-existing wrong-letter faces: "
            f"{', '.join(args.wrong_fonts) or 'none'}"
        )
        print_table(rows)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
