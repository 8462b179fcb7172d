"""``fontglyphs build``: every stage in one command, resumable, with a dataset card."""

from __future__ import annotations

import shlex
import sys

import click

from ..build import BuildConfig, build_dataset
from ..clean import CleanConfig
from ..export import parse_formats
from .common import (
    FontGlyphsClickError,
    library_errors,
    output_option,
    quiet_option,
    seed_option,
    show_progress,
)
from .render import make_render_config, pool_options, render_options


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@render_options
@pool_options
@click.option(
    "--small-fraction",
    type=click.FloatRange(0, 1),
    default=CleanConfig.small_fraction,
    show_default=True,
    help="Share of images (by whole families) that goes to the cleaned small split.",
)
@click.option(
    "--near",
    type=click.IntRange(0, 64),
    default=CleanConfig.near,
    show_default=True,
    help="Hamming distance (of 64 pHash bits) within which two images are near duplicates.",
)
@click.option("--no-noise", is_flag=True, help="Skip the label-noise model (faster; no noise estimate).")
@click.option(
    "--format", "formats", default="all", show_default=True, help="Export formats, as for `export`."
)
@click.option("--baseline", is_flag=True, help="Also train and test the baseline model.")
@seed_option
@output_option
@quiet_option
@library_errors
def build(
    paths,
    letters,
    fit,
    size,
    margin,
    invert,
    no_instances,
    system,
    workers,
    timeout,
    shard,
    small_fraction,
    near,
    no_noise,
    formats,
    baseline,
    seed,
    output_dir,
    quiet,
):
    """Render PATHS, clean, export every format, verify, and write OUTPUT/README.md (the dataset card).

    Stages whose inputs and options are unchanged since the last run are skipped, so re-running
    resumes an interrupted build and a change redoes only what it must.

    \b
    Example:
        fontglyphs build fonts/ --letters A-J
        fontglyphs build fonts/ --baseline
    """
    if not paths and not system:
        raise click.UsageError("give font files or folders (e.g. fonts/), or --system")
    if shard != "0/1":
        raise click.UsageError(
            "--shard belongs to `render`; merge the shards with `fontglyphs merge`, then build"
        )
    config = BuildConfig(
        render=make_render_config(letters, fit, size, margin, invert, no_instances),
        clean=CleanConfig(small_fraction=small_fraction, near=near, seed=seed, noise=not no_noise),
        formats=parse_formats(formats),
        system=system,
        workers=workers,
        timeout=timeout,
        baseline=baseline,
        command="fontglyphs " + shlex.join(sys.argv[1:]),
    )
    log = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    result = build_dataset(paths, output_dir, config, progress=show_progress(quiet), log=log)
    if not quiet:
        click.echo(result.text())
    if not result.ok:
        raise FontGlyphsClickError("verification failed; see the table above")
