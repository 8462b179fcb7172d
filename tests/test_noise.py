"""Label-noise estimate: confident learning on known probability matrices, grouped out-of-fold scoring,
determinism, a small end-to-end run on generated fonts with planted errors, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fontfactory import build_font

import fontglyphs.noise as noise
from fontglyphs.errors import DatasetError, UsageError
from fontglyphs.noise import (
    METHODS,
    confident_labels,
    confident_learning,
    estimate_label_noise,
    face_consistent,
    fit_temperature,
    group_folds,
    out_of_fold_probabilities,
    round_preserving_row_totals,
    softmax,
)
from fontglyphs.raster import RenderOptions, render_font

LETTERS = "ABCDEFGHIJ"

# Two classes, six images; image 2 is labelled 0 but looks like a 1, image 5 is unsure of everything.
# t0 = (.9 + .8 + .2) / 3 = .6333, t1 = (.8 + .9 + .6) / 3 = .7667; confident labels 0, 0, 1, 1, 1, none;
# confident joint [[2, 1], [0, 2]]; calibrated to the label counts (3, 3): [[2, 1], [0, 3]].
TINY_LABELS = np.array([0, 0, 0, 1, 1, 1])
TINY_PROBABILITIES = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.2, 0.8], [0.1, 0.9], [0.4, 0.6]])
TINY_GROUPS = np.array(["a", "a", "a", "b", "b", "b"])


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models train faster on one thread, and much faster when other work shares the cores."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def simulate(n: int, k: int, noise_rate: float, sharpness: float, seed: int):
    """Probabilities of a decent classifier for true labels, and given labels with planted flips."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), true] += sharpness
    flipped = rng.random(n) < noise_rate
    given = true.copy()
    given[flipped] = (true[flipped] + rng.integers(1, k, flipped.sum())) % k
    return given, softmax(logits), flipped, np.array([f"font{i // 10}" for i in range(n)])


# ---------------------------------------------------------------------------------------------------
# Confident learning
# ---------------------------------------------------------------------------------------------------


def test_tiny_case_matches_hand_computation():
    estimate = confident_learning(TINY_LABELS, TINY_PROBABILITIES, TINY_GROUPS, n_bootstrap=0)
    np.testing.assert_allclose(estimate.thresholds, [1.9 / 3, 2.3 / 3])
    np.testing.assert_array_equal(estimate.confident_joint, [[2, 1], [0, 2]])
    np.testing.assert_allclose(estimate.joint, np.array([[2, 1], [0, 3]]) / 6)
    assert estimate.rate == pytest.approx(1 / 6)
    np.testing.assert_allclose(estimate.class_rates, [1 / 3, 0])
    np.testing.assert_array_equal(estimate.suspects, [False, False, True, False, False, False])
    np.testing.assert_allclose(estimate.suspect_rank, [0.1, 0.2, 0.8, 0.2, 0.1, 0.4])
    np.testing.assert_array_equal(estimate.predicted, [0, 0, 1, 1, 1, 1])
    assert estimate.group_scores == {"a": pytest.approx(1 / 3), "b": 0.0}
    assert estimate.agreement == pytest.approx(5 / 6)
    assert estimate.rate_interval == (estimate.rate, estimate.rate)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_finds_the_tiny_error(method):
    estimate = confident_learning(TINY_LABELS, TINY_PROBABILITIES, method=method, n_bootstrap=0)
    assert np.flatnonzero(estimate.suspects).tolist() == [2]


def test_most_probable_of_the_confident_classes_not_the_overall_argmax():
    # Class 0 is the arg-max but below its threshold; classes 1 and 2 clear theirs: 1 is the more probable.
    seen = confident_labels(np.array([[0.35, 0.33, 0.32], [0.1, 0.1, 0.8]]), np.array([0.9, 0.2, 0.2]))
    assert seen.tolist() == [1, 2]
    assert confident_labels(np.array([[0.5, 0.5]]), np.array([0.9, 0.9])).tolist() == [-1]


