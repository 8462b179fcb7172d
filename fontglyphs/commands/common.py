"""Options and error handling shared by every command, written once."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from ..errors import FontGlyphsError

DEFAULT_OUTPUT = "output"


def quiet_option(func: Callable) -> Callable:
    return click.option("--quiet", "-q", is_flag=True, help="No progress bars or summaries; errors only.")(
        func
    )


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


def echo_summary(text: str, quiet: bool) -> None:
    if not quiet:
        click.echo(text)
