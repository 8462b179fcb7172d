"""Reports of a baseline run: numbers (metrics.json), pictures (confusion, mistakes, curves), a summary.

Pure functions build each report from arrays and dicts; ``write_*`` functions put them on disk atomically.
Plots are drawn on bare matplotlib Figures (no pyplot, so no global backend state), imported only when a
plot is drawn.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from ..manifest import atomic_write_bytes, atomic_write_text
from ..report import contact_sheet, save_png

MISTAKES_SHOWN = 200  # the most confident mistakes first: label noise and look-alike letters stand out


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(true, predicted) counts, int64."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class (NaN for a class with no test image)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def top_confusions(matrix: np.ndarray, letters: Sequence[str], count: int = 5) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted, count) errors, largest first, ties in label order."""
    off_diagonal = matrix.copy()
    np.fill_diagonal(off_diagonal, 0)
    order = np.argsort(-off_diagonal, axis=None, kind="stable")[:count]
    pairs = [np.unravel_index(i, matrix.shape) for i in order]
    return [(letters[t], letters[p], int(off_diagonal[t, p])) for t, p in pairs if off_diagonal[t, p] > 0]


def mistakes_sheet(
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    confidence: np.ndarray,
    letters: Sequence[str],
    limit: int = MISTAKES_SHOWN,
):
    """Contact sheet of misclassified images, most confident first, captioned "true->predicted p%".

    ASCII "->": the scalable default caption font has no arrow glyph.
    """
    wrong = np.flatnonzero(np.asarray(labels) != np.asarray(predictions))
    total = len(wrong)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    captions = [f"{letters[labels[i]]}->{letters[predictions[i]]} {confidence[i]:.0%}" for i in wrong]
    shown = "all" if len(wrong) == total else f"the {len(wrong)} most confident"
    title = f"{total} test mistakes ({shown}), caption: true->predicted confidence"
    return contact_sheet(images[wrong], captions, columns=20, scale=3, title=title)


