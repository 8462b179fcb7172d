"""The render stage end to end on generated fonts: formats, rejects, determinism, resume, shards, CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from faults import render_or_fail
from fontfactory import build_collection, build_font, build_variable_font, write_garbage
from PIL import Image

from fontglyphs.cli import cli, main
from fontglyphs.commands.common import show_progress
from fontglyphs.fonts import file_sha256
from fontglyphs.manifest import manifest_csv, read_manifest, read_rejects
from fontglyphs.render import (
    JOURNAL_DIR,
    Journal,
    RenderConfig,
    Shard,
    _deduplicate,
    _file_states,
    render_fonts,
)

LETTERS = tuple("ABCDEFGHIJ")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fonts")
    build_font(root / "sans" / "Plain.ttf", family="Plain Sans")
    build_font(root / "sans" / "Slanted.otf", family="Slanted", slant=0.2, cff=True)
    build_font(root / "web" / "Web.woff2", family="Web Font", weight=0.7, flavor="woff2")
    build_font(root / "web" / "Web.woff", family="Web Woff", cell=80, flavor="woff")
    a = build_font(root / "tmp" / "CollA.ttf", family="Coll A", weight=0.8)
    b = build_font(root / "tmp" / "CollB.ttf", family="Coll B", slant=-0.15)
    build_collection(root / "coll" / "Pair.ttc", [a, b])
    shutil.rmtree(root / "tmp")
    build_variable_font(root / "var" / "Var.ttf")
    build_font(root / "partial" / "Missing.ttf", letters="ABCDE", family="Missing")
    build_font(root / "partial" / "Blanks.ttf", blank="CD", family="Blanks")
    shutil.copy(root / "sans" / "Plain.ttf", root / "sans" / "PlainCopy.ttf")
    write_garbage(root / "bad" / "empty.ttf", "empty")
    write_garbage(root / "bad" / "random.otf", "random")
    write_garbage(root / "bad" / "truncated.ttf", "truncated")
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file of an output folder except the resume bookkeeping."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and JOURNAL_DIR not in p.parts
    }


@pytest.fixture(scope="module")
def rendered(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "glyphs"
    summary = render_fonts([corpus], out, RenderConfig(LETTERS), workers=2, progress=False)
    return out, summary


def test_every_format_renders_and_rows_match_files(rendered):
    out, summary = rendered
    records = read_manifest(out / "manifest.csv")
    families = {r.family for r in records}
    assert {
        "Plain Sans",
        "Slanted",
        "Web Font",
        "Web Woff",
        "Coll A",
        "Coll B",
        "Fixture Variable",
    } <= families
    variable = {r.instance for r in records if r.family == "Fixture Variable"}
    assert variable == {"Thin", "Regular", "Black"}
    assert summary.images == len(records) == len(list(out.glob("*/*.png")))
    for record in records:
        image = Image.open(out / record.path)
        assert image.mode == "L" and image.size == (28, 28)
        assert record.label == LETTERS.index(record.letter)
        assert record.path == f"{record.letter}/{record.key}.png"
        assert record.pixel_sha256 == hashlib.sha256(np.asarray(image).tobytes()).hexdigest()


def test_identical_files_render_once(rendered):
    out, _ = rendered
    records = read_manifest(out / "manifest.csv")
    assert not [r for r in records if r.font_path.endswith("PlainCopy.ttf")]
    rejects = read_rejects(out / "rejects.csv")
    assert any(
        r.font_path.endswith("PlainCopy.ttf") and "duplicate file (same bytes as" in r.reason for r in rejects
    )



def test_only_files_sharing_size_and_first_bytes_are_hashed_up_front(tmp_path):
    head = bytes(range(256)) * 16  # 4 KiB
    contents = {
        "alone.bin": b"x" * 5000,
        "size_a.bin": b"a" * 6000,  # the same size as size_b, other first bytes: no copy of it
        "size_b.bin": b"b" * 6000,
        "head_1.bin": head + b"1" * 100,  # the same size and first 4 KiB, different after: hashed, kept
        "head_2.bin": head + b"2" * 100,
        "copy_of_head_1.bin": head + b"1" * 100,
    }
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    files = [(str(tmp_path / name), os.stat(tmp_path / name)) for name in sorted(contents)]
    states, rejects = _file_states(files, Shard(), progress=False)
    hashed = {Path(path).name: state.sha256 for path, state in states.items() if state.sha256}
    assert hashed == {
        name: hashlib.sha256(contents[name]).hexdigest()
        for name in ("head_1.bin", "head_2.bin", "copy_of_head_1.bin")
    }
    unique, duplicates = _deduplicate(states)
    assert [Path(r.font_path).name for r in duplicates] == ["head_1.bin"]  # sorted: the copy comes first
    assert not rejects and len(unique) == len(contents) - 1
    # A shard needs every file's hash: shards are cut by content.
    sharded, _ = _file_states(files, Shard(0, 2), progress=False)
    assert all(state.sha256 for state in sharded.values())

def test_bad_fonts_and_missing_letters_are_rejected_with_reasons(rendered):
    out, _ = rendered
    rejects = {(Path(r.font_path).name, r.letter): r.reason for r in read_rejects(out / "rejects.csv")}
    for name in ("empty.ttf", "random.otf", "truncated.ttf"):
        assert (name, "*") in rejects
    assert rejects[("empty.ttf", "*")] == "empty file"
    assert all(("Missing.ttf", c) in rejects for c in "FGHIJ")
    assert "blank" in rejects[("Blanks.ttf", "C")]
    records = read_manifest(out / "manifest.csv")
    assert sorted(r.letter for r in records if r.family == "Blanks") == list("ABEFGHIJ")


def test_output_is_byte_identical_for_any_worker_count(corpus, rendered, tmp_path):
    out, _ = rendered
    single = tmp_path / "glyphs"
    render_fonts([corpus], single, RenderConfig(LETTERS), workers=1, progress=False)
    assert tree_bytes(single) == tree_bytes(out)


def test_rerun_resumes_and_repairs_an_interrupted_run(corpus, rendered, tmp_path):
    out, _ = rendered
    copy = tmp_path / "glyphs"
    shutil.copytree(out, copy)
    again = render_fonts([corpus], copy, RenderConfig(LETTERS), workers=2, progress=False)
    assert again.fonts_resumed == again.fonts_rendered + len(
        {r.font_path for r in again.rejects if r.letter == "*" and "duplicate file" not in r.reason}
    )
    # Simulate a crash mid-run: half the fonts not yet in the journal and its last line torn, one of their
    # PNGs different (as if an earlier run with other fonts had left it), a temporary left behind, no
    # manifest yet.
    journal = Journal(copy, RenderConfig(LETTERS).fingerprint())
    records = read_manifest(copy / "manifest.csv")
    lost = {r.font_path for r in records[::2]}
    journal.compact([font for font in journal.entries if font not in lost])
    with open(journal.path, "a") as torn:
        torn.write('["half a line')
    (copy / records[0].path).write_bytes(b"stale")
    (copy / "B" / ".x.png.123.tmp").write_bytes(b"partial")
    (copy / "manifest.csv").unlink()
    render_fonts([corpus], copy, RenderConfig(LETTERS), workers=2, progress=False)
    assert tree_bytes(copy) == tree_bytes(out)


def test_sigkill_mid_run_then_rerun_gives_identical_output(corpus, rendered, tmp_path):
    out, _ = rendered
    target = tmp_path / "glyphs"
    script = (
        "import sys; sys.path.insert(0, sys.argv[3]);"
        "from faults import render_slowly; from fontglyphs.render import RenderConfig, render_fonts;"
        "render_fonts([sys.argv[1]], sys.argv[2], RenderConfig(tuple('ABCDEFGHIJ')), workers=2,"
        " progress=False, task_function=render_slowly)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(corpus), str(target), str(Path(__file__).parent)],
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    journal = target / JOURNAL_DIR / "fonts.jsonl"
    while (not journal.is_file() or journal.read_bytes().count(b"\n") < 4) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (target / "manifest.csv").exists()
    render_fonts([corpus], target, RenderConfig(LETTERS), workers=2, progress=False)
    assert tree_bytes(target) == tree_bytes(out)


def test_crashing_hanging_and_raising_fonts_cost_only_themselves(corpus, tmp_path):
    fonts = tmp_path / "fonts"
    shutil.copytree(corpus / "sans", fonts)
    build_font(fonts / "crash.ttf", family="Crash", weight=0.6)
    build_font(fonts / "hang.ttf", family="Hang", weight=0.5)
    build_font(fonts / "boom.ttf", family="Boom", weight=0.4)
    summary = render_fonts(
        [fonts],
        tmp_path / "glyphs",
        RenderConfig(LETTERS),
        workers=2,
        timeout=3,
        progress=False,
        task_function=render_or_fail,
    )
    reasons = {Path(r.font_path).name: r.reason for r in summary.rejects if r.letter == "*"}
    assert "SIGSEGV" in reasons["crash.ttf"]
    assert reasons["hang.ttf"] == "timed out after 3 s"
    assert "simulated rasterizer failure" in reasons["boom.ttf"]
    assert {r.family for r in read_manifest(tmp_path / "glyphs" / "manifest.csv")} == {
        "Plain Sans",
        "Slanted",
    }


def test_shards_partition_the_corpus(corpus, rendered, tmp_path):
    out, _ = rendered
    full = read_manifest(out / "manifest.csv")
    pieces = []
    for index in range(3):
        render_fonts(
            [corpus],
            tmp_path / str(index),
            RenderConfig(LETTERS),
            workers=1,
            progress=False,
            shard=Shard(index, 3),
        )
        pieces.append(read_manifest(tmp_path / str(index) / "manifest.csv"))
    assert sorted(r.path for piece in pieces for r in piece) == sorted(r.path for r in full)
    for index, piece in enumerate(pieces):
        for record in piece:
            assert (tmp_path / str(index) / record.path).read_bytes() == (out / record.path).read_bytes()


def test_changed_options_rerender_and_remove_stale_images(corpus, tmp_path):
    out = tmp_path / "glyphs"
    render_fonts([corpus / "sans"], out, RenderConfig(LETTERS), workers=1, progress=False)
    stretched = np.asarray(Image.open(next(out.glob("I/*.png"))))
    render_fonts([corpus / "sans"], out, RenderConfig(("I",), options=_contain()), workers=1, progress=False)
    assert {p.parent.name for p in out.glob("*/*.png")} == {"I"}
    contained = np.asarray(Image.open(next(out.glob("I/*.png"))))
    assert not np.array_equal(stretched, contained)


def _contain():
    from fontglyphs.raster import RenderOptions

    return RenderOptions(fit="contain")


def test_cli_renders_and_summarises(corpus, tmp_path):
    result = CliRunner().invoke(
        cli, ["render", str(corpus / "sans"), "-o", str(tmp_path), "-j", "1"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "images: 20 from 2 faces" in result.output
    assert len(list((tmp_path / "glyphs").glob("*/*.png"))) == 20
    quiet = CliRunner().invoke(cli, ["render", str(corpus / "sans"), "-o", str(tmp_path), "-q"])
    assert quiet.exit_code == 0 and quiet.output == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--letters", "A,,B"], "empty item"),
        (["--letters", "A-C,B"], "more than once"),
        (["--shard", "3/3"], "need 0 <= I < N"),
        (["--shard", "x"], "expected I/N"),
        (["--fit", "squash"], "squash"),
        (["--size", "0"], "--size"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_cli_bad_flags_are_one_line_errors_with_exit_code_2(corpus, tmp_path, args, message):
    result = CliRunner().invoke(cli, ["render", str(corpus / "sans"), "-o", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("4", "4")])
def test_cli_runs_openblas_single_threaded_unless_told_otherwise(monkeypatch, given, expected):
    environment = {} if given is None else {"OPENBLAS_NUM_THREADS": given}
    monkeypatch.setattr(os, "environ", environment)
    monkeypatch.setattr(sys, "argv", ["fontglyphs", "--version"])
    with pytest.raises(SystemExit):
        main()
    assert environment == {"OPENBLAS_NUM_THREADS": expected}


@pytest.mark.parametrize(
    ("quiet", "terminal", "shown"), [(False, True, True), (False, False, False), (True, True, False)]
)
def test_progress_bars_only_for_a_terminal_and_never_with_quiet(monkeypatch, quiet, terminal, shown):
    class Stderr:
        def isatty(self) -> bool:
            return terminal

    monkeypatch.setattr(sys, "stderr", Stderr())
    assert show_progress(quiet) is shown


def test_cli_needs_paths(tmp_path):
    result = CliRunner().invoke(cli, ["render", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "give font files" in result.output


def test_merge_of_three_shards_equals_the_single_run(corpus, rendered, tmp_path):
    out, _ = rendered
    for index in range(3):
        result = CliRunner().invoke(
            cli,
            [
                "render",
                str(corpus),
                "--shard",
                f"{index}/3",
                "-o",
                str(tmp_path / f"s{index}"),
                "-q",
                "-j",
                "1",
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    shards = [str(tmp_path / f"s{index}" / "glyphs") for index in range(3)]
    result = CliRunner().invoke(
        cli, ["merge", *shards, "-o", str(tmp_path / "merged"), "-q"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert tree_bytes(tmp_path / "merged" / "glyphs") == tree_bytes(out)
    again = render_fonts([corpus], tmp_path / "merged" / "glyphs", RenderConfig(LETTERS), progress=False)
    journal = (tmp_path / "merged" / "glyphs" / JOURNAL_DIR / "fonts.jsonl").read_bytes()
    assert again.fonts_resumed == journal.count(b"\n") > 0
    assert tree_bytes(tmp_path / "merged" / "glyphs") == tree_bytes(out)


def test_show_draws_a_contact_sheet_of_a_slice(rendered, tmp_path):
    out, _ = rendered
    sheet = tmp_path / "sheet.png"
    result = CliRunner().invoke(
        cli,
        ["show", "--split", str(out), "--letter", "A", "--font", "plain", "--out", str(sheet)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 images") and Image.open(sheet).mode == "RGB"
    missing = CliRunner().invoke(cli, ["show", "--split", str(out), "--letter", "Z"])
    assert missing.exit_code == 2 and "no images match" in missing.output


def test_manifest_is_what_write_manifest_writes_of_its_records(tmp_path):
    # Names and letters that CSV must quote: the manifest is put together from pre-quoted pieces.
    shapes = {",": "B", '"': "C", "é": "D"}  # the fixture fonts draw letters only
    odd = 'Odd, "Quoted" Sans'
    build_font(tmp_path / "fonts" / "Odd.ttf", 'A,"é', family=odd, style="It, alic", outlines=shapes)
    build_font(tmp_path / "fonts" / "Plain.ttf", "A,", family="Plain", outlines=shapes)
    odd_file = tmp_path / "fonts" / "New\nline.ttf"  # a file name whose only character to quote is a newline
    build_font(odd_file, "A", family="Odd File", outlines=shapes)
    out = tmp_path / "glyphs"
    render_fonts([tmp_path / "fonts"], out, RenderConfig(tuple('A,"é')), workers=1, progress=False)
    written = (out / "manifest.csv").read_text(encoding="utf-8")
    records = read_manifest(out / "manifest.csv")
    assert written == manifest_csv(records)
    assert {r.family for r in records} == {odd, "Plain", "Odd File"}
    assert [r.font_path for r in records if r.family == "Odd File"] == [str(odd_file)]
    quoted = sorted((r.letter, r.family) for r in records if r.letter in ',"')
    assert quoted == [('"', odd), (",", odd), (",", "Plain")]


def test_rerun_renders_again_only_the_fonts_whose_size_or_time_changed(tmp_path):
    fonts = tmp_path / "fonts"
    for name, weight in (("One", 1.0), ("Two", 0.8), ("Three", 0.6)):
        build_font(fonts / f"{name}.ttf", family=name, weight=weight)
    out = tmp_path / "glyphs"
    first = render_fonts([fonts], out, RenderConfig(LETTERS), workers=1, progress=False)
    records = read_manifest(out / "manifest.csv")
    # The workers hashed the fonts (each size is unique): the manifest still has every file's sha256.
    assert {r.font_path: r.font_sha256 for r in records} == {
        str(path): file_sha256(path) for path in fonts.glob("*.ttf")
    }
    assert first.fonts_resumed == 0
    os.utime(fonts / "Two.ttf", ns=(1, 1))  # touched: its time changed, its bytes did not
    build_font(fonts / "Three.ttf", family="Three", weight=0.5)  # new bytes
    again = render_fonts([fonts], out, RenderConfig(LETTERS), workers=1, progress=False)
    assert again.fonts_resumed == 1 and again.fonts_rendered == 3
    changed = read_manifest(out / "manifest.csv")
    assert {r.font_sha256 for r in changed if r.family == "Three"} == {file_sha256(fonts / "Three.ttf")}
    assert [r for r in changed if r.family != "Three"] == [r for r in records if r.family != "Three"]


def test_a_broken_symlink_is_rejected_and_the_run_goes_on(tmp_path):
    fonts = tmp_path / "fonts"
    build_font(fonts / "Good.ttf")
    (fonts / "Gone.ttf").symlink_to(fonts / "missing.ttf")
    summary = render_fonts([fonts], tmp_path / "glyphs", RenderConfig(LETTERS), workers=1, progress=False)
    assert summary.images == len(LETTERS)
    [reject] = [r for r in summary.rejects if r.font_path.endswith("Gone.ttf")]
    assert reject.letter == "*" and reject.reason == "unreadable file (No such file or directory)"
