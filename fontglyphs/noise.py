"""Label-noise estimate: out-of-fold model probabilities, then confident learning.

Confident learning (CL) follows Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty
in Dataset Labels", Journal of Artificial Intelligence Research 70 (2021) 1373-1411, section 3:

1. per-class thresholds ``t_j`` = mean predicted probability of class j over the images *labelled* j;
2. confident joint ``C[i][j]`` = number of images labelled i whose probability of j is at least ``t_j``
   (the most probable of those classes when several clear their thresholds; none when no class does);
3. calibration: each row of C is rescaled to the number of images labelled i, and the result divided by
   N estimates the joint distribution ``Q`` of (given label, true label);
4. label-error rate = off-diagonal mass of Q; per given label i, ``1 - Q[i][i] / sum_j Q[i][j]``;
5. label issues ("prune by noise rate"): in each off-diagonal cell (i, j), the ``round(N * Q[i][j])``
   images labelled i with the largest margin ``p_j - p_i``; never one whose arg-max is its given label.

The probabilities must be out-of-sample, and for glyphs that means out-of-*font*: a model that saw the
other letters of a font learns that font's quirks, and a font whose letters carry wrong outlines is then
"confirmed" by its own training images. So folds are grouped by font family (:func:`group_folds`): no
group is ever scored by a model trained on any of its images.

A font face draws each letter once. When the caller says which face each image comes from (``faces``),
the probabilities of a face's images are balanced so that no letter is claimed twice
(:func:`face_consistent`) before CL sees them. Out-of-font models misread script, blackletter and
display faces; most such misreadings collide with a letter the face also draws, so this removes most of
the false suspects that would otherwise inflate the rate, and keeps the ones that matter: a face whose
letters carry each other's outlines is a permutation, which the balancing leaves as it is.

Uncertainty: a percentile bootstrap over groups. Groups (fonts), not images, are resampled with
replacement and steps 1-4 recomputed with the same probabilities, because label errors come in whole
fonts and the images of one font are not independent. The interval says how much the estimate depends
on which fonts happen to be in the set; it leaves out the variance of retraining the model.

    estimate = estimate_label_noise(images, labels, families, n_classes=10, faces=face_keys)
    estimate.rate, estimate.rate_interval     # e.g. 0.064, (0.058, 0.071)
    flagged = images[estimate.suspects]

This numpy implementation avoids the cleanlab package (AGPL; pulls in scikit-learn and pandas) and
differs from it in two corner cases: among several classes above their thresholds it takes the most
probable of *those* (as the paper says; cleanlab takes the overall arg-max), and calibrated counts are
rounded by largest remainder. ``benchmarks/noise_validation.py --cleanlab`` compares the two.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import DatasetError, UsageError

METHODS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning")
DEFAULT_METHOD = "prune_by_noise_rate"
THRESHOLD_SLACK = 1e-6  # a probability equal to its class mean (up to float error) counts as confident


@dataclass
class NoiseEstimate:
    """Confident-learning estimate of the label errors of one set of N images in K classes."""

    probabilities: np.ndarray  # (N, K) out-of-fold predicted probabilities
    suspects: np.ndarray  # (N,) bool: label issues found by ``method``
    suspect_rank: np.ndarray  # (N,) 1 - probability of the given label: higher is more suspicious
    predicted: np.ndarray  # (N,) arg-max of probabilities: the letter the image most likely draws
    rate: float  # estimated fraction of images whose label is wrong
    rate_interval: tuple[float, float]
    class_rates: np.ndarray  # (K,) estimated error rate among the images *given* each label; nan: none
    class_intervals: np.ndarray  # (K, 2)
    confident_joint: np.ndarray  # (K, K) int counts: rows given label, columns confidently-seen label
    joint: np.ndarray  # (K, K) calibrated estimate of P(given label, true label); sums to 1
    thresholds: np.ndarray  # (K,) per-class thresholds t_j; inf for a class no image is labelled with
    group_scores: dict[str, float]  # per group (font): fraction of its images that are suspects; {} if none
    agreement: float  # fraction of images whose arg-max is their given label
    method: str = DEFAULT_METHOD
    confidence: float = 0.95
    n_bootstrap: int = 0
    face_constraint: bool = False  # probabilities refined with face_consistent
    model: dict = field(default_factory=dict)  # how the probabilities were made: folds, steps, ...

    def to_json(self) -> dict:
        """Everything but the per-image arrays, as plain JSON values (nan and inf become None).
        Groups are listed most suspicious first."""
        ranked = sorted(self.group_scores.items(), key=lambda item: (-item[1], item[0]))
        interval = f"{self.confidence:.0%} percentile bootstrap over groups, {self.n_bootstrap} resamples"
        return {
            "method": self.method,
            "images": int(len(self.suspects)),
            "suspects": int(self.suspects.sum()),
            "rate": _json_float(self.rate),
            "rate_interval": [_json_float(v) for v in self.rate_interval],
            "interval": interval if self.n_bootstrap else "none",
            "face_constraint": self.face_constraint,
            "class_rates": [_json_float(v) for v in self.class_rates],
            "class_intervals": [[_json_float(v) for v in pair] for pair in self.class_intervals],
            "thresholds": [_json_float(v) for v in self.thresholds],
            "confident_joint": self.confident_joint.tolist(),
            "joint": [[_json_float(v) for v in row] for row in self.joint],
            "agreement": _json_float(self.agreement),
            "group_scores": {name: _json_float(score) for name, score in ranked},
            "model": self.model,
        }


def _json_float(value: float) -> float | None:
    return round(float(value), 6) if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------


def _check_labels(labels, n_classes: int) -> np.ndarray:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise UsageError(f"n_classes {n_classes!r}: need a whole number of classes, 2 or more")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DatasetError(f"labels: expected one label per image (1-D), got shape {labels.shape}")
    if len(labels) == 0:
        raise DatasetError("labels: no images to estimate label noise on")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"labels: expected integer class indices, got dtype {labels.dtype}")
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        index = int(np.argmax(bad))
        raise DatasetError(f"labels: label {labels[index]} of image {index} is outside 0..{n_classes - 1}")
    return labels.astype(np.int64)


def _check_probabilities(probabilities, n: int) -> np.ndarray:
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[0] != n:
        raise DatasetError(
            f"probabilities: expected shape ({n}, K) for {n} labels, got {probabilities.shape}"
        )
    if not np.issubdtype(probabilities.dtype, np.floating) or not np.isfinite(probabilities).all():
        raise DatasetError("probabilities: expected finite floating-point values")
    if (probabilities < 0).any() or np.abs(probabilities.sum(axis=1) - 1).max() > 1e-3:
        raise DatasetError("probabilities: each row must be non-negative and sum to 1")
    return probabilities


def _check_groups(groups, n: int, what: str) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise DatasetError(f"{what}: expected one name per image, {n} in all; got shape {groups.shape}")
    return groups.astype(str)


def _check_images(images, labels: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(
            f"images: expected an (N, H, W) uint8 array, got {images.dtype} of shape {images.shape}"
        )
    if len(images) != len(labels):
        raise DatasetError(f"images: {len(images)} images but {len(labels)} labels")
    if min(images.shape[1:]) < 8:
        raise DatasetError(
            f"images: {images.shape[1]}x{images.shape[2]} is too small for the model (8x8 at least)"
        )
    return images


# ---------------------------------------------------------------------------------------------------
# Confident learning (numpy); ``weights`` are bootstrap multiplicities, ones for the plain estimate
# ---------------------------------------------------------------------------------------------------


def confident_thresholds(
    labels: np.ndarray, probabilities: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """t_j: the mean probability of class j over the images labelled j (inf where no image is)."""
    n_classes = probabilities.shape[1]
    weights = np.ones(len(labels)) if weights is None else weights
    self_confidence = probabilities[np.arange(len(labels)), labels]
    totals = np.bincount(labels, weights=weights, minlength=n_classes)
    sums = np.bincount(labels, weights=weights * self_confidence, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, sums / totals, np.inf)


def confident_labels(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The class each image confidently belongs to: the most probable class among those whose probability
    clears its threshold; -1 where none does."""
    confident = probabilities >= thresholds - THRESHOLD_SLACK
    guess = np.where(confident, probabilities, -1.0).argmax(axis=1)
    return np.where(confident.any(axis=1), guess, -1)


