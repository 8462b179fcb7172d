"""``fontglyphs review``: serve the hand-check page for a split on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import getpass

import click

from ..review.session import DEFAULT_PAGE_SIZE, GROUPINGS
from .common import library_errors, output_option


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. an anonymous user id in a container
        return ""


@click.command()
@output_option
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (0: any free port)."
)
@click.option("--split", type=click.Choice(["small", "large"]), default="small", show_default=True)
@click.option("--reviewer", help="Name written with each decision  [default: your login name]")
@click.option("--by", type=click.Choice(GROUPINGS), default="font", show_default=True, help="Group tiles by.")
@click.option("--page-size", type=click.IntRange(1, 2000), default=DEFAULT_PAGE_SIZE, show_default=True)
@library_errors
def review(output_dir: str, port: int, split: str, reviewer: str | None, by: str, page_size: int) -> None:
    """Serve a local web page to hand-check a split, suspects first.

    Decisions are saved at once to OUTPUT/clean/review.csv, and the next `fontglyphs clean` applies them.
    The page opens nowhere by itself: open the printed URL. Keys: arrows/hjkl move, a accept,
    w wrong letter, n not a letter, d duplicate, r relabel, Shift+A accept the rest of the page,
    Space next page.

    \b
    Example:
        fontglyphs review --by letter --reviewer ana
    """
    from ..review.server import make_server

    reviewer = _login_name() if reviewer is None else reviewer
    server = make_server(output_dir, port=port, split=split, reviewer=reviewer, by=by, page_size=page_size)
    session = server.session
    click.echo(
        f"Reviewing {len(session.shown):,} {split} glyphs ({session.decided_count():,} already decided) "
        f"in {len(session.pages)} pages at {server.url}  (Ctrl-C stops)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo(f"Stopped; decisions are in {session.review_path}")
    finally:
        server.server_close()
