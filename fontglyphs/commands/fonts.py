"""``fontglyphs fonts``: what render would see in a pile of fonts, one row per face."""

from __future__ import annotations

from collections.abc import Sequence

import click

from ..fonts import FontRow, describe_font, discover_font_files
from ..letters import DEFAULT_LETTERS, parse_letters
from .common import echo_summary, library_errors, quiet_option

HEADERS = ("FILE", "FORMAT", "FACE", "FAMILY", "STYLE", "LICENCE", "LETTERS")
MAX_WIDTH = 40  # of every column but the file and the letters


def _clip(text: str, width: int = MAX_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _letters_cell(row: FontRow) -> str:
    if row.error and not row.covered:
        return f"rejected: {row.error}"
    total = len(row.covered) + len(row.missing)
    cell = f"{len(row.covered)}/{total}"
    return cell + (f" (no {''.join(row.missing)})" if row.missing else "")


def format_table(rows: Sequence[FontRow]) -> str:
    """An aligned plain-text table, one line per row."""
    cells = [HEADERS] + [
        (row.path, row.format or "?", row.face, _clip(row.family), _clip(row.style), _clip(row.license),
         _letters_cell(row))
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in cells
    )


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--letters", default=DEFAULT_LETTERS, show_default=True,
              help="Letters to check coverage of: ranges and lists (A-Z, 0-9, A,C,E) or U+XXXX.")
@click.option("--system", is_flag=True, help="Also list the fonts in the operating system's font folders.")
@click.option("--no-instances", is_flag=True,
              help="One row per variable font (its default instance), not one per named instance.")
@quiet_option
@library_errors
def fonts(paths: tuple[str, ...], letters: str, system: bool, no_instances: bool, quiet: bool) -> None:
    """List the fonts under PATHS (files or folders): format, face, family, style, licence, and how
    many of --letters each face covers. Unusable files are listed with the reason.

    \b
    Example:
        fontglyphs fonts fonts/ --letters A-Z
    """
    if not paths and not system:
        raise click.UsageError("give font files or folders, or --system")
    wanted = parse_letters(letters)
    files = discover_font_files(paths, system)
    rows = [row for path in files for row in describe_font(path, wanted, instances=not no_instances)]
    if rows:
        click.echo(format_table(rows))
    rejected = sum(1 for row in rows if not row.face)
    echo_summary(f"{len(files)} files, {len(rows) - rejected} faces, {rejected} rejected", quiet)
