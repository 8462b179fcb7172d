"""``fontglyphs render``: font files -> output/glyphs."""

from __future__ import annotations

from pathlib import Path

import click

from ..letters import DEFAULT_LETTERS, parse_letters
from ..raster import RenderOptions
from ..render import RenderConfig, Shard, render_fonts
from .common import echo_summary, library_errors, output_option, quiet_option, show_progress


def render_options(func):
    """Options that decide the pixels, shared by ``render`` and ``build``."""
    decorators = [
        click.option(
            "--letters",
            default=DEFAULT_LETTERS,
            show_default=True,
            help="Characters and ranges, e.g. A-J, A-Z,0-9, A,C,E, U+00C4; class index follows this order.",
        ),
        click.option(
            "--fit",
            type=click.Choice(["stretch", "contain"]),
            default="stretch",
            show_default=True,
            help="stretch: ink box fills the frame (notMNIST); contain: aspect kept, centred (MNIST).",
        ),
        click.option(
            "--size",
            type=click.IntRange(8, 1024),
            default=28,
            show_default=True,
            help="Image side in pixels.",
        ),
        click.option(
            "--margin",
            type=click.IntRange(0),
            default=4,
            show_default=True,
            help="contain: blank border around the ink box (4 gives MNIST's 20x20 box in 28x28).",
        ),
        click.option("--invert", is_flag=True, help="Dark ink on white instead of white ink on black."),
        click.option(
            "--no-instances", is_flag=True, help="Variable fonts: render the default instance only."
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def make_render_config(
    letters: str, fit: str, size: int, margin: int, invert: bool, no_instances: bool
) -> RenderConfig:
    options = RenderOptions(size=size, fit=fit, margin=margin, invert=invert)
    options.validate()
    return RenderConfig(letters=parse_letters(letters), options=options, instances=not no_instances)


def pool_options(func):
    """Options for how the work is spread, shared by ``render`` and ``build``."""
    decorators = [
        click.option("--system", is_flag=True, help="Also render the operating system's installed fonts."),
        click.option(
            "--workers",
            "-j",
            type=click.IntRange(1),
            default=None,
            help="Worker processes [default: all cores].",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=10.0,
            show_default=True,
            help="Seconds one font may take before it is rejected.",
        ),
        click.option(
            "--shard", default="0/1", show_default=True, help="Render only slice I of N (0-based), e.g. 2/8."
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@render_options
@pool_options
@output_option
@quiet_option
@library_errors
def render(
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
    output_dir,
    quiet,
):
    """Rasterize every letter of every font under PATHS into OUTPUT/glyphs.

    PATHS are font files or folders (searched recursively): TTF, OTF, TTC/OTC, WOFF, WOFF2, variable fonts
    (one face per named instance) and Type 1. A font that fails, crashes or hangs is logged in rejects.csv and
    the run goes on; re-running resumes where a killed run stopped.

    \b
    Example:
        fontglyphs render fonts/ --letters A-J
        fontglyphs render fonts/ --fit contain --letters A-Z,0-9 -j 8
    """
    if not paths and not system:
        raise click.UsageError("give font files or folders (e.g. fonts/), or --system")
    config = make_render_config(letters, fit, size, margin, invert, no_instances)
    summary = render_fonts(
        paths,
        Path(output_dir) / "glyphs",
        config,
        system=system,
        workers=workers,
        timeout=timeout,
        shard=Shard.parse(shard),
        progress=show_progress(quiet),
    )
    echo_summary(summary.text(), quiet)
