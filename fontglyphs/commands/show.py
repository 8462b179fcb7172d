"""``fontglyphs show``: a contact sheet of any slice of a dataset."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..errors import DatasetError
from ..manifest import MANIFEST_NAME, read_manifest
from ..report import save_png, slice_sheet
from .common import echo_summary, library_errors, output_option, quiet_option


@click.command()
@click.option(
    "--split", default="small", show_default=True, help="small, large, glyphs, or a dataset folder."
)
@click.option("--letter", default=None, help="Only this letter.")
@click.option("--font", default=None, help="Only fonts whose key, family or file name contains this.")
@click.option(
    "--flag", default=None, help="Only images the cleaner flagged so, e.g. near-duplicate (any split)."
)
@click.option(
    "--limit", type=click.IntRange(1), default=400, show_default=True, help="At most this many glyphs."
)
@click.option("--columns", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="PNG to write [default: OUTPUT/show/<slice>.png].",
)
@output_option
@quiet_option
@library_errors
def show(split, letter, font, flag, limit, columns, out_path, output_dir, quiet):
    """Draw a contact sheet of a slice: a split, a letter, a font or family, a cleaning flag.

    \b
    Example:
        fontglyphs show --split small --letter A
        fontglyphs show --flag near-duplicate
        fontglyphs show --split glyphs --font dejavu
    """
    output = Path(output_dir)
    if flag:
        # Flags live in the cleaner's full manifest, whose paths are relative to the rendered glyphs.
        manifest, root = output / "clean" / MANIFEST_NAME, output / "glyphs"
    else:
        root = output / split if (output / split).is_dir() else Path(split)
        manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        stage = "render" if split == "glyphs" and not flag else "clean"
        raise DatasetError(f"{manifest}: not found; run `fontglyphs {stage}` first")
    sheet, matched = slice_sheet(root, read_manifest(manifest), letter, font, flag, limit, columns)
    if out_path is None:
        name = "-".join(re.sub(r"[^\w.-]", "_", part) for part in (split, letter, font, flag) if part)
        out_path = output / "show" / f"{name}.png"
    save_png(sheet, out_path)
    echo_summary(f"{matched} images -> {out_path}", quiet)
