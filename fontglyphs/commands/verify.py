"""``fontglyphs verify``: re-read every export file and check it against its manifest."""

from __future__ import annotations

import click

from ..export.verify import verify_exports
from .common import DEFAULT_OUTPUT, library_errors


@click.command()
@click.argument("export_dir", default=f"{DEFAULT_OUTPUT}/export", type=click.Path(file_okay=False))
@library_errors
def verify(export_dir):
    """Re-read every file in EXPORT_DIR (default output/export) and check it.

    Checks each file against SHA256SUMS; image counts, shapes, letters, label ranges and counts per class
    against manifest.json; and every image's font key and pixel hash against the split's manifest.csv
    when the split folder is still there. Prints a table; exits 1 on any mismatch.

    \b
    Example:
        fontglyphs verify
        fontglyphs verify output/export
    """
    report = verify_exports(export_dir)
    click.echo(report.table())
    if not report.ok:
        raise SystemExit(1)
