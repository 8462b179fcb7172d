"""The clean stage on generated glyph folders with known answers: every rule, the split, the outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fontfactory import DOT_MATRIX, build_font
from glyphfiles import write_glyph
from PIL import Image

from fontglyphs.clean import (
    CleanConfig,
    Looks,
    clean_dataset,
    glyph_hashes,
    greedy_keepers,
    split_families,
)
from fontglyphs.cli import cli
from fontglyphs.datasets import read_png_folder
from fontglyphs.errors import DatasetError, UsageError
from fontglyphs.hashing import cross_near_pairs
from fontglyphs.letters import parse_letters
from fontglyphs.manifest import GlyphRecord, read_manifest, write_manifest
from fontglyphs.render import RenderConfig, render_fonts
from fontglyphs.review.decisions import Decision, save_decisions

LETTERS = tuple("ABCDEFGHIJ")
FAST = CleanConfig(small_fraction=0.3, noise=False)


# ---------------------------------------------------------------------------------------------------
# Generated corpora
# ---------------------------------------------------------------------------------------------------


def random_glyph(rng: np.random.Generator) -> np.ndarray:
    """A random 7x7 block pattern in a 21x21 box with a 3-pixel margin: distinct from every other draw
    (about 32 of 64 hash bits apart), and a 1-pixel shift loses no ink."""
    cells = rng.random((7, 7)) < 0.45
    cells[rng.integers(7)] = True
    image = np.zeros((28, 28), np.uint8)
    image[3:24, 3:24] = np.kron(cells, np.ones((3, 3), np.uint8)) * 255
    return image


def shifted(image: np.ndarray) -> np.ndarray:
    return np.roll(image, 1, axis=1)


def hollow_box(thickness: int) -> np.ndarray:
    image = np.full((28, 28), 255, np.uint8)
    image[thickness:-thickness, thickness:-thickness] = 0
    return image


def write_corpus(root: Path, fonts: dict[str, tuple[str, dict[str, np.ndarray]]]) -> Path:
    """A render-style folder, ``<L>/<key>.png`` and manifest.csv, of {key: (family, {letter: image})}."""
    records = []
    for key, (family, images) in fonts.items():
        for letter, image in images.items():
            records.append(
                write_glyph(root, letter, LETTERS.index(letter), key, family, image, license="OFL")
            )
    write_manifest(root / "manifest.csv", records)
    return root


def planted_fonts() -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """55 fonts of random glyphs with one of each problem planted; see the tests for the answers."""
    rng = np.random.default_rng(7)
    fonts = {}
    for i in range(40):
        family = f"Fam {i // 2:02d}" if i < 16 else f"Solo {i:02d}"
        fonts[f"f{i:02d}"] = (family, {letter: random_glyph(rng) for letter in LETTERS})
    for k in range(8):  # sans-serif-like fonts whose I, stretched to the frame, is a solid block
        images = {letter: random_glyph(rng) for letter in LETTERS}
        images["I"] = np.full((28, 28), 255, np.uint8)
        images["I"][0] = 240 - k  # pixel-different blocks: not exact copies of each other
        fonts[f"sans{k}"] = (f"Sans {k}", images)
    fonts["f17"][1]["A"] = fonts["f05"][1]["A"].copy()  # exact duplicate of an earlier key
    fonts["f07"][1]["A"] = shifted(fonts["f06"][1]["A"])  # near duplicate within family Fam 03
    for i in range(20, 30):  # near duplicates across single-font families: some straddle the split
        fonts[f"f{i + 10:02d}"][1]["D"] = shifted(fonts[f"f{i:02d}"][1]["D"])
    conflict = random_glyph(rng)
    fonts["f11"][1]["B"] = conflict  # the same picture as f12's C: a label conflict
    fonts["f12"][1]["C"] = conflict.copy()
    degenerate = {
        "blank": {"E": np.zeros((28, 28), np.uint8), "F": np.pad(np.full((2, 2), 90, np.uint8), 13)},
        "solid": {"A": np.full((28, 28), 255, np.uint8)},
        "tofu": {letter: hollow_box(3) for letter in LETTERS},
        "boxes": {"C": hollow_box(2), "D": hollow_box(4)},
        "outline": {"I": hollow_box(3)},
        "alike": dict.fromkeys(LETTERS, random_glyph(rng)),
        "twins": {"G": (twin := random_glyph(rng)), "H": twin.copy()},
    }
    for key, planted in degenerate.items():
        images = {letter: random_glyph(rng) for letter in LETTERS}
        images.update({letter: image.copy() for letter, image in planted.items()})
        fonts[key] = (f"Odd {key}", images)
    return fonts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = write_corpus(tmp_path_factory.mktemp("src") / "glyphs", planted_fonts())
    (root / "A" / "zz-corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    Image.fromarray(np.zeros((32, 32), np.uint8), "L").save(root / "B" / "zz-big.png")
    records = read_manifest(root / "manifest.csv")
    extra = [
        GlyphRecord(f"{d}/{key}.png", d, LETTERS.index(d), key, "", "", 0, "", key, "", "", "")
        for d, key in (("A", "zz-corrupt"), ("B", "zz-big"))
    ]
    write_manifest(root / "manifest.csv", records + extra)
    return root


@pytest.fixture(scope="module")
def cleaned(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = clean_dataset(corpus, out, FAST)
    rows = {(r.key, r.letter): r for r in read_manifest(out / "clean" / "manifest.csv")}
    return out, result, rows


def flags_of(rows, key: str, letter: str) -> set[str]:
    return set(rows[key, letter].flag_list())


def kept(rows, key: str, letter: str) -> bool:
    return rows[key, letter].status == "ok"


# ---------------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------------


def test_exact_duplicate_keeps_the_first_key(cleaned):
    _, _, rows = cleaned
    assert "exact-duplicate" in flags_of(rows, "f17", "A") and not kept(rows, "f17", "A")
    assert "exact-duplicate" not in flags_of(rows, "f05", "A")


def test_label_conflict_flags_both_copies(cleaned):
    _, _, rows = cleaned
    assert "label-conflict" in flags_of(rows, "f11", "B")
    assert "label-conflict" in flags_of(rows, "f12", "C")


def test_shifted_copy_is_a_near_duplicate(cleaned):
    """Same family, so same split: small drops the copy, large (uncleaned) keeps it flagged."""
    _, _, rows = cleaned
    assert kept(rows, "f06", "A") and not flags_of(rows, "f06", "A")
    assert "near-duplicate" in flags_of(rows, "f07", "A")
    assert kept(rows, "f07", "A") == (rows["f06", "A"].split == "large")


def test_degenerate_glyphs_are_flagged(cleaned):
    _, _, rows = cleaned
    assert {"blank"} <= flags_of(rows, "blank", "E") and {"blank"} <= flags_of(rows, "blank", "F")
    assert "solid" in flags_of(rows, "solid", "A")
    assert {"notdef-box", "font-identical-letters"} <= flags_of(rows, "tofu", "C")
    assert "notdef-box" in flags_of(rows, "boxes", "C") and "notdef-box" in flags_of(rows, "boxes", "D")
    assert all("font-identical-letters" in flags_of(rows, "alike", letter) for letter in LETTERS)
    assert "letters-identical" in flags_of(rows, "twins", "G") and "letters-identical" in flags_of(
        rows, "twins", "H"
    )
    assert not flags_of(rows, "twins", "A")


def test_usual_shapes_are_kept(cleaned):
    """A solid I is how a sans-serif I looks stretched; one box I in an outline font is a letter too."""
    _, result, rows = cleaned
    assert result.report["thresholds"]["usual_shapes"]["solid"] == {"I": pytest.approx(8 / 55, abs=1e-6)}
    assert not any("solid" in flags_of(rows, f"sans{k}", "I") for k in range(8))
    assert any(kept(rows, f"sans{k}", "I") for k in range(8))  # the blocks are near copies: one per split
    assert "notdef-box" not in flags_of(rows, "outline", "I")


def test_unreadable_files_are_listed_and_skipped(cleaned):
    out, result, rows = cleaned
    problems = {p["path"]: p["reason"] for p in result.report["input"]["problems"]}
    assert set(problems) == {"A/zz-corrupt.png", "B/zz-big.png"}
    assert "size 32x32, expected 28x28" in problems["B/zz-big.png"]
    assert flags_of(rows, "zz-corrupt", "A") == {"unreadable"} and rows["zz-corrupt", "A"].status == "removed"
    assert result.report["input"]["readable"] == 550


def test_split_is_disjoint_by_family_and_near_target(cleaned):
    out, result, _ = cleaned
    families = {
        split: {r.family for r in read_manifest(out / split / "manifest.csv")} for split in ("small", "large")
    }
    assert families["small"] and families["large"] and not families["small"] & families["large"]
    small, large = result.report["splits"]["small"]["images"], result.report["splits"]["large"]["images"]
    assert 0.2 < small / (small + large) < 0.4


def test_no_image_in_small_has_a_near_duplicate_in_large(cleaned):
    out, result, rows = cleaned
    assert result.report["flags"]["leak"]["flagged"] >= 1  # the planted cross-family copies straddle
    small, large = read_png_folder(out / "small"), read_png_folder(out / "large")
    for label in range(len(LETTERS)):
        left, right = small.images[small.labels == label], large.images[large.labels == label]
        pairs = cross_near_pairs(glyph_hashes(left), glyph_hashes(right), FAST.near)
        ink_left, ink_right = left.mean(axis=(1, 2))[pairs.i], right.mean(axis=(1, 2))[pairs.j]
        looks = Looks(np.zeros(0, np.uint64), np.zeros(0), FAST.near, FAST.thresholds.near_ink)
        assert not looks.alike(pairs.i, pairs.j, ink_left, ink_right).any()


def test_split_manifests_match_the_folders_exactly(cleaned):
    out, _, rows = cleaned
    for split in ("small", "large"):
        records = read_manifest(out / split / "manifest.csv")
        files = {str(p.relative_to(out / split)) for p in (out / split).glob("*/*.png")}
        assert files == {r.path for r in records}
        assert all(r.split == split and r.status == "ok" for r in records)
        assert {(r.key, r.letter) for r in records} == {k for k, r in rows.items() if r.split == split}


def test_every_input_image_has_a_row_and_flags_csv_says_why(cleaned):
    out, _, rows = cleaned
    assert len(rows) == 552
    with open(out / "clean" / "flags.csv", newline="") as handle:
        flag_rows = list(csv.DictReader(handle))
    reasons = {(r["key"], r["letter"]) for r in flag_rows}
    assert all(k in reasons for k, r in rows.items() if r.status == "removed")
    assert all(r["detail"] for r in flag_rows if r["flag"] in ("exact-duplicate", "near-duplicate", "solid"))


def test_report_files_parse(cleaned):
    out, result, _ = cleaned
    report = json.loads((out / "clean" / "report.json").read_text())
    assert report == json.loads(json.dumps(result.report))
    assert report["noise"] is None and report["noise_skipped"] == "--no-noise"
    assert "# Clean report" in (out / "clean" / "report.md").read_text()
    sheets = {p.stem for p in (out / "clean" / "sheets").glob("*.png")}
    assert {
        "exact-duplicate",
        "near-duplicate",
        "blank",
        "solid",
        "notdef-box",
        "leak",
        "small-sample",
    } <= sheets
    assert not (out / "clean" / "predictions.csv").exists()
    assert "small:" in result.text() and "large:" in result.text()


def test_rerun_is_byte_identical_and_removes_stale_files(corpus, cleaned):
    out, _, _ = cleaned

    def tree() -> dict[str, bytes]:
        return {
            str(p.relative_to(out)): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "timings.json"
        }

    before = tree()
    (out / "small" / "A" / "stale.png").write_bytes(b"old")
    (out / "clean" / "sheets" / "stale.png").write_bytes(b"old")
    clean_dataset(corpus, out, FAST)
    assert tree() == before


# ---------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------


def test_split_families_is_deterministic_by_seed():
    families = np.repeat([f"fam{i}" for i in range(200)], 5)
    weights = np.ones(len(families))
    first = split_families(families, weights, 100, seed=1)
    assert np.array_equal(first, split_families(families, weights, 100, seed=1))
    assert not np.array_equal(first, split_families(families, weights, 100, seed=2))
    assert first.sum() == 100 and len(set(families[first]) & set(families[~first])) == 0


def test_greedy_keepers_do_not_chain():
    """0 ~ 15 ~ 255 at distance 4 each: one group for single linkage, but 0 and 255 are 8 bits apart."""
    hashes = np.array([0, 0b1111, 0b11111111, 0b1111], dtype=np.uint64)
    looks = Looks(hashes, np.full(4, 0.3), max_distance=4, ink_ratio=1.1)
    assert greedy_keepers(looks, np.zeros(4, np.int64)).tolist() == [0, 0, 2, 0]
    # rank comes first: an image another flag removes (rank 1) yields to its clean neighbour
    assert greedy_keepers(looks, np.array([1, 0, 0, 0])).tolist() == [1, 1, 1, 1]


def test_greedy_keepers_tell_weights_apart():
    """One shape in three weights (equal hashes): regular and a hair heavier are one look, bold another."""
    looks = Looks(np.zeros(3, np.uint64), np.array([0.20, 0.21, 0.40]), max_distance=4, ink_ratio=1.1)
    assert greedy_keepers(looks, np.zeros(3, np.int64)).tolist() == [0, 0, 2]


# ---------------------------------------------------------------------------------------------------
# Other inputs, review decisions, the noise model, the command line
# ---------------------------------------------------------------------------------------------------


def test_notmnist_layout_without_manifest(tmp_path):
    rng = np.random.default_rng(3)
    root = tmp_path / "notMNIST_small"
    for letter in LETTERS:
        (root / letter).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(random_glyph(rng), "L").save(root / letter / f"Rm9udHtpfQ{i:02d}.png")
    (root / "C" / "readme.txt").write_text("not an image")
    result = clean_dataset(root, tmp_path / "out", FAST)
    assert [p["path"] for p in result.report["input"]["problems"]] == ["C/readme.txt"]
    assert result.report["input"]["fonts"] == 12 and not result.report["input"]["has_manifest"]
    small = read_manifest(tmp_path / "out" / "small" / "manifest.csv")
    assert small and all(r.key == r.family and r.key.startswith("Rm9udHtpfQ") for r in small)


def test_rendered_fonts_end_to_end(tmp_path):
    """Real fonts through the real renderer: a font that draws H under G is caught; the rest is kept."""
    for index in range(6):
        outlines = {"G": "H"} if index == 2 else None
        build_font(
            tmp_path / "fonts" / f"f{index}.ttf",
            family=f"Family {index}",
            cell=80 + 9 * index,
            weight=0.6 + 0.08 * index,
            outlines=outlines,
        )
    render_fonts(
        [tmp_path / "fonts"],
        tmp_path / "out" / "glyphs",
        RenderConfig(parse_letters("A-J")),
        workers=1,
        progress=False,
    )
    result = clean_dataset(
        tmp_path / "out" / "glyphs", tmp_path / "out", CleanConfig(small_fraction=0.3, noise=False)
    )
    flagged = {
        (r.key, r.letter, f)
        for r in read_manifest(tmp_path / "out" / "clean" / "manifest.csv")
        for f in r.flag_list()
        if f != "near-duplicate"
    }
    odd = [
        r.key for r in read_manifest(tmp_path / "out" / "glyphs" / "manifest.csv") if r.family == "Family 2"
    ][0]
    assert flagged == {
        (odd, letter, flag) for letter in "GH" for flag in ("letters-identical", "label-conflict")
    }
    assert result.report["input"]["images"] == 60


def test_empty_and_missing_folders_are_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        clean_dataset(tmp_path / "nowhere", tmp_path / "out", FAST)
    (tmp_path / "empty" / "A").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images found"):
        clean_dataset(tmp_path / "empty", tmp_path / "out", FAST)
    with pytest.raises(UsageError, match="--near"):
        clean_dataset(tmp_path / "empty", tmp_path / "out", CleanConfig(near=65))


def test_clean_refuses_to_read_its_own_output(corpus, cleaned):
    out, _, _ = cleaned
    with pytest.raises(UsageError, match="own output"):
        clean_dataset(out / "small", out, FAST)
    with pytest.raises(UsageError, match="inside SOURCE"):
        clean_dataset(corpus, corpus, FAST)


def test_review_decisions_are_honoured(corpus, tmp_path):
    out = tmp_path / "out"
    clean_dataset(corpus, out, FAST)
    small = sorted(read_manifest(out / "small" / "manifest.csv"), key=lambda r: (r.key, r.letter))
    rejected, relabelled = small[0], small[1]
    new_letter = "J" if relabelled.letter != "J" else "A"
    save_decisions(
        out / "clean" / "review.csv",
        {
            (rejected.key, rejected.letter): Decision(
                rejected.key, rejected.letter, "wrong-letter", "", "ana", "t"
            ),
            (relabelled.key, relabelled.letter): Decision(
                relabelled.key, relabelled.letter, "relabel", new_letter, "ana", "t"
            ),
            (small[2].key, small[2].letter): Decision(
                small[2].key, small[2].letter, "accept", "", "ana", "t"
            ),
            ("no-such-font", "A"): Decision("no-such-font", "A", "accept", "", "ana", "t"),
        },
    )
    result = clean_dataset(corpus, out, FAST)
    rows = {(r.key, r.letter): r for r in read_manifest(out / "clean" / "manifest.csv")}
    assert rows[rejected.key, rejected.letter].status == "removed"
    assert "review" in rows[rejected.key, rejected.letter].flag_list()
    assert "relabelled" in rows[relabelled.key, relabelled.letter].flag_list()
    moved = [
        r
        for r in read_manifest(out / "small" / "manifest.csv")
        if r.key == f"{relabelled.key}~{relabelled.letter}"
    ]
    assert [(r.letter, r.path) for r in moved] == [
        (new_letter, f"{new_letter}/{moved[0].key}.png")
    ]  # font has its own
    assert (out / "small" / moved[0].path).read_bytes() == (corpus / relabelled.path).read_bytes()
    review = result.report["review"]
    assert (review["reviewed"], review["overruled"], review["unmatched"]) == (3, 2, 1)
    assert review["label_errors"] == 2 and review["interval"][0] < 2 / 3 < review["interval"][1]


def dot_matrix_glyph(letter: str, cell: int, dx: int, dy: int, weight: float) -> np.ndarray:
    """A 5x7 dot-matrix letter drawn at one of several sizes, offsets and weights: a "font"."""
    image = np.zeros((28, 28), np.uint8)
    ink = max(1, round(cell * weight))
    for row, bits in enumerate(DOT_MATRIX[letter]):
        for column, bit in enumerate(bits):
            if bit == "1":
                y, x = dy + row * cell, dx + column * cell
                image[y : y + ink, x : x + ink] = 255
    return image


@pytest.fixture(scope="module")
def dot_corpus(tmp_path_factory):
    """20 dot-matrix fonts; dot03 has its A and B outlines swapped, dot05 is a "symbol font" whose letters
    are all drawn as other letters. Returns the folder and, by pixel bytes, each image's true class."""
    styles = [(3, dx, dy, w) for dx in (2, 6) for dy in (2, 5) for w in (0.67, 1.0)]
    styles += [(2, dx, dy, w) for dx in (4, 9, 14) for dy in (4, 10) for w in (0.5, 1.0)]
    fonts, truth = {}, {}
    for i, (cell, dx, dy, weight) in enumerate(styles):
        drawn = {c: c for c in LETTERS}
        if i == 3:
            drawn["A"], drawn["B"] = "B", "A"
        if i == 5:
            drawn = {c: "KLMNOPQRSTUV"[k] for k, c in enumerate(LETTERS)}
        images = {c: dot_matrix_glyph(drawn[c], cell, dx, dy, weight) for c in LETTERS}
        fonts[f"dot{i:02d}"] = (f"Dot {i:02d}", images)
        for c, image in images.items():
            true = LETTERS.index(drawn[c]) if drawn[c] in LETTERS else (LETTERS.index(c) + 3) % len(LETTERS)
            truth[image.tobytes()] = true
    return write_corpus(tmp_path_factory.mktemp("dots") / "glyphs", fonts), truth


