"""``fontglyphs clean``: output/glyphs (or any notMNIST-layout folder) -> output/{small,large,clean}."""

from __future__ import annotations

from pathlib import Path

import click

from ..clean import (
    DEFAULT_NEAR,
    HASH_NAMES,
    NOISE_EPOCHS,
    NOISE_MAX_STEPS,
    SMALL_FRACTION,
    CleanConfig,
    clean_dataset,
)
from .common import echo_summary, library_errors, output_option, quiet_option, seed_option, show_progress


@click.command()
@click.argument("source", required=False, type=click.Path(file_okay=False))
@click.option("--small-fraction", type=click.FloatRange(0, 1), default=SMALL_FRACTION,
              show_default=f"{SMALL_FRACTION:.4f} = notMNIST small / (small + large)",
              help="Share of the images that go to small.")
@click.option("--near", type=click.IntRange(0, 64), default=DEFAULT_NEAR, show_default=True,
              help="Hamming distance (of 64 hash bits) within which two images are near duplicates.")
@seed_option
@click.option("--clean-large", is_flag=True,
              help="Clean large as strictly as small (default: only exact duplicates and leaks into small "
              "leave large, as in notMNIST).")
@click.option("--no-noise", is_flag=True,
              help="Skip the label-noise model (no suspects, no symbol-font flags).")
@click.option("--folds", type=click.IntRange(2), default=5, show_default=True,
              help="Folds of the label-noise model, grouped by font family.")
@click.option("--noise-epochs", type=click.FloatRange(min=0, min_open=True), default=NOISE_EPOCHS,
              show_default=True, help="Training passes per fold (the model keeps to its own step limits).")
@click.option("--noise-max-steps", type=click.IntRange(1), default=NOISE_MAX_STEPS, show_default=True,
              help="Training steps per fold at most: bounds the model's time on big sets, deterministically.")
@click.option("--noise-budget", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds the model may take; training is cut to fit (results then depend on the machine).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where the label-noise model runs.")
@click.option("--hash", "hash_name", type=click.Choice(HASH_NAMES), default="phash", show_default=True,
              help="Perceptual hash of the near-duplicate search.")
@output_option
@quiet_option
@library_errors
def clean(source, small_fraction, near, seed, clean_large, no_noise, folds, noise_epochs, noise_max_steps,
          noise_budget, device, hash_name, output_dir, quiet):
    """Deduplicate, flag degenerate glyphs and label noise, split SOURCE into OUTPUT/small and OUTPUT/large.

    SOURCE is the render output (default OUTPUT/glyphs) or any folder in the notMNIST layout
    (SOURCE/<LETTER>/<name>.png, e.g. the original notMNIST_small). Every image keeps a row in
    OUTPUT/clean/manifest.csv saying where it went and why; OUTPUT/clean/report.md tells the story and
    OUTPUT/clean/sheets/ shows it. Decisions in OUTPUT/clean/review.csv (`fontglyphs review`) are honoured.

    \b
    Example:
        fontglyphs clean
        fontglyphs clean --small-fraction 0.04 --near 4 --seed 0
        fontglyphs clean path/to/notMNIST_small --no-noise -o out
    """
    config = CleanConfig(
        small_fraction=small_fraction, near=near, seed=seed, clean_large=clean_large, noise=not no_noise,
        noise_folds=folds, noise_epochs=noise_epochs, noise_max_steps=noise_max_steps,
        noise_budget=noise_budget, device=device, hash=hash_name,
    )
    source = Path(source) if source else Path(output_dir) / "glyphs"
    result = clean_dataset(source, output_dir, config, progress=show_progress(quiet))
    echo_summary(result.text(), quiet)
