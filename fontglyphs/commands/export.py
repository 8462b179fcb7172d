"""``fontglyphs export``: output/{small,large} -> output/export/ (tar.gz, .mat, HDF5, IDX, npz)."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import ExportConfig, export_splits, parse_formats, parse_splits
from .common import echo_summary, library_errors, output_option, quiet_option, show_progress


def export_options(func):
    """Options that decide what is exported, shared by ``export`` and ``build``."""
    decorators = [
        click.option(
            "--format",
            "formats",
            default="all",
            show_default=True,
            help="tar, mat, hdf5, idx, npz, all, or a comma list such as tar,hdf5.",
        ),
        click.option(
            "--split",
            "splits",
            default="all",
            show_default=True,
            help="small, large, all, or a comma list of split folders under OUTPUT.",
        ),
        click.option(
            "--mat-version",
            type=click.Choice(["auto", "5", "7.3"]),
            default="auto",
            show_default=True,
            help="MATLAB file version; auto is 5 under 2 GB of pixels, 7.3 (HDF5-based) beyond.",
        ),
        click.option("--force", is_flag=True, help="Overwrite export files that already exist."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def make_export_config(
    formats: str, splits: str, mat_version: str, force: bool, output_dir: str, quiet: bool
) -> ExportConfig:
    return ExportConfig(
        formats=parse_formats(formats),
        splits=parse_splits(splits),
        output_dir=Path(output_dir),
        force=force,
        mat_version=mat_version,
        progress=show_progress(quiet),
    )


def summary_text(written) -> str:
    lines = []
    for item in written:
        size = sum(path.stat().st_size for path in item.paths)
        lines.append(
            f"{item.split:6} {item.format:5} {item.images:>9,} images  {size / 2**20:9.1f} MiB  "
            f"{', '.join(str(path) for path in item.paths)}"
        )
    return "\n".join(lines)


@click.command()
@export_options
@output_option
@quiet_option
@library_errors
def export(formats, splits, mat_version, force, output_dir, quiet):
    """Write the splits under OUTPUT as tar.gz, .mat, HDF5, IDX and npz files in OUTPUT/export.

    Also writes OUTPUT/export/manifest.json (what each file holds, where it came from) and SHA256SUMS.
    Files are written under a temporary name and renamed when complete; existing files are kept unless
    --force is given. The layouts are documented in docs/formats.md.

    \b
    Example:
        fontglyphs export --format mat
        fontglyphs export --format tar,hdf5,idx,npz --split small
        fontglyphs export --format all --force
    """
    written = export_splits(make_export_config(formats, splits, mat_version, force, output_dir, quiet))
    echo_summary(summary_text(written), quiet)
