"""`fontglyphs build` end to end on generated fonts: all stages, the card, reruns that do nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontfactory import build_font

from fontglyphs.cli import cli


@pytest.fixture(scope="module")
def fonts(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fonts")
    looks = [dict(cell=c, weight=w, slant=s) for c in (90, 100) for w in (0.6, 0.8, 1.0) for s in (0.0, 0.25)]
    for index, look in enumerate(looks):
        build_font(root / f"Family{index}.ttf", family=f"Family {index}", **look)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".journal" not in p.parts and ".build" not in p.parts
    }


def run_build(fonts: Path, out: Path, *extra: str):
    args = ["build", str(fonts), "-o", str(out), "--no-noise", "--small-fraction", "0.3", "-j", "1", *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_build_runs_every_stage_writes_the_card_and_reruns_as_a_no_op(fonts, tmp_path):
    out = tmp_path / "out"
    first = run_build(fonts, out)
    assert first.exit_code == 0, first.output
    assert "verify: 11 exports checked, all OK" in first.output
    for name in (
        "glyphs/manifest.csv",
        "small/manifest.csv",
        "large/manifest.csv",
        "clean/report.md",
        "export/SHA256SUMS",
        "export/notMNIST_small.mat",
        "README.md",
        "card/small.png",
    ):
        assert (out / name).is_file(), name
    card = (out / "README.md").read_text()
    assert "## How to load it" in card and "Family 0" in card and "fontglyphs build" in card
    before = snapshot(out)
    second = run_build(fonts, out)
    assert second.exit_code == 0
    assert re.search(r"clean [\d.]+s \(skipped\), export [\d.]+s \(skipped\)", second.output)
    assert snapshot(out) == before


def test_a_changed_option_redoes_the_stages_downstream(fonts, tmp_path):
    out = tmp_path / "out"
    assert run_build(fonts, out).exit_code == 0
    changed = run_build(fonts, out, "--near", "2")
    assert changed.exit_code == 0
    assert "(skipped)" not in changed.output


def test_tampered_export_fails_the_build(fonts, tmp_path):
    out = tmp_path / "out"
    assert run_build(fonts, out).exit_code == 0
    npz = out / "export" / "notMNIST_small.npz"
    npz.write_bytes(npz.read_bytes()[:-10] + b"0123456789")
    result = run_build(fonts, out)
    assert result.exit_code != 0
    assert "verification failed" in result.output


def test_build_needs_fonts(tmp_path):
    result = CliRunner().invoke(cli, ["build", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "give font files" in result.output
