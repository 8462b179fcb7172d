"""One baseline run end to end: load, check, hold out families, train, test once, report."""

from __future__ import annotations

import dataclasses
import platform
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..datasets import ArraySet, load_arrays
from ..errors import UsageError
from .data import check_compatible, dataset_sha256, default_run_name, split_by_family
from .reports import (
    confusion_matrix,
    per_class_accuracy,
    require_matplotlib,
    summary_text,
    top_confusions,
    write_reports,
)
from .train import (
    Evaluation,
    History,
    TrainConfig,
    distributed,
    evaluate,
    resolve_device,
    save_checkpoint,
    train,
)

REPORT_FILES = ("metrics.json", "confusion.png", "mistakes.png", "curves.png", "model.pt")


@dataclass
class BaselineResult:
    run_dir: Path
    metrics: dict
    summary: str
    is_main: bool  # False in the other processes of a torchrun launch, which write nothing


def run_baseline(
    train_source: str = "large",
    test_source: str = "small",
    config: TrainConfig | None = None,
    output_dir: str = "output",
    run_name: str | None = None,
) -> BaselineResult:
    """Train on ``train_source`` (less its held-out families), test on ``test_source``, write the reports.

    Sources are whatever :func:`fontglyphs.datasets.load_arrays` reads: a split name under ``output_dir``
    ("large", "small"), a notMNIST-layout folder or an export file. Reports go to
    ``<output_dir>/baseline/<run_name>/``; under torchrun only rank 0 writes them.
    """
    config = config or TrainConfig()
    run_name = run_name or default_run_name(config.model, str(train_source), str(test_source), config.seed)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_name):
        raise UsageError(
            f"--run {run_name!r}: use letters, digits, '.', '_' and '-' only (it names a folder)"
        )
    require_matplotlib()
    device = resolve_device(config.device)
    hyp = config.hyperparameters(device.type)
    everything = load_arrays(train_source, output_dir)
    test_set = load_arrays(test_source, output_dir)
    check_compatible(everything, test_set, str(train_source), str(test_source))
    train_index, val_index = split_by_family(everything.families, hyp["val_fraction"], config.seed)
    train_set, val_set = everything.subset(train_index), everything.subset(val_index)
    run_dir = Path(output_dir) / "baseline" / run_name

    with distributed(device) as procs:
        model, history = train(config, train_set, val_set)
        if not procs.is_main:
            return BaselineResult(run_dir, {}, "", is_main=False)
        hyp = history.hyperparameters
        test = evaluate(model, test_set.images, test_set.labels, hyp["eval_batch_size"], hyp["bf16"])
    sources = {"train": (str(train_source), everything), "test": (str(test_source), test_set)}
    metrics = build_metrics(run_name, config, history, sources, val_set, test_set, test)
    write_reports(run_dir, metrics, test_set.images, test_set.labels, test.predictions, test.confidence)
    save_checkpoint(
        run_dir / "model.pt",
        model,
        {
            "model": config.model,
            "letters": list(everything.letters),
            "image_shape": list(everything.images.shape[1:]),
            "hyperparameters": history.hyperparameters,
            "config": dataclasses.asdict(config),
            "fontglyphs_version": __version__,
        },
    )
    return BaselineResult(run_dir, metrics, summary_text(metrics, str(run_dir)), is_main=True)


def _describe(source: str, data: ArraySet) -> dict:
    return {
        "source": source,
        "images": len(data),
        "families": int(len(np.unique(data.families))),
        "image_size": list(data.images.shape[1:]),
        "skipped_files": len(data.problems),
        "sha256": dataset_sha256(data),
    }


def build_metrics(
    run_name: str,
    config: TrainConfig,
    history: History,
    sources: dict[str, tuple[str, ArraySet]],
    val_set: ArraySet,
    test_set: ArraySet,
    test: Evaluation,
) -> dict:
    """Everything metrics.json records: accuracies, confusion, timing, device, seed, versions, checksums.

    Validation figures are the last epoch's: the final model, evaluated after its last step.
    """
    import torch

    letters = list(test_set.letters)
    matrix = confusion_matrix(test_set.labels, test.predictions, len(letters))
    per_class = per_class_accuracy(matrix)
    training = history.as_dict()
    training.update(
        history=training.pop("epochs"),
        epochs_planned=history.hyperparameters["epochs"],
        time_budget=history.hyperparameters["time_budget"],
        compile=config.compile,
    )
    return {
        "run": run_name,
        "model": config.model,
        "device": history.device,
        "device_name": torch.cuda.get_device_name(history.device)
        if history.device.startswith("cuda")
        else "cpu",
        "world_size": history.world_size,
        "seed": config.seed,
        "letters": letters,
        "train": _describe(*sources["train"]),
        "validation": {
            "images": len(val_set),
            "families": int(len(np.unique(val_set.families))),
            "accuracy": history.epochs[-1].val_accuracy,
            "loss": history.epochs[-1].val_loss,
        },
        "test": {
            **_describe(*sources["test"]),
            "accuracy": test.accuracy,
            "loss": test.loss,
            "errors": int((test.predictions != test_set.labels).sum()),
            # null for a letter without test images: JSON has no NaN
            "per_class_accuracy": {
                letter: float(a) if np.isfinite(a) else None
                for letter, a in zip(letters, per_class, strict=True)
            },
            "top_confusions": top_confusions(matrix, letters),
            "confusion_matrix": matrix.tolist(),
        },
        "training": training,
        "config": dataclasses.asdict(config),
        "versions": {
            "fontglyphs": __version__,
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