def confident_joint(
    labels: np.ndarray, seen: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """C[i][j]: (weighted) count of images labelled i confidently seen as j. The diagonal is at least 1 so
    that calibration never divides by zero for a class with no confident image."""
    counted = seen >= 0
    w = None if weights is None else weights[counted]
    counts = np.bincount(
        labels[counted] * n_classes + seen[counted], weights=w, minlength=n_classes * n_classes
    )
    joint = counts.reshape(n_classes, n_classes).astype(np.float64)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1.0))
    return joint


def calibrate_joint(joint: np.ndarray, label_counts: np.ndarray) -> np.ndarray:
    """Rescale each row of the confident joint to the number of images given that label (so the rows
    sum to the label counts and the whole to N): the images that no class claimed confidently are
    shared out like the ones that were."""
    return joint / joint.sum(axis=1, keepdims=True) * label_counts[:, None]


def _rates(calibrated: np.ndarray, label_counts: np.ndarray) -> tuple[float, np.ndarray]:
    total = label_counts.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        class_rates = np.where(label_counts > 0, 1.0 - calibrated.diagonal() / label_counts, np.nan)
    return float(1.0 - calibrated.trace() / total), class_rates


def round_preserving_row_totals(counts: np.ndarray) -> np.ndarray:
    """Round each row to integers that add up to the row's (rounded) total, by largest remainder."""
    floors = np.floor(counts)
    shortfall = np.rint(counts.sum(axis=1) - floors.sum(axis=1)).astype(int)
    order = np.argsort(-(counts - floors), axis=1, kind="stable")
    bumps = np.arange(counts.shape[1])[None, :] < shortfall[:, None]
    rounded = floors.copy()
    np.put_along_axis(rounded, order, np.take_along_axis(rounded, order, axis=1) + bumps, axis=1)
    return rounded.astype(np.int64)


