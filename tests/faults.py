"""Task functions that misbehave on purpose, importable by spawned worker processes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def square_or_fail(x: int) -> int:
    """3 segfaults its worker, 5 hangs, 7 raises, 9 exits; others return x * x."""
    if x == 3:
        os.kill(os.getpid(), signal.SIGSEGV)
    if x == 5:
        time.sleep(60)
    if x == 7:
        raise RuntimeError("seven is unlucky")
    if x == 9:
        os._exit(3)
    return x * x


def render_or_fail(task) -> dict:
    """Render normally, except fonts whose file name says crash, hang or boom."""
    name = Path(task.font_path).name
    if "crash" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "hang" in name:
        time.sleep(60)
    if "boom" in name:
        raise RuntimeError("simulated rasterizer failure")
    from fontglyphs.render import render_font_task

    return render_font_task(task)


def render_slowly(task) -> dict:
    """Render normally but slowly, so that a test can kill the run half-way."""
    time.sleep(0.3)
    from fontglyphs.render import render_font_task

    return render_font_task(task)
