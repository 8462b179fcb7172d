"""The bundled PyTorch baseline: train on one split, test on another, report honestly.

A small ResNet with batch norm (or an MLP reference), shift/affine augmentation on the device, label
smoothing and a one-cycle schedule; the whole uint8 dataset stays on the GPU when there is one. Validation
holds out whole font families; the test split is evaluated once, at the end::

    from fontglyphs.baseline import TrainConfig, run_baseline

    result = run_baseline("large", "small", TrainConfig(model="cnn", epochs=10, seed=0))
    print(result.summary)  # reports in output/baseline/cnn-large-small-seed0/

The trainer itself is ``fontglyphs.baseline.train.train(config, train_set, val_set)``, not re-exported
so that ``fontglyphs.baseline.train`` stays the module. Importing this package imports torch; the
``fontglyphs`` package and its CLI import it only when a baseline runs.
"""

from .data import check_compatible, dataset_sha256, default_run_name, split_by_family
from .run import REPORT_FILES, BaselineResult, run_baseline
from .train import (
    HYP,
    Evaluation,
    History,
    TrainConfig,
    build_model,
    distributed,
    evaluate,
    load_checkpoint,
    save_checkpoint,
)

__all__ = [
    "HYP",
    "REPORT_FILES",
    "BaselineResult",
    "Evaluation",
    "History",
    "TrainConfig",
    "build_model",
    "check_compatible",
    "dataset_sha256",
    "default_run_name",
    "distributed",
    "evaluate",
    "load_checkpoint",
    "run_baseline",
    "save_checkpoint",
    "split_by_family",
]