def test_noise_suspects_and_symbol_fonts(dot_corpus, tmp_path, monkeypatch):
    """The model is replaced by an oracle that knows what each image shows: the cleaner must turn its
    confident-learning result into the right flags, predictions and per-split estimates."""
    import fontglyphs.noise as noise

    root, truth = dot_corpus

    def oracle(images, labels, groups, n_classes, **options):
        seen = np.array([truth[image.tobytes()] for image in images])
        probabilities = np.full((len(images), n_classes), 0.02)
        probabilities[np.arange(len(images)), seen] = 1 - 0.02 * (n_classes - 1)
        return noise.confident_learning(labels, probabilities, groups, seed=options["seed"])

    monkeypatch.setattr(noise, "estimate_label_noise", oracle)
    result = clean_dataset(root, tmp_path / "out", CleanConfig(small_fraction=0.3))
    rows = {(r.key, r.letter): r for r in read_manifest(tmp_path / "out" / "clean" / "manifest.csv")}
    suspects = {k for k, r in rows.items() if "label-noise-suspect" in r.flag_list()}
    assert suspects == {("dot03", "A"), ("dot03", "B")} | {("dot05", c) for c in LETTERS}
    assert {k for k, r in rows.items() if "symbol-font" in r.flag_list()} == {("dot05", c) for c in LETTERS}
    assert all(rows[k].split != "small" for k in suspects)
    with open(tmp_path / "out" / "clean" / "predictions.csv", newline="") as handle:
        predictions = {r["path"]: r for r in csv.DictReader(handle)}
    assert len(predictions) == 200 and predictions["A/dot03.png"]["predicted"] == "1"
    assert float(predictions["A/dot03.png"]["suspect_score"]) > 0.9
    noise_report = result.report["noise"]
    assert noise_report["model"]["suspects"] == 12 and noise_report["model"]["rate"] == pytest.approx(
        12 / 200
    )
    assert {"small before cleaning", "small", "large"} <= set(noise_report["splits"])
    assert (tmp_path / "out" / "clean" / "sheets" / "label-noise-top.png").is_file()