def test_an_image_predicted_as_its_label_is_never_a_suspect():
    labels = np.array([0, 0, 0, 1, 1, 1])
    # Image 0 is low in its class but still predicted 0; calibration may count it off-diagonal.
    probabilities = np.array(
        [[0.55, 0.45], [0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99], [0.3, 0.7]]
    )
    for method in METHODS:
        estimate = confident_learning(labels, probabilities, method=method, n_bootstrap=0)
        assert not estimate.suspects[estimate.predicted == labels].any()


def test_round_preserving_row_totals():
    rounded = round_preserving_row_totals(np.array([[1.4, 1.3, 0.3], [2.5, 2.5, 0.0]]))
    np.testing.assert_array_equal(rounded.sum(axis=1), [3, 5])
    np.testing.assert_array_equal(rounded, [[2, 1, 0], [3, 2, 0]])


def test_face_constraint_resolves_two_images_read_as_one_letter():
    # One face, three letters: the model reads both the I (row 1) and the J (row 2) as J.
    probabilities = np.array([[0.9, 0.05, 0.05], [0.05, 0.35, 0.6], [0.02, 0.08, 0.9]])
    refined = face_consistent(probabilities, ["f", "f", "f"])
    np.testing.assert_allclose(refined.sum(axis=1), 1)
    assert refined.argmax(axis=1).tolist() == [0, 1, 2]
    assert refined[1, 1] > 0.6 and refined[2, 2] > 0.6


def test_face_constraint_keeps_a_permuted_face_and_leaves_oversized_faces_alone():
    rng = np.random.default_rng(0)
    perm = np.array([3, 0, 1, 2])  # a face whose letters carry each other's outlines
    probabilities = softmax(np.eye(4)[perm] * 6 + rng.normal(0, 0.3, (4, 4)))
    refined = face_consistent(np.vstack([probabilities, probabilities]), ["p"] * 4 + ["q"] * 4)
    assert refined[:4].argmax(axis=1).tolist() == perm.tolist() and refined[:4].max(axis=1).min() > 0.9
    crowd = softmax(rng.normal(0, 1, (5, 4)))  # five images cannot be five different letters of four
    np.testing.assert_allclose(face_consistent(crowd, ["c"] * 5), crowd)


def test_an_unused_class_gets_no_rate_and_no_threshold():
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    estimate = confident_learning(labels, probabilities, n_bootstrap=20)
    assert estimate.thresholds[2] == np.inf and np.isnan(estimate.class_rates[2])
    assert estimate.rate == 0.0
    report = estimate.to_json()
    assert report["class_rates"][2] is None and report["thresholds"][2] is None
    json.dumps(report)


@pytest.mark.parametrize("rate", [0.02, 0.065, 0.10])
def test_rate_of_a_simulated_noisy_set(rate):
    given, probabilities, flipped, groups = simulate(20_000, 10, rate, sharpness=4.0, seed=1)
    estimate = confident_learning(given, probabilities, groups, n_bootstrap=100)
    assert abs(estimate.rate - flipped.mean()) < 0.005
    low, high = estimate.rate_interval
    assert low <= estimate.rate <= high and high - low < 0.02
    assert low - 0.005 <= flipped.mean() <= high + 0.005
    precision = flipped[estimate.suspects].mean()
    recall = estimate.suspects[flipped].mean()
    assert precision > 0.85 and recall > 0.85, (precision, recall)
    truth_per_class = np.bincount(given, weights=flipped, minlength=10) / np.bincount(given, minlength=10)
    assert np.abs(estimate.class_rates - truth_per_class).max() < 0.02
    assert (estimate.class_intervals[:, 0] <= estimate.class_intervals[:, 1]).all()


def test_bootstrap_is_seeded_and_group_scores_rank_bad_fonts():
    given, probabilities, flipped, groups = simulate(5_000, 10, 0.02, sharpness=4.0, seed=2)
    given[groups == "font7"] = (given[groups == "font7"] + 1) % 10  # a whole font with wrong labels
    first = confident_learning(given, probabilities, groups, seed=3)
    assert first.rate_interval == confident_learning(given, probabilities, groups, seed=3).rate_interval
    assert first.rate_interval != confident_learning(given, probabilities, groups, seed=4).rate_interval
    assert first.group_scores["font7"] >= 0.9
    assert next(iter(first.to_json()["group_scores"])) == "font7"


