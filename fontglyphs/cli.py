"""The ``fontglyphs`` command line: a thin click layer over the library API.

Each subcommand lives in ``fontglyphs/commands/<name>.py`` and is imported only when it runs, so
``fontglyphs --help`` stays fast and never imports torch or h5py.
"""

from __future__ import annotations

import importlib
import os

import click

from . import __version__

COMMANDS = {
    "render": "Rasterize fonts into 28x28 glyph PNGs (output/glyphs).",
    "fonts": "List fonts: format, family, style, licence, letters covered.",
    "clean": "Deduplicate, flag degenerate fonts, estimate label noise, split into large/small.",
    "export": "Write tar.gz, .mat, HDF5, IDX and npz files of the splits.",
    "verify": "Re-read every export file and check it against its manifest.",
    "baseline": "Train and evaluate the bundled PyTorch model (--train large --test small).",
    "build": "Run render, clean, export and verify (and optionally baseline) in one go.",
    "show": "Draw a contact sheet of any slice of a dataset.",
    "merge": "Merge the outputs of sharded renders into one glyph folder.",
    "review": "Serve a local web page to hand-check the small set.",
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "FONTGLYPHS"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported from fontglyphs.commands.<name> on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"fontglyphs.commands.{name}")
        return getattr(module, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above, so that --help does not import every command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="fontglyphs")
def cli() -> None:
    """Build notMNIST-style glyph datasets from font files.

    \b
    Example:
        fontglyphs render fonts/ --letters A-J
        fontglyphs clean
        fontglyphs export --format all
        fontglyphs baseline --train large --test small
    """


def main() -> None:
    # numpy's OpenBLAS starts a thread per core on import, which spins for a while: 0.1-0.3 CPU-seconds of
    # every command on a 2-core machine, a quarter of `fontglyphs render fonts/`. fontglyphs does no linear
    # algebra in numpy big enough for threads to help (torch has threads of its own), so a command runs
    # OpenBLAS single-threaded unless the user said otherwise. Set before a command imports numpy.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    cli()