def test_noise_model_runs_for_real(dot_corpus, tmp_path):
    """The real model, trained for a token step per fold: the plumbing, not the model's skill."""
    root, _ = dot_corpus
    result = clean_dataset(
        root, tmp_path / "out", CleanConfig(small_fraction=0.3, noise_folds=2, noise_max_steps=2)
    )
    with open(tmp_path / "out" / "clean" / "predictions.csv", newline="") as handle:
        predictions = list(csv.DictReader(handle))
    assert len(predictions) == 200 and all(0 <= float(r["confidence"]) <= 1 for r in predictions)
    assert result.report["noise"]["model"]["model"]["folds"] == 2
    # a model that has barely trained reads few letters right: its suspects are shown, never acted on
    assert not result.report["noise"]["applied"] and "too weak" in result.report["noise"]["note"]
    assert result.report["flags"].keys().isdisjoint({"label-noise-suspect", "symbol-font"})


def test_cli_exit_codes(corpus, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(
        cli,
        [
            "clean",
            str(corpus),
            "-o",
            str(tmp_path / "out"),
            "--no-noise",
            "--small-fraction",
            "0.3",
            "--quiet",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output == "" and (tmp_path / "out" / "clean" / "report.json").is_file()
    summary = runner.invoke(cli, ["clean", str(corpus), "-o", str(tmp_path / "out"), "--no-noise"])
    assert summary.exit_code == 0 and "small:" in summary.output
    missing = runner.invoke(
        cli, ["clean", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"), "--no-noise"]
    )
    assert missing.exit_code == 2 and "no such folder" in missing.output and "Traceback" not in missing.output
    default = runner.invoke(cli, ["clean", "-o", str(tmp_path / "empty"), "--no-noise"])
    assert default.exit_code == 2 and "glyphs" in default.output
    bad = runner.invoke(cli, ["clean", str(corpus), "--near", "99"])
    assert bad.exit_code == 2
