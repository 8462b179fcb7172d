"""``fontglyphs verify``: passes on a fresh export; fails on a tampered one, naming file and problem."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_export import make_split

from fontglyphs.cli import cli
from fontglyphs.export import ExportConfig, export_splits
from fontglyphs.export.verify import verify_exports


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("verify") / "output"
    make_split(output, "small", 2, seed=3)
    make_split(output, "large", 3, seed=4)
    export_splits(ExportConfig(output_dir=output))
    return output


@pytest.fixture
def output(pristine, tmp_path) -> Path:
    """A private copy to tamper with."""
    return Path(shutil.copytree(pristine, tmp_path / "output"))


def run_verify(export_dir: Path):
    return CliRunner().invoke(cli, ["verify", str(export_dir)], catch_exceptions=False)


def test_fresh_export_verifies(output):
    result = run_verify(output / "export")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["file", "split", "format", "images", "sha256", "content", "pixels", "result"]
    rows = [line.split() for line in lines[1:-1]]
    assert len(rows) == 11 and all(row[-1] == "OK" for row in rows)
    assert ["notMNIST_small.mat", "small", "mat", "20", "ok", "ok", "ok", "OK"] in rows
    assert lines[-1].endswith("11 checked, all exports verified")


def test_changed_bytes_fail_the_checksum(output):
    path = output / "export" / "notMNIST_large.tar.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    result = run_verify(output / "export")
    assert result.exit_code == 1
    assert "FAIL notMNIST_large.tar.gz: SHA-256 differs from SHA256SUMS" in result.output
    assert (
        "FAIL notMNIST_large.tar.gz: " in result.output.split("SHA256SUMS (file changed after export)", 1)[1]
    )


def test_a_valid_file_with_one_changed_pixel_names_the_image(output):
    path = output / "export" / "notMNIST_small.npz"
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["images"][7, 3, 4] ^= 1
    np.savez_compressed(path, **arrays)
    result = run_verify(output / "export")
    assert result.exit_code == 1
    assert "FAIL notMNIST_small.npz: SHA-256 differs" in result.output
    problem = "1 of 20 images differ from the manifest in pixels (pixel_sha256): #7 D/small-font001.png"
    assert f"FAIL notMNIST_small.npz: {problem}" in result.output


def test_labels_out_of_range_in_idx(output):
    labels = output / "export" / "small-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(b"\0\0\x08\x01" + (20).to_bytes(4, "big") + bytes([12] * 20)))
    report = verify_exports(output / "export")
    problems = {c.name: c.problems for c in report.checks}["small-images-idx3-ubyte.gz"]
    assert (
        "small-labels-idx1-ubyte.gz: SHA-256 differs from SHA256SUMS (file changed after export)" in problems
    )
    assert "labels outside 0-9 (first: image 0)" in problems
    assert not report.ok


def test_missing_and_unrecorded_files(output):
    (output / "export" / "notMNIST_small.h5").unlink()
    (output / "export" / "notMNIST_extra.npz").write_bytes(b"")
    result = run_verify(output / "export")
    assert result.exit_code == 1
    assert "FAIL notMNIST_small.h5: file is missing" in result.output
    assert "FAIL notMNIST_extra.npz: not recorded in manifest.json (stale or foreign file)" in result.output


def test_a_changed_split_makes_the_export_stale(output):
    manifest = output / "small" / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("Family 0", "Family Zero"))
    result = run_verify(output / "export")
    assert result.exit_code == 1
    assert "manifest.csv changed since this export (stale export: run export --force)" in result.output


def test_unreadable_file_is_reported_not_raised(output):
    (output / "export" / "notMNIST_large.h5").write_bytes(b"not hdf5 at all")
    report = verify_exports(output / "export")
    check = next(c for c in report.checks if c.name == "notMNIST_large.h5")
    assert check.content == "BAD" and any("not a readable HDF5 file" in p for p in check.problems)


def test_without_the_split_folder_pixels_are_not_applicable(output):
    shutil.rmtree(output / "small")
    result = run_verify(output / "export")
    assert result.exit_code == 0, result.output
    assert "n/a (no " in result.output


def test_no_export_is_a_usage_error(tmp_path):
    result = run_verify(tmp_path)
    assert result.exit_code == 2
    assert "no manifest.json, so no fontglyphs export to verify; run `fontglyphs export`" in result.output