def _prune_by_noise_rate(labels: np.ndarray, probabilities: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """In each cell (i, j != i), the counts[i][j] images labelled i with the largest margin p_j - p_i."""
    flagged = np.zeros(len(labels), dtype=bool)
    for i, j in np.argwhere(counts * (1 - np.eye(len(counts), dtype=np.int64))):
        members = np.flatnonzero(labels == i)
        margin = probabilities[members, j] - probabilities[members, i]
        flagged[members[np.argsort(-margin, kind="stable")[: counts[i, j]]]] = True
    return flagged


def _prune_by_class(labels: np.ndarray, probabilities: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """In each class i, the (row total - counts[i][i]) images labelled i least confident in i."""
    flagged = np.zeros(len(labels), dtype=bool)
    for i in range(len(counts)):
        members = np.flatnonzero(labels == i)
        excess = len(members) - counts[i, i]
        if excess > 0:
            flagged[members[np.argsort(probabilities[members, i], kind="stable")[:excess]]] = True
    return flagged


def find_label_issues(
    labels: np.ndarray, probabilities: np.ndarray, calibrated: np.ndarray, seen: np.ndarray, method: str
) -> np.ndarray:
    """The images flagged by ``method`` (see :data:`METHODS`); an image the model predicts as its given
    label is never flagged."""
    counts = round_preserving_row_totals(calibrated)
    if method == "prune_by_noise_rate":
        flagged = _prune_by_noise_rate(labels, probabilities, counts)
    elif method == "prune_by_class":
        flagged = _prune_by_class(labels, probabilities, counts)
    elif method == "both":
        flagged = _prune_by_noise_rate(labels, probabilities, counts) & _prune_by_class(
            labels, probabilities, counts
        )
    elif method == "confident_learning":
        flagged = (seen >= 0) & (seen != labels)
    else:
        raise UsageError(f"noise method {method!r}: must be one of {', '.join(METHODS)}")
    return flagged & (probabilities.argmax(axis=1) != labels)


def _estimate(
    labels: np.ndarray, probabilities: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1-3 of CL: thresholds, confident labels, raw confident joint, calibrated joint counts."""
    n_classes = probabilities.shape[1]
    thresholds = confident_thresholds(labels, probabilities, weights)
    seen = confident_labels(probabilities, thresholds)
    raw = confident_joint(labels, seen, n_classes, weights)
    label_counts = np.bincount(labels, weights=weights, minlength=n_classes).astype(np.float64)
    return thresholds, seen, raw, calibrate_joint(raw, label_counts)


def _bootstrap(
    labels: np.ndarray,
    probabilities: np.ndarray,
    group_index: np.ndarray,
    n_groups: int,
    n_bootstrap: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rates (B,) and class rates (B, K) of B resamples of the groups with replacement."""
    rng = np.random.default_rng(seed)
    n_classes = probabilities.shape[1]
    rates = np.empty(n_bootstrap)
    class_rates = np.empty((n_bootstrap, n_classes))
    for b in range(n_bootstrap):
        weights = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[group_index].astype(
            np.float64
        )
        label_counts = np.bincount(labels, weights=weights, minlength=n_classes)
        *_, calibrated = _estimate(labels, probabilities, weights)
        rates[b], class_rates[b] = _rates(calibrated, label_counts)
    return rates, class_rates


def face_consistent(probabilities: np.ndarray, faces, iterations: int = 30) -> np.ndarray:
    """Probabilities refined by what a font face is: it draws each letter once, so the images of one face
    have different true letters. Each face's (images x classes) block is Sinkhorn-balanced: rows sum to 1
    (one letter per image), columns to at most 1 (at most one image per letter). An odd glyph that the
    model reads as a letter the face already has is pushed toward the letter the face lacks, which removes
    most of the model's mistakes on script and display faces, while a face whose outlines are permuted
    keeps its (permuted) confident predictions. A face with more images than classes is left as it is."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes = probabilities.shape[1]
    names, index, sizes = np.unique(np.asarray(faces).astype(str), return_inverse=True, return_counts=True)
    order = np.argsort(index, kind="stable")
    row = np.empty(len(index), dtype=np.int64)
    row[order] = np.arange(len(index)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    fits = sizes[index] <= n_classes
    blocks = np.zeros((len(names), n_classes, n_classes))
    blocks[index[fits], row[fits]] = probabilities[fits]
    for _ in range(iterations):
        blocks /= np.maximum(blocks.sum(axis=1, keepdims=True), 1.0)  # no letter more than once
        totals = blocks.sum(axis=2, keepdims=True)
        np.divide(blocks, totals, out=blocks, where=totals > 0)  # every image one letter
    refined = probabilities.copy()
    refined[fits] = blocks[index[fits], row[fits]]
    return refined


def confident_learning(
    labels,
    probabilities,
    groups=None,
    *,
    faces=None,
    method: str = DEFAULT_METHOD,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> NoiseEstimate:
    """Estimate label errors from out-of-sample ``probabilities`` (N, K) of the given ``labels`` (N,).

    ``groups`` (N,) names each image's font (family): the bootstrap resamples groups and
    ``group_scores`` is per group; without groups the bootstrap resamples images. ``faces`` (N,) names each
    image's font face (file, face index, instance): the probabilities are first refined with
    :func:`face_consistent`, and the estimate keeps the refined ones.
    """
    if method not in METHODS:
        raise UsageError(f"noise method {method!r}: must be one of {', '.join(METHODS)}")
    if not 0 < confidence < 1:
        raise UsageError(f"confidence {confidence!r}: must be between 0 and 1")
    if n_bootstrap < 0:
        raise UsageError(f"n_bootstrap {n_bootstrap!r}: must be 0 (no interval) or more")
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2:
        raise DatasetError(f"probabilities: expected an (N, K) array, got shape {probabilities.shape}")
    labels = _check_labels(labels, probabilities.shape[1])
    probabilities = _check_probabilities(probabilities, len(labels))
    if groups is not None:
        groups = _check_groups(groups, len(labels), "groups")
    if faces is not None:
        probabilities = face_consistent(probabilities, _check_groups(faces, len(labels), "faces"))

    n_classes = probabilities.shape[1]
    label_counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    thresholds, seen, raw, calibrated = _estimate(labels, probabilities)
    rate, class_rates = _rates(calibrated, label_counts)
    suspects = find_label_issues(labels, probabilities, calibrated, seen, method)

    if groups is None:
        group_index, group_scores = np.arange(len(labels)), {}
    else:
        names, group_index = np.unique(groups, return_inverse=True)
        flagged = np.bincount(group_index, weights=suspects, minlength=len(names))
        sizes = np.bincount(group_index, minlength=len(names))
        group_scores = {str(name): float(f / n) for name, f, n in zip(names, flagged, sizes, strict=True)}

    if n_bootstrap:
        n_groups = int(group_index.max()) + 1
        rates, boot_class_rates = _bootstrap(labels, probabilities, group_index, n_groups, n_bootstrap, seed)
        tails = [(1 - confidence) / 2, (1 + confidence) / 2]
        low, high = np.quantile(rates, tails)
        rate_interval = (float(low), float(high))
        with warnings.catch_warnings():  # a class with no image in some resamples is nan there
            warnings.simplefilter("ignore", RuntimeWarning)
            class_intervals = np.nanquantile(boot_class_rates, tails, axis=0).T
    else:
        rate_interval = (rate, rate)
        class_intervals = np.stack([class_rates, class_rates], axis=1)

    predicted = probabilities.argmax(axis=1)
    return NoiseEstimate(
        probabilities=probabilities,
        suspects=suspects,
        suspect_rank=1.0 - probabilities[np.arange(len(labels)), labels].astype(np.float64),
        predicted=predicted,
        rate=rate,
        rate_interval=rate_interval,
        class_rates=class_rates,
        class_intervals=class_intervals,
        confident_joint=raw.astype(np.int64),
        joint=calibrated / calibrated.sum(),
        thresholds=thresholds,
        group_scores=group_scores,
        agreement=float(np.mean(predicted == labels)),
        method=method,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        face_constraint=faces is not None,
    )


# ---------------------------------------------------------------------------------------------------
# Out-of-fold probabilities: a small CNN per fold (torch, imported lazily)
# ---------------------------------------------------------------------------------------------------

WIDTH = 24  # channels of the first conv block; the next two have 2x and 4x
BATCH_SIZE = 256
EPOCHS = 4.0
PEAK_LR = 0.2  # SGD with Nesterov momentum, linear warm-up then linear decay to 0
WARMUP = 0.15  # fraction of the steps spent warming up
WEIGHT_DECAY = 5e-4
MIN_STEPS = 300  # per fold: small sets get more passes; the model needs this many updates to learn glyphs
MAX_STEPS = 500  # per fold: past ~100k images, more data per step rather than more steps
MAX_SHIFT = 2.0  # augmentation: random shift of up to this many pixels, both axes, per image
CALIBRATION_PARTS = 10  # 1/10 of a training fold's groups are held out to fit the temperature


def group_folds(groups, folds: int, seed: int = 0) -> np.ndarray:
    """Fold index (0..folds-1) of each image such that every group lies in a single fold and the folds
    hold about the same number of images: groups in a seeded random order, the largest first, each to the
    fold with the fewest images so far."""
    groups = np.asarray(groups).astype(str)
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise UsageError(f"folds {folds!r}: need a whole number of folds, 2 or more")
    if len(names) < folds:
        raise DatasetError(f"groups: {len(names)} distinct groups (font families) cannot fill {folds} folds")
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of_group = np.empty(len(names), dtype=np.int64)
    load = np.zeros(folds, dtype=np.int64)
    for group in order:
        fold = int(np.argmin(load))
        fold_of_group[group] = fold
        load[fold] += sizes[group]
    return fold_of_group[inverse]


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the cross-entropy of softmax(logits / T) (Guo et al., "On Calibration
    of Modern Neural Networks", ICML 2017): one number, so CL's thresholds compare calibrated
    probabilities. Golden-section search on log T in [-3, 3]."""
    logits = logits.astype(np.float64)

    def loss(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(labels)), labels]))

    ratio = (math.sqrt(5) - 1) / 2
    low, high = -3.0, 3.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(40):
        if loss_a <= loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def _model(torch, n_classes: int):
    nn = torch.nn

    def block(inputs: int, outputs: int) -> list:
        return [
            nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
        ]

    return nn.Sequential(
        *block(1, WIDTH),
        nn.MaxPool2d(2),
        *block(WIDTH, 2 * WIDTH),
        nn.MaxPool2d(2),
        *block(2 * WIDTH, 4 * WIDTH),
        nn.AdaptiveMaxPool2d(1),  # any image size; max keeps "this stroke is somewhere"
        nn.Flatten(),
        nn.Linear(4 * WIDTH, n_classes),
    )


