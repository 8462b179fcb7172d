"""``fontglyphs baseline``: train and evaluate the bundled PyTorch model."""

from __future__ import annotations

import os

import click

from .common import echo_summary, library_errors, output_option, quiet_option, seed_option


@click.command()
@click.option(
    "--train",
    "train_source",
    default="large",
    show_default=True,
    help="Training data: a split name under --output, a notMNIST-layout folder or an export file.",
)
@click.option(
    "--test",
    "test_source",
    default="small",
    show_default=True,
    help="Test data, evaluated once at the end (same forms as --train).",
)
@click.option(
    "--model",
    type=click.Choice(["cnn", "mlp"]),
    default="cnn",
    show_default=True,
    help="A small ResNet with batch norm, or the MLP reference.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    metavar="auto|cuda|cpu",
    help="Where to train; auto picks CUDA when present (cuda:N picks a GPU).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Passes over the training set [default: 10 on CPU, 16 on CUDA].",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop training after this many seconds (the schedule anneals to fit), then evaluate and report "
    "[default: 540 on CPU, none on CUDA; inf: none].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=2),
    default=None,
    help="Images per step over all processes [default: up to 256 on CPU, 1024 on CUDA; less for small sets].",
)
@seed_option
@output_option
@click.option(
    "--run",
    "run_name",
    default=None,
    help="Report folder name under OUTPUT/baseline [default: MODEL-TRAIN-TEST-seedSEED].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="CPU threads per process [default: all cores, split between the processes on this machine].",
)
@click.option("--compile", "compile", is_flag=True, help="torch.compile the model (pays off on GPU).")
@quiet_option
@library_errors
def baseline(train_source: str, test_source: str, output_dir: str, run_name: str | None, **options) -> None:
    """Train the baseline on TRAIN, hold out whole font families for validation, test once on TEST.

    Writes metrics.json, confusion.png, mistakes.png, curves.png and model.pt to OUTPUT/baseline/RUN/.
    Under torchrun it trains with DistributedDataParallel, one process per GPU (or CPU process with gloo).

    \b
    Example:
        fontglyphs baseline --train large --test small
        fontglyphs baseline --device cpu --time-budget 300
        torchrun --nproc_per_node 4 -m fontglyphs baseline --train large --test small
    """
    # Before torch loads OpenMP: idle threads sleep instead of spinning. On a 2-core machine shared with
    # other jobs, spinning made 2 threads 10-18x slower than 1 (measured); sleeping recovers most of it.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from ..baseline import TrainConfig, run_baseline

    config = TrainConfig(**options)  # the remaining options are named like TrainConfig's fields
    result = run_baseline(train_source, test_source, config, output_dir=output_dir, run_name=run_name)
    if result.is_main:
        echo_summary(result.summary, config.quiet)
