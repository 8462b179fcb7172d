"""``fontglyphs merge``: the outputs of sharded renders -> one glyph folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..render import merge_shards
from .common import echo_summary, library_errors, output_option, quiet_option


@click.command()
@click.argument("shard_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@output_option
@quiet_option
@library_errors
def merge(shard_dirs, output_dir, quiet):
    """Merge SHARD_DIRS (outputs of `render --shard i/N`) into OUTPUT/glyphs.

    The result is byte-identical to what one unsharded render writes.

    \b
    Example (a job array of 3, then one merge):
        fontglyphs render fonts/ --shard 0/3 -o shard0     # on machine 0, likewise 1/3, 2/3
        fontglyphs merge shard0/glyphs shard1/glyphs shard2/glyphs
    """
    summary = merge_shards(shard_dirs, Path(output_dir) / "glyphs")
    echo_summary(summary.text(), quiet)
