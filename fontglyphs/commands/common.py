"""Options and error handling shared by every command, written once."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from ..errors import FontGlyphsError

DEFAULT_OUTPUT = "output"


def quiet_option(func: Callable) -> Callable:
    help_text = "No progress bars (shown on a terminal only) or summaries; errors only."
    return click.option("--quiet", "-q", is_flag=True, help=help_text)(func)


def output_option(func: Callable) -> Callable:
    return click.option(
        "--output",
        "-o",
        "output_dir",
        type=click.Path(file_okay=False),
        default=DEFAULT_OUTPUT,
        show_default=True,
        help="Root folder of everything fontglyphs writes.",
    )(func)


def seed_option(func: Callable) -> Callable:
    return click.option(
        "--seed", type=int, default=0, show_default=True, help="Seed of every random choice."
    )(func)


class FontGlyphsClickError(click.ClickException):
    """A library error shown as one line; exit code 2 like click's own usage errors."""

    exit_code = 2


def library_errors(func: Callable) -> Callable:
    """Turn FontGlyphsError from the library into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except FontGlyphsError as error:
            raise FontGlyphsClickError(str(error)) from None

    return wrapper


def show_progress(quiet: bool) -> bool:
    """Progress bars are for a person watching a terminal: none with --quiet, and none when standard error
    goes to a file or a pipe, where every redraw would become a line of the log: one `fontglyphs build fonts/`
    logged 579 redraws (43 KB), 495 of them the noise model's bar. Summaries are printed either way."""
    return not quiet and sys.stderr.isatty()


def echo_summary(text: str, quiet: bool) -> None:
    if not quiet:
        click.echo(text)
