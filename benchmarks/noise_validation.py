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

Truth. An image is mislabelled when its given letter is not the letter its outline draws. The corpus
itself is not clean (symbol and dingbat fonts map A-J to pictures), so the unplanted set is scored
first: a face with at least half its letters flagged there is a pre-existing wrong font; those faces
are written to a contact sheet (``--sheets``) for a person to confirm, and left out of the planted
runs, whose truth is then exactly the planted errors. The rate still estimated on what remains is
the floor: model mistakes on odd glyphs plus errors no rule here can identify.

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
from fontglyphs.noise import estimate_label_noise  # noqa: E402
from fontglyphs.raster import RenderOptions, render_font  # noqa: E402
from fontglyphs.report import contact_sheet  # noqa: E402

LETTERS = "ABCDEFGHIJ"
K = len(LETTERS)


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


def render_dot_font(directory: Path, index: int, rng: np.random.Generator, outlines: dict | None) -> np.ndarray:
    weight, slant = float(rng.uniform(0.5, 1.0)), float(rng.uniform(-0.2, 0.35))
    path = build_font(directory / f"dots{index}.ttf", family=f"Dots {index}", weight=weight, slant=slant, outlines=outlines)
    (glyphs,) = render_font(path, LETTERS, RenderOptions())
    return np.stack([glyphs.images[letter] for letter in LETTERS])


def derangement(rng: np.random.Generator) -> np.ndarray:
    while True:
        perm = rng.permutation(K)
        if (perm != np.arange(K)).all():
            return perm


def plant(base: dict, rate: float, seed: int, workdir: Path) -> dict:
    """Images, given labels, true labels and the kind of each planted error for one rate."""
    rng = np.random.default_rng(seed)
    faces = base["faces"].copy()
    n_faces = len(faces)
    given = np.tile(np.arange(K), (n_faces, 1))
    kind = np.zeros((n_faces, K), dtype=np.int8)  # 0 clean, 1 wrong-outline font, 2 relabel
    target = round(rate * n_faces * K)
    wrong_fonts = rng.choice(n_faces, round(target / 2 / K), replace=False)
    for face in wrong_fonts:
        perm = derangement(rng)  # letter L is drawn with the outline of letter perm[L]
        if base["is_dot"][face]:
            outlines = {LETTERS[i]: LETTERS[perm[i]] for i in range(K)}
            faces[face] = render_dot_font(workdir, int(base["dot_index"][face]), base["dot_rng"][face](), outlines)
            given[face] = np.arange(K)
            true = perm
        else:  # the image of outline t is now named letter inverse(perm)[t]
            true = np.arange(K)
            given[face] = np.argsort(perm)
        kind[face] = 1
        base_true = true
        if base["is_dot"][face]:
            base["_true_tmp"] = base_true
        faces[face], given[face] = faces[face], given[face]
        if base["is_dot"][face]:
            given[face], true = np.arange(K), perm
        base.setdefault("_true", {})[int(face)] = true
    true_labels = np.tile(np.arange(K), (n_faces, 1))
    for face, true in base.get("_true", {}).items():
        true_labels[face] = true
    base.pop("_true", None)
    base.pop("_true_tmp", None)
    free = np.flatnonzero(kind.ravel() == 0)
    relabelled = rng.choice(free, target - K * len(wrong_fonts), replace=False)
    flat_given = given.ravel()
    flat_given[relabelled] = (true_labels.ravel()[relabelled] + rng.integers(1, K, len(relabelled))) % K
    kind.ravel()[relabelled] = 2
    return {
        "images": faces.reshape(-1, *faces.shape[2:]),
        "given": flat_given,
        "true": true_labels.ravel(),
        "kind": kind.ravel(),
        "groups": np.repeat(base["families"], K),
        "faces": np.repeat(np.arange(n_faces), K),
    }