# ---------------------------------------------------------------------------------------------------
# Out-of-fold scoring
# ---------------------------------------------------------------------------------------------------


def test_group_folds_keep_groups_whole_and_balance_sizes():
    rng = np.random.default_rng(0)
    groups = np.repeat([f"family{i}" for i in range(40)], rng.integers(5, 30, 40))
    folds = group_folds(groups, 5, seed=1)
    for name in np.unique(groups):
        assert len(np.unique(folds[groups == name])) == 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 30
    np.testing.assert_array_equal(folds, group_folds(groups, 5, seed=1))


def test_no_group_is_scored_by_a_model_that_saw_it(monkeypatch):
    """The real fold loop with a stand-in model: each image carries its group number in a pixel."""
    groups = np.repeat(np.arange(23), 10)
    images = np.zeros((len(groups), 28, 28), np.uint8)
    images[:, 0, 0] = groups
    labels = np.tile(np.arange(10), 23)
    trained_on: list[set] = []
    looked_at: list[tuple[int, set]] = []  # (model, groups) of every prediction

    def fake_train(torch, x, y, n_classes, steps, seed, bar=None):
        trained_on.append(set(x[:, 0, 0, 0].tolist()))
        return len(trained_on) - 1

    def fake_logits(torch, model, x):
        looked_at.append((model, set(x[:, 0, 0, 0].tolist())))
        return np.zeros((len(x), 10))

    monkeypatch.setattr(noise, "_train", fake_train)
    monkeypatch.setattr(noise, "_logits", fake_logits)
    probabilities = out_of_fold_probabilities(images, labels, groups.astype(str), 10, folds=5)
    assert len(trained_on) == 5 and probabilities.shape == (230, 10)
    scored = []
    for model, seen in enumerate(trained_on):
        *held_out, judged = [found for owner, found in looked_at if owner == model]
        assert judged and seen.isdisjoint(judged)
        for calibration in held_out:  # the temperature is fitted on groups neither trained on nor scored
            assert seen.isdisjoint(calibration) and judged.isdisjoint(calibration)
        scored.append(judged)
    assert sorted(g for judged in scored for g in judged) == list(range(23))


def test_temperature_fit_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 5))
    labels = np.array([rng.choice(5, p=p) for p in softmax(logits, 2.0)])
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)


@pytest.fixture(scope="module")
def dot_fonts(tmp_path_factory):
    """Images of 24 generated fonts (10 letters each), one family per font; font 0 draws B under A and
    A under B (a wrong-outline font built with FontBuilder)."""
    root = tmp_path_factory.mktemp("noise-fonts")
    rng = np.random.default_rng(0)
    images, labels, groups = [], [], []
    for i in range(24):
        outlines = {"A": "B", "B": "A"} if i == 0 else None
        path = build_font(
            root / f"f{i}.ttf",
            family=f"Dots {i}",
            weight=float(rng.uniform(0.55, 1.0)),
            slant=float(rng.uniform(-0.15, 0.3)),
            outlines=outlines,
        )
        (glyphs,) = render_font(path, LETTERS, RenderOptions())
        for label, letter in enumerate(LETTERS):
            images.append(glyphs.images[letter])
            labels.append(label)
            groups.append(glyphs.face.family)
    return np.stack(images), np.array(labels), np.array(groups)


def test_same_seed_same_probabilities(dot_fonts):
    images, labels, groups = dot_fonts
    images, labels, groups = images[:80], labels[:80], groups[:80]
    first = out_of_fold_probabilities(images, labels, groups, 10, folds=2, seed=5, max_steps=10)
    again = out_of_fold_probabilities(images, labels, groups, 10, folds=2, seed=5, max_steps=10)
    other = out_of_fold_probabilities(images, labels, groups, 10, folds=2, seed=6, max_steps=10)
    assert first.dtype == np.float32 and first.shape == (80, 10)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_time_budget_cuts_training_short(dot_fonts):
    images, labels, groups = (array[:60] for array in dot_fonts)
    estimate = estimate_label_noise(images, labels, groups, 10, folds=2, time_budget=0.001, n_bootstrap=0)
    assert estimate.model["steps_per_fold"] == 20 and estimate.model["time_budget"] == 0.001