def require_matplotlib() -> None:
    """Fail before training, not after it, when the plotting dependency is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("the baseline's reports need matplotlib: pip install matplotlib") from None


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(figure) -> bytes:
    # No "Software" metadata: the bytes then depend on the pixels only, like every other fontglyphs PNG.
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def confusion_png(matrix: np.ndarray, letters: Sequence[str], title: str) -> bytes:
    """Counts in every non-empty cell; off-diagonal cells coloured by the share of their true class.

    The diagonal (about 98%) would wash out a shared colour scale, so it is drawn pale green and the
    colour scale spans the errors only: a 1% confusion is as visible as the worst one.
    """
    from matplotlib import colormaps

    n = len(letters)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    errors = np.where(matrix > 0, rates, -1.0)  # -1: no error at all, drawn white ("under")
    np.fill_diagonal(errors, np.nan)  # the diagonal: drawn pale green ("bad")
    top = max(float(np.nanmax(errors)) if n > 1 else 0.0, 0.01)
    colours = colormaps["Reds"].with_extremes(bad="#d9f0d3", under="white")
    size = max(5.0, 0.5 * n + 2)
    figure = _figure(size + 1.5, size)
    axes = figure.subplots()
    image = axes.imshow(errors, cmap=colours, vmin=0.0, vmax=top)
    for t in range(n):
        for p in range(n):
            if matrix[t, p]:
                dark = t != p and errors[t, p] > 0.6 * top
                axes.text(
                    p,
                    t,
                    str(matrix[t, p]),
                    ha="center",
                    va="center",
                    fontsize=8 if n <= 12 else 6,
                    color="white" if dark else "black",
                    fontweight="bold" if t == p else "normal",
                )
    axes.set_xticks(range(n), letters)
    axes.set_yticks(range(n), letters)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=10)
    colorbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, format=lambda v, _: f"{v:.1%}")
    colorbar.set_label("share of the true class predicted as this letter")
    figure.tight_layout()
    return _png(figure)


def curves_png(epochs: Sequence[dict], title: str) -> bytes:
    """Loss and accuracy per epoch, training (augmented batches) against validation (held-out families)."""
    figure = _figure(10, 4)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    x = [e["epoch"] for e in epochs]
    loss_axes.plot(x, [e["train_loss"] for e in epochs], "o-", label="train (augmented, label-smoothed)")
    loss_axes.plot(x, [e["val_loss"] for e in epochs], "s-", label="validation")
    loss_axes.set_ylabel("cross-entropy")
    accuracy_axes.plot(x, [100 * e["train_accuracy"] for e in epochs], "o-", label="train (augmented)")
    accuracy_axes.plot(x, [100 * e["val_accuracy"] for e in epochs], "s-", label="validation")
    accuracy_axes.set_ylabel("accuracy (%)")
    for axes in (loss_axes, accuracy_axes):
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        if len(x) < 20:
            axes.set_xticks(x)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _png(figure)


def write_reports(
    run_dir: str | os.PathLike,
    metrics: dict,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    predictions: np.ndarray,
    confidence: np.ndarray,
) -> None:
    """metrics.json, confusion.png, mistakes.png and curves.png in ``run_dir`` (model.pt is the trainer's)."""
    os.makedirs(run_dir, exist_ok=True)
    letters = metrics["letters"]
    matrix = np.asarray(metrics["test"]["confusion_matrix"])
    test = metrics["test"]
    title = f"{metrics['run']}: test accuracy {test['accuracy']:.2%} on {test['images']} images"
    atomic_write_text(os.path.join(run_dir, "metrics.json"), json.dumps(metrics, indent=2) + "\n")
    atomic_write_bytes(os.path.join(run_dir, "confusion.png"), confusion_png(matrix, letters, title))
    atomic_write_bytes(
        os.path.join(run_dir, "curves.png"), curves_png(metrics["training"]["history"], metrics["run"])
    )
    sheet = mistakes_sheet(test_images, test_labels, predictions, confidence, letters)
    save_png(sheet, os.path.join(run_dir, "mistakes.png"))


def summary_text(metrics: dict, run_dir: str) -> str:
    """The one-screen summary printed at the end of a run."""
    train, val, test, training = metrics["train"], metrics["validation"], metrics["test"], metrics["training"]
    per_class = "  ".join(
        f"{letter} {'-' if acc is None else f'{100 * acc:.1f}'}"
        for letter, acc in test["per_class_accuracy"].items()
    )
    confusions = ", ".join(f"{t}->{p} {n}" for t, p, n in test["top_confusions"]) or "none"
    stopped = ", stopped by --time-budget" if training["stopped_by_budget"] else ""
    processes = f"{metrics['world_size']} processes" if metrics["world_size"] > 1 else "1 process"
    threads = f"{training['threads']} thread{'s' if training['threads'] > 1 else ''}"
    lines = [
        f"fontglyphs baseline {metrics['run']}: {metrics['model']} on {metrics['device']}"
        f" ({processes} x {threads})",
        f"  train       {train['source']}: {train['images']} images, {train['families']} families"
        f" (sha256 {train['sha256'][:12]})",
        f"              -> {train['images'] - val['images']} for training,"
        f" {val['images']} of {val['families']} held-out families for validation",
        f"  test        {test['source']}: {test['images']} images (sha256 {test['sha256'][:12]})",
        f"  training    {training['epochs_completed']:.2f} of {training['epochs_planned']} epochs{stopped}:"
        f" {training['train_seconds']:.1f} s ({training['images_per_second']:.0f} images/s),"
        f" {training['wall_seconds']:.1f} s with validation",
        f"  validation  {val['accuracy']:.2%} accuracy (loss {val['loss']:.4f})",
        f"  test        {test['accuracy']:.2%} accuracy (loss {test['loss']:.4f}, {test['errors']} errors)",
        f"  per class   {per_class}",
        f"  confusions  {confusions}",
        f"  reports     {run_dir}/: metrics.json confusion.png mistakes.png curves.png model.pt",
    ]
    return "\n".join(lines)