def _inputs(torch, x, generator=None):
    """uint8 images (B, 1, H, W) -> float images at half resolution, where letters are still legible and
    the model costs a quarter. With a generator, each image is also shifted at random (glyphs of unseen
    fonts sit a little differently in the frame), in the same resampling pass."""
    functional = torch.nn.functional
    x = x.float().div_(255)
    count, _, height, width = x.shape
    if generator is None:
        return functional.avg_pool2d(x, 2)
    shift = torch.rand(count, 2, generator=generator) * 2 - 1
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = shift[:, 0] * 2 * MAX_SHIFT / width
    theta[:, 1, 2] = shift[:, 1] * 2 * MAX_SHIFT / height
    grid = functional.affine_grid(
        theta.to(x.device), [count, 1, height // 2, width // 2], align_corners=False
    )
    return functional.grid_sample(x, grid, align_corners=False)


def _batch_size(n: int) -> int:
    """BATCH_SIZE, or smaller for small sets so that an epoch is still at least 8 steps."""
    return min(BATCH_SIZE, n, max(16, n // 8))


def _train(torch, x, y, n_classes: int, steps: int, seed: int, bar=None):
    """A fresh seeded model trained for ``steps`` mini-batches on uint8 images ``x`` (N, 1, H, W)."""
    with torch.random.fork_rng(devices=[]):  # seeded initialisation without touching the caller's RNG
        torch.manual_seed(seed)
        model = _model(torch, n_classes).to(x.device)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=PEAK_LR, momentum=0.9, nesterov=True, weight_decay=WEIGHT_DECAY
    )
    warmup = max(1, int(WARMUP * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))
    )
    batch = _batch_size(len(x))
    model.train()
    step = 0
    while step < steps:
        order = torch.randperm(len(x), generator=generator).to(x.device)
        for start in range(0, len(x) - batch + 1, batch):
            if step == steps:
                break
            index = order[start : start + batch]
            inputs = _inputs(torch, x[index], generator)
            loss = torch.nn.functional.cross_entropy(model(inputs), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if bar is not None:
                bar.update(1)
    return model


def _logits(torch, model, x) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        parts = [model(_inputs(torch, x[start : start + 1024])) for start in range(0, len(x), 1024)]
    return torch.cat(parts).double().cpu().numpy()


def _device(torch, device: str):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
        torch.empty(1, device=chosen)
    except (RuntimeError, AssertionError) as error:
        raise UsageError(f"device {device!r}: not usable here ({str(error).splitlines()[0]})") from None
    return chosen


def _plan_steps(
    torch,
    x,
    y,
    n_classes: int,
    train_sizes: list[int],
    epochs: float,
    max_steps: int,
    time_budget: float | None,
) -> int:
    """Steps per fold: ``epochs`` passes over the average training fold, kept between MIN_STEPS and
    ``max_steps``, then cut down (to no fewer than 20) when a short timed trial says they would overrun
    ``time_budget`` seconds."""
    average = float(np.mean(train_sizes))
    steps = min(max_steps, max(MIN_STEPS, math.ceil(epochs * average / _batch_size(int(average)))))
    if time_budget is None:
        return steps
    trial = x[: 8 * BATCH_SIZE], y[: 8 * BATCH_SIZE]  # full-size batches when there are enough images
    started = time.perf_counter()
    _train(torch, *trial, n_classes, 2, seed=0)
    warm = time.perf_counter()
    _train(torch, *trial, n_classes, 8, seed=0)
    per_step = max(1e-6, (time.perf_counter() - warm - (warm - started)) / 6)
    scoring = len(x) / BATCH_SIZE * per_step / 3  # one forward pass over every image
    affordable = int(
        (time_budget - (time.perf_counter() - started) - scoring) / (len(train_sizes) * per_step)
    )
    return max(20, min(steps, affordable))


def _out_of_fold(
    images, labels, groups, n_classes, folds, seed, device, time_budget, progress, epochs, max_steps
) -> tuple[np.ndarray, dict]:
    labels = _check_labels(labels, n_classes)
    images = _check_images(images, labels)
    groups = _check_groups(groups, len(labels), "groups")
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise DatasetError(f"groups: all {len(labels)} images are in one group (font family); need 2 or more")
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise UsageError(f"folds {folds!r}: need a whole number of folds, 2 or more")
    if time_budget is not None and time_budget <= 0:
        raise UsageError(f"time budget {time_budget!r}: must be a positive number of seconds")
    if epochs <= 0 or max_steps < 1:
        raise UsageError(f"epochs {epochs!r}, max_steps {max_steps!r}: both must be positive")

    import torch
    from tqdm import tqdm

    chosen = _device(torch, device)
    folds = min(folds, n_groups)
    fold_of = group_folds(groups, folds, seed)
    x = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1).to(chosen)
    y = torch.from_numpy(labels).to(chosen)
    train_sizes = [int((fold_of != fold).sum()) for fold in range(folds)]
    steps = _plan_steps(torch, x, y, n_classes, train_sizes, epochs, max_steps, time_budget)

    probabilities = np.zeros((len(labels), n_classes), dtype=np.float32)
    temperatures = []
    with tqdm(total=steps * folds, desc="noise model", unit="step", disable=not progress, leave=False) as bar:
        for fold in range(folds):
            scored = np.flatnonzero(fold_of == fold)
            training = np.flatnonzero(fold_of != fold)
            fit, held = _calibration_split(training, groups, seed + fold)
            model = _train(torch, x[fit], y[fit], n_classes, steps, seed * 1000 + fold, bar)
            temperature = (
                1.0 if held is None else fit_temperature(_logits(torch, model, x[held]), labels[held])
            )
            temperatures.append(round(temperature, 4))
            probabilities[scored] = softmax(_logits(torch, model, x[scored]), temperature)
    info = {
        "model": f"CNN {WIDTH}-{2 * WIDTH}-{4 * WIDTH} at half resolution, shift {MAX_SHIFT:g}px",
        "folds": folds,
        "grouped_by": f"{n_groups} groups",
        "steps_per_fold": steps,
        "batch_size": _batch_size(int(np.mean(train_sizes))),
        "temperatures": temperatures,
        "seed": seed,
        "time_budget": time_budget,
    }
    return probabilities, info


def _calibration_split(
    training: np.ndarray, groups: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices to fit on and (by group, about 1/10) to fit the temperature on; no held-out part when the
    training fold has too few groups to spare one."""
    if len(np.unique(groups[training])) < CALIBRATION_PARTS:
        return training, None
    part = group_folds(groups[training], CALIBRATION_PARTS, seed)
    return training[part != 0], training[part == 0]


def out_of_fold_probabilities(
    images,
    labels,
    groups,
    n_classes: int,
    folds: int = 5,
    seed: int = 0,
    device: str = "auto",
    time_budget: float | None = None,
    progress: bool = False,
    *,
    epochs: float = EPOCHS,
    max_steps: int = MAX_STEPS,
) -> np.ndarray:
    """(N, K) float32 probabilities, each image's from a model that saw no image of its group.

    A ``folds``-fold split grouped by ``groups`` (font family; fewer folds when there are fewer groups);
    one small CNN per fold (on ``device``: "auto" is the GPU when torch sees one), trained ``epochs``
    passes over its training fold but at most ``max_steps`` mini-batches of 256, and temperature-scaled
    on a tenth of its training groups held out. About 100k 28x28 images take a few minutes on 2 CPU cores.

    Same inputs and seed give the same probabilities on the same device and thread count.
    ``time_budget`` (seconds) shortens training when a short timed trial says it would overrun; the
    result then also depends on the machine's speed (the steps used are in :attr:`NoiseEstimate.model`).
    """
    return _out_of_fold(
        images, labels, groups, n_classes, folds, seed, device, time_budget, progress, epochs, max_steps
    )[0]


def estimate_label_noise(
    images,
    labels,
    groups,
    n_classes: int,
    *,
    faces=None,
    folds: int = 5,
    seed: int = 0,
    device: str = "auto",
    time_budget: float | None = None,
    progress: bool = False,
    epochs: float = EPOCHS,
    max_steps: int = MAX_STEPS,
    method: str = DEFAULT_METHOD,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
) -> NoiseEstimate:
    """Out-of-fold probabilities (:func:`out_of_fold_probabilities`), then :func:`confident_learning`
    (with ``faces``, say the manifest's face keys, the probabilities are made :func:`face_consistent`:
    recommended whenever each face contributes at most one image per class)."""
    if method not in METHODS:  # fail before minutes of training, not after
        raise UsageError(f"noise method {method!r}: must be one of {', '.join(METHODS)}")
    if faces is not None:
        _check_groups(faces, len(np.asarray(labels)), "faces")
    probabilities, info = _out_of_fold(
        images, labels, groups, n_classes, folds, seed, device, time_budget, progress, epochs, max_steps
    )
    estimate = confident_learning(
        labels,
        probabilities,
        groups,
        faces=faces,
        method=method,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    estimate.model = info
    return estimate