def test_end_to_end_finds_planted_errors(dot_fonts):
    images, labels, groups = dot_fonts
    rng = np.random.default_rng(1)
    given = labels.copy()
    planted = rng.choice(np.arange(10, len(labels)), 12, replace=False)
    given[planted] = (labels[planted] + rng.integers(1, 10, len(planted))) % 10
    truth = given != labels
    truth[[0, 1]] = True  # font 0: A and B carry each other's outlines
    faces = np.repeat(np.arange(24), 10)
    estimate = estimate_label_noise(
        images, given, groups, 10, faces=faces, folds=4, max_steps=160, n_bootstrap=50
    )
    recall = estimate.suspects[truth].mean()
    precision = truth[estimate.suspects].mean()
    assert recall >= 0.75 and precision >= 0.8, (recall, precision)
    assert abs(estimate.rate - truth.mean()) < 0.03
    assert estimate.model["folds"] == 4 and estimate.model["steps_per_fold"] == 160
    assert estimate.group_scores["Dots 0"] >= 0.2  # the swapped A and B
    json.dumps(estimate.to_json())


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------


def test_confident_learning_rejects_bad_input():
    with pytest.raises(DatasetError, match="no images"):
        confident_learning(np.array([], int), np.zeros((0, 3)))
    with pytest.raises(DatasetError, match="shape"):
        confident_learning(TINY_LABELS[:5], TINY_PROBABILITIES)
    with pytest.raises(DatasetError, match="label 2 of image 0 is outside 0..1"):
        confident_learning(np.array([2, 0, 0, 1, 1, 1]), TINY_PROBABILITIES)
    with pytest.raises(DatasetError, match="integer"):
        confident_learning(TINY_LABELS.astype(float), TINY_PROBABILITIES)
    with pytest.raises(DatasetError, match="sum to 1"):
        confident_learning(TINY_LABELS, TINY_PROBABILITIES * 2)
    with pytest.raises(DatasetError, match="groups"):
        confident_learning(TINY_LABELS, TINY_PROBABILITIES, TINY_GROUPS[:4])
    with pytest.raises(UsageError, match="noise method 'vote'"):
        confident_learning(TINY_LABELS, TINY_PROBABILITIES, method="vote")
    with pytest.raises(UsageError, match="confidence"):
        confident_learning(TINY_LABELS, TINY_PROBABILITIES, confidence=95)


def test_out_of_fold_rejects_bad_input():
    images = np.zeros((20, 28, 28), np.uint8)
    labels = np.arange(20) % 10
    groups = np.repeat(["x", "y"], 10)
    with pytest.raises(DatasetError, match="20 images but 19 labels"):
        out_of_fold_probabilities(images, labels[:19], groups[:19], 10)
    with pytest.raises(DatasetError, match="groups: expected one name per image"):
        out_of_fold_probabilities(images, labels, groups[:5], 10)
    with pytest.raises(DatasetError, match="outside 0..9"):
        out_of_fold_probabilities(images, labels + 1, groups, 10)
    with pytest.raises(DatasetError, match="one group"):
        out_of_fold_probabilities(images, labels, np.repeat("x", 20), 10)
    with pytest.raises(DatasetError, match="no images"):
        out_of_fold_probabilities(images[:0], labels[:0], groups[:0], 10)
    with pytest.raises(DatasetError, match="uint8"):
        out_of_fold_probabilities(images.astype(np.float32), labels, groups, 10)
    with pytest.raises(UsageError, match="folds 1"):
        out_of_fold_probabilities(images, labels, groups, 10, folds=1)
    with pytest.raises(UsageError, match="n_classes"):
        out_of_fold_probabilities(images, labels, groups, 1)
    with pytest.raises(UsageError, match="device 'tpu9'"):
        out_of_fold_probabilities(images, labels, groups, 10, device="tpu9")
    with pytest.raises(UsageError, match="noise method"):
        estimate_label_noise(images, labels, groups, 10, method="nope")
    with pytest.raises(DatasetError, match="faces: expected one name per image, 20 in all"):
        estimate_label_noise(images, labels, groups, 10, faces=["a"] * 3)
