"""Export formats: every file is written, then read back by its real reader (tarfile, scipy, h5py,
h5dump, idx2numpy, numpy) and by fontglyphs' own readers, and compared with the split folder.

torchvision's MNIST reader is not tested here: torchvision is not installable beside this project's
torch build; ``idx2numpy`` and a byte-level check of the MNIST header stand in for it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import struct
import subprocess
import tarfile
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner
from glyphfiles import write_glyph

from fontglyphs import __version__
from fontglyphs.cli import cli
from fontglyphs.datasets import load_arrays, read_png_folder
from fontglyphs.errors import DatasetError, ExportFormatError, UsageError
from fontglyphs.export import ExportConfig, export_splits, format_of, parse_formats, parse_splits
from fontglyphs.export import mat as matmod
from fontglyphs.manifest import write_manifest

LETTERS = "ABCDEFGHIJ"


def make_split(output: Path, split: str, fonts: int, *, seed: int = 0, manifest: bool = True) -> Path:
    """A split folder as the clean stage writes it: random 28x28 images, one per font and letter.

    Random pixels make every orientation mistake (a transposed image, a swapped axis) visible.
    One family name is non-ASCII, to carry UTF-8 through every format.
    """
    rng = np.random.default_rng(seed)
    root = output / split
    records = []
    for font in range(fonts):
        key = f"{split}-font{font:03d}"
        family = "Fämily Ünicode" if font == 1 else f"Family {font}"
        for label, letter in enumerate(LETTERS):
            image = rng.integers(0, 256, (28, 28), dtype=np.uint8)
            records.append(write_glyph(root, letter, label, key, family, image, split=split))
    if manifest:
        write_manifest(root / "manifest.csv", records)
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """output/{small,large} and every format of both exported into output/export."""
    output = tmp_path_factory.mktemp("exp") / "output"
    make_split(output, "small", 3, seed=1)
    make_split(output, "large", 5, seed=2)
    export_splits(ExportConfig(output_dir=output))
    return output


def gzip_header_is_reproducible(path: Path) -> bool:
    """RFC 1952: bytes 4-7 are MTIME, bit 3 of FLG says a file name follows."""
    header = path.read_bytes()[:10]
    return header[:2] == b"\x1f\x8b" and header[4:8] == bytes(4) and not header[3] & 0x08


# --- every format through load_arrays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "notMNIST_small.tar.gz",
        "notMNIST_small.mat",
        "notMNIST_small.h5",
        "small-images-idx3-ubyte.gz",
        "small-labels-idx1-ubyte.gz",
        "notMNIST_small.npz",
    ],
)
def test_every_export_loads_back_equal_to_the_split(exported, name):
    reference = read_png_folder(exported / "small")
    loaded = load_arrays(exported / "export" / name)
    assert loaded.images.dtype == np.uint8 and loaded.images.shape == (30, 28, 28)
    assert np.array_equal(loaded.images, reference.images)
    assert np.array_equal(loaded.labels, reference.labels)
    assert loaded.letters == tuple(LETTERS)
    if "idx" not in name:  # IDX has no room for keys
        assert list(loaded.keys) == list(reference.keys)
        assert list(loaded.families) == list(reference.families)
        assert "Fämily Ünicode" in set(loaded.families)


# --- tar.gz ------------------------------------------------------------------------------------------------


def test_tar_has_the_notmnist_layout_with_fixed_metadata(exported):
    path = exported / "export" / "notMNIST_large.tar.gz"
    assert gzip_header_is_reproducible(path)
    with tarfile.open(path, "r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        # the manifest leads, so that readers can decode in one streaming pass; then sorted by name
        assert names[:4] == [
            "notMNIST_large",
            "notMNIST_large/manifest.csv",
            "notMNIST_large/A",
            "notMNIST_large/A/large-font000.png",
        ]
        rest = names[2:]
        assert rest == sorted(rest, key=lambda n: n + "/" if tar.getmember(n).isdir() else n)
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        assert {m.mode for m in members if m.isfile()} == {0o644}
        assert {m.mode for m in members if m.isdir()} == {0o755}
        png = tar.extractfile("notMNIST_large/C/large-font004.png").read()
    assert png == (exported / "large" / "C" / "large-font004.png").read_bytes()


def test_extracted_tar_is_a_split_folder(exported, tmp_path):
    with tarfile.open(exported / "export" / "notMNIST_small.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    extracted = read_png_folder(tmp_path / "notMNIST_small")
    assert np.array_equal(extracted.images, read_png_folder(exported / "small").images)


# --- .mat --------------------------------------------------------------------------------------------------


def test_mat_v5_through_scipy_is_matlab_column_major(exported):
    path = exported / "export" / "notMNIST_small.mat"
    reference = read_png_folder(exported / "small")
    assert scipy.io.matlab.matfile_version(str(path)) == (1, 0)
    assert path.read_bytes()[:19] == b"MATLAB 5.0 MAT-file"
    mat = scipy.io.loadmat(path)
    assert mat["images"].shape == (28, 28, 30) and mat["images"].dtype == np.uint8
    for k in (0, 17, 29):  # images(:, :, k) is image k, rows as drawn
        assert np.array_equal(mat["images"][:, :, k], reference.images[k])
    assert mat["labels"].shape == (30, 1) and mat["labels"].dtype == np.uint8
    assert mat["labels"].ravel().tolist() == reference.labels.tolist()
    assert str(mat["letters"][0]) == LETTERS
    assert [k.rstrip() for k in mat["keys"]] == list(reference.keys)
    assert "Fämily Ünicode" in {f.rstrip() for f in mat["families"]}


def test_mat_v73_is_hdf5_behind_a_matlab_header(exported, tmp_path):
    output = exported.parent / "v73" / "output"
    shutil.copytree(exported / "small", output / "small")
    export_splits(ExportConfig(formats=("mat",), splits=("small",), output_dir=output, mat_version="7.3"))
    path = output / "export" / "notMNIST_small.mat"
    header = path.read_bytes()[:512]
    assert header.startswith(b"MATLAB 7.3 MAT-file") and header[124:128] == b"\x00\x02IM"
    assert scipy.io.matlab.matfile_version(str(path)) == (2, 0)
    reference = read_png_folder(output / "small")
    with h5py.File(path, "r") as h5:
        images = h5["images"]
        assert images.shape == (30, 28, 28) and images.attrs["MATLAB_class"] == b"uint8"
        assert np.array_equal(images[5], reference.images[5].T)  # HDF5 holds MATLAB's column-major data
        assert h5["labels"].shape == (1, 30) and h5["labels"][0].tolist() == reference.labels.tolist()
        assert h5["keys"].attrs["MATLAB_class"] == b"char" and h5["keys"].attrs["MATLAB_int_decode"] == 2
    loaded = load_arrays(path)
    assert np.array_equal(loaded.images, reference.images) and list(loaded.keys) == list(reference.keys)
    assert "Fämily Ünicode" in set(loaded.families)


def test_mat_version_auto_switches_to_73_past_the_v5_limit(exported, monkeypatch):
    monkeypatch.setattr(matmod, "V5_LIMIT", 1000)  # 30 images of 784 bytes are "too big" now
    output = exported.parent / "limit" / "output"
    shutil.copytree(exported / "small", output / "small")
    export_splits(ExportConfig(formats=("mat",), splits=("small",), output_dir=output))
    assert scipy.io.matlab.matfile_version(str(output / "export" / "notMNIST_small.mat")) == (2, 0)
    with pytest.raises(UsageError, match="past the 2 GiB a v5 variable holds; use --mat-version 7.3"):
        export_splits(
            ExportConfig(formats=("mat",), splits=("small",), output_dir=output, mat_version="5", force=True)
        )


# --- HDF5 --------------------------------------------------------------------------------------------------


def test_hdf5_layout_through_h5py(exported):
    reference = read_png_folder(exported / "large")
    with h5py.File(exported / "export" / "notMNIST_large.h5", "r") as h5:
        images = h5["images"]
        assert images.shape == (50, 28, 28) and images.dtype == np.uint8
        assert images.chunks == (50, 28, 28) and images.compression == "gzip" and images.shuffle
        assert np.array_equal(images[:], reference.images)
        assert h5["labels"].dtype == np.uint8 and h5["labels"][:].tolist() == reference.labels.tolist()
        assert h5["keys"].asstr()[:].tolist() == list(reference.keys)
        assert h5["families"].asstr()[1] == "Fämily Ünicode"
        assert list(h5.attrs["letters"]) == list(LETTERS)
        assert h5.attrs["fontglyphs_version"] == __version__ and h5.attrs["split"] == "large"
        source = json.loads(h5.attrs["source"])
        assert (
            source["images"] == 50 and source["path"] == "../large" and len(source["manifest_sha256"]) == 64
        )


def test_hdf5_through_h5dump(exported):
    if shutil.which("h5dump") is None:
        pytest.skip("h5dump not installed (Debian package hdf5-tools)")
    path = exported / "export" / "notMNIST_small.h5"
    header = subprocess.run(["h5dump", "-H", str(path)], capture_output=True, text=True, check=True).stdout
    assert 'DATASET "images"' in header and "H5T_STD_U8LE" in header
    assert "( 30, 28, 28 ) / ( 30, 28, 28 )" in header
    assert 'ATTRIBUTE "letters"' in header and "H5T_CSET_UTF8" in header
    labels = subprocess.run(
        ["h5dump", "-d", "/labels", "-y", "-w", "0", str(path)], capture_output=True, text=True, check=True
    ).stdout
    values = labels.split("DATA {", 1)[1].split("}", 1)[0]
    reference = read_png_folder(exported / "small").labels
    assert [int(v) for v in values.replace(",", " ").split()] == reference.tolist()


# --- IDX ---------------------------------------------------------------------------------------------------


def test_idx_is_byte_exact_mnist(exported):
    images_path = exported / "export" / "small-images-idx3-ubyte.gz"
    labels_path = exported / "export" / "small-labels-idx1-ubyte.gz"
    assert gzip_header_is_reproducible(images_path) and gzip_header_is_reproducible(labels_path)
    reference = read_png_folder(exported / "small")
    images = gzip.decompress(images_path.read_bytes())
    labels = gzip.decompress(labels_path.read_bytes())
    assert images[:16] == struct.pack(">IIII", 0x00000803, 30, 28, 28)
    assert images[16:] == reference.images.tobytes()
    assert labels[:8] == struct.pack(">II", 0x00000801, 30)
    assert labels[8:] == bytes(reference.labels.tolist())


def test_idx_through_idx2numpy(exported):
    idx2numpy = pytest.importorskip("idx2numpy")
    reference = read_png_folder(exported / "large")
    with gzip.open(exported / "export" / "large-images-idx3-ubyte.gz") as stream:
        assert np.array_equal(idx2numpy.convert_from_file(stream), reference.images)
    with gzip.open(exported / "export" / "large-labels-idx1-ubyte.gz") as stream:
        assert idx2numpy.convert_from_file(stream).tolist() == reference.labels.tolist()


# --- npz ---------------------------------------------------------------------------------------------------


def test_npz_through_numpy_with_fixed_zip_dates(exported):
    path = exported / "export" / "notMNIST_small.npz"
    reference = read_png_folder(exported / "small")
    with np.load(path) as npz:  # allow_pickle stays False: every array is a plain dtype
        assert sorted(npz.files) == ["families", "images", "keys", "labels", "letters"]
        assert np.array_equal(npz["images"], reference.images)
        assert npz["labels"].dtype == np.uint8 and npz["labels"].tolist() == reference.labels.tolist()
        assert npz["letters"].tolist() == list(LETTERS)
        assert npz["keys"].tolist() == list(reference.keys)
    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}


# --- manifest.json, SHA256SUMS, determinism ----------------------------------------------------------------


def test_manifest_json_records_config_version_counts_and_source(exported):
    records = json.loads((exported / "export" / "manifest.json").read_text())["exports"]
    assert sorted(records) == [
        f"{s}/{f}" for s in ("large", "small") for f in ("hdf5", "idx", "mat", "npz", "tar")
    ]
    mat = records["small/mat"]
    assert mat["files"] == ["notMNIST_small.mat"] and mat["images"] == 30
    assert mat["counts_per_class"] == [3] * 10 and mat["letters"] == list(LETTERS)
    assert mat["settings"]["mat_version"] == "5" and mat["fontglyphs_version"] == __version__
    manifest_sha = hashlib.sha256((exported / "small" / "manifest.csv").read_bytes()).hexdigest()
    assert mat["source"] == {
        "path": "../small",
        "layout": "manifest",
        "manifest_sha256": manifest_sha,
        "images": 30,
    }
    assert records["large/idx"]["files"] == ["large-images-idx3-ubyte.gz", "large-labels-idx1-ubyte.gz"]


def test_sha256sums_passes_sha256sum_check(exported):
    sums = (exported / "export" / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 13 and sums == sorted(sums, key=lambda line: line.split("  ")[1])
    if shutil.which("sha256sum") is None:
        pytest.skip("coreutils sha256sum not installed")
    result = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=exported / "export", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_same_split_gives_byte_identical_exports(exported):
    output = exported.parent / "again" / "output"
    shutil.copytree(exported / "small", output / "small")
    shutil.copytree(exported / "large", output / "large")
    export_splits(ExportConfig(output_dir=output, chunk_size=7))  # chunking must not show in the bytes
    assert (output / "export" / "SHA256SUMS").read_text() == (exported / "export" / "SHA256SUMS").read_text()


# --- a folder without manifest (the original notMNIST layout) ----------------------------------------------


def test_plain_folder_without_manifest_exports(tmp_path):
    output = tmp_path / "output"
    make_split(output, "small", 2, manifest=False)
    export_splits(ExportConfig(formats=("tar", "npz"), splits=("small",), output_dir=output))
    with tarfile.open(output / "export" / "notMNIST_small.tar.gz") as tar:
        assert "notMNIST_small/manifest.csv" not in tar.getnames()
    for name in ("notMNIST_small.tar.gz", "notMNIST_small.npz"):
        loaded = load_arrays(output / "export" / name)
        assert loaded.letters == tuple(LETTERS) and loaded.keys[0] == "small-font000"
        assert np.array_equal(loaded.images, read_png_folder(output / "small").images)
    record = json.loads((output / "export" / "manifest.json").read_text())["exports"]["small/npz"]
    assert record["source"]["layout"] == "folders" and record["source"]["manifest_sha256"] is None


# --- safety ------------------------------------------------------------------------------------------------


def test_existing_files_are_kept_without_force(exported):
    path = exported / "export" / "notMNIST_small.npz"
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["export", "--format", "npz", "--split", "small", "-o", str(exported)])
    assert result.exit_code == 2
    assert "notMNIST_small.npz: exists; pass --force to overwrite" in result.output
    assert len(result.output.strip().splitlines()) == 1 and path.read_bytes() == before
    forced = CliRunner().invoke(
        cli, ["export", "--format", "npz", "--split", "small", "-o", str(exported), "--force", "-q"]
    )
    assert forced.exit_code == 0 and forced.output == "" and path.read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--format", "zip"],
            "--format 'zip': unknown format zip; choose from tar, mat, hdf5, idx, npz or all",
        ),
        (["--split", "medium"], "no such split folder; run `fontglyphs clean` first"),
        (["--split", "../x"], "is not a split name"),
        (["--split", ".."], "'..' is not a split name like small or large"),
    ],
)
def test_bad_options_are_one_line_errors_with_exit_2(tmp_path, args, message):
    make_split(tmp_path / "output", "small", 1)
    result = CliRunner().invoke(cli, ["export", "-o", str(tmp_path / "output"), *args])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "output" / "export").exists()


def test_a_failure_midway_leaves_no_partial_file(tmp_path):
    output = tmp_path / "output"
    root = make_split(output, "small", 2)
    (root / "J" / "small-font001.png").write_bytes(b"\x89PNG broken")  # the last image of the stream
    with pytest.raises(DatasetError, match="small-font001.png: not a readable image"):
        export_splits(
            ExportConfig(formats=("mat", "hdf5", "idx", "npz"), splits=("small",), output_dir=output)
        )
    assert list((output / "export").iterdir()) == []  # no export, no temp file, no manifest.json


def test_cli_summary_names_every_file(tmp_path):
    make_split(tmp_path / "output", "small", 1)
    result = CliRunner().invoke(
        cli,
        ["export", "--format", "idx,tar", "--split", "small", "-o", str(tmp_path / "output")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert "small-images-idx3-ubyte.gz" in result.output and "notMNIST_small.tar.gz" in result.output
    assert "10 images" in result.output


@pytest.mark.parametrize("command", ["export", "verify"])
def test_help(command):
    result = CliRunner().invoke(cli, [command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "Example:" in result.output


def test_parse_formats_and_splits():
    assert parse_formats("all") == ("tar", "mat", "hdf5", "idx", "npz")
    assert parse_formats("npz, TAR") == ("tar", "npz")
    assert parse_splits("all") == ("small", "large") and parse_splits("large,small,large") == (
        "large",
        "small",
    )
    with pytest.raises(ExportFormatError, match=r"\(none given\)"):
        parse_formats(",")
    assert [format_of(n) for n in ("a.tgz", "x.hdf5", "train-labels-idx1-ubyte", "notes.txt")] == [
        "tar",
        "hdf5",
        "idx",
        None,
    ]


def test_unknown_export_file_is_a_clear_error(tmp_path):
    (tmp_path / "data.csv").write_text("x")
    with pytest.raises(ExportFormatError, match="data.csv: not an export file fontglyphs knows"):
        load_arrays(tmp_path / "data.csv")


def test_garbage_files_are_export_format_errors(tmp_path):
    for name in ("notMNIST_x.h5", "notMNIST_x.npz", "notMNIST_x.mat", "notMNIST_x.tar.gz"):
        (tmp_path / name).write_bytes(b"garbage" * 40)
        with pytest.raises(ExportFormatError, match=f"{name}: not a readable"):
            load_arrays(tmp_path / name)


def test_tar_reader_names_a_broken_member_and_a_manifest_mismatch(exported, tmp_path):
    source = exported / "export" / "notMNIST_small.tar.gz"
    with tarfile.open(source) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]

    def rewrite(name: str, change) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            for member, payload in members:
                payload = change(member.name, payload)
                if payload is None and member.isfile():
                    continue
                if payload is not None:
                    member.size = len(payload)
                tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
        return path

    broken = rewrite("broken.tar.gz", lambda n, p: b"not a png" if n.endswith("B/small-font002.png") else p)
    with pytest.raises(ExportFormatError, match=r"broken.tar.gz: B/small-font002.png: not a readable image"):
        load_arrays(broken)
    missing = rewrite("missing.tar.gz", lambda n, p: None if n.endswith("C/small-font000.png") else p)
    with pytest.raises(
        ExportFormatError, match=r"lacks C/small-font000.png, listed in its manifest \(1 missing"
    ):
        load_arrays(missing)
    unlisted = tmp_path / "unlisted.tar.gz"
    with tarfile.open(unlisted, "w:gz") as tar:
        for member, payload in members:
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
        extra = tarfile.TarInfo("notMNIST_small/A/stray.png")
        extra.size = len(members[-1][1])
        tar.addfile(extra, io.BytesIO(members[-1][1]))
    with pytest.raises(ExportFormatError, match=r"holds A/stray.png, not in its manifest"):
        load_arrays(unlisted)


def test_tar_reader_also_takes_a_manifest_after_the_images(exported, tmp_path):
    """Archives whose manifest comes last (fontglyphs 0.1) are buffered, then read the same."""
    source = exported / "export" / "notMNIST_small.tar.gz"
    with tarfile.open(source) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    last = tmp_path / "manifest-last.tar.gz"
    with tarfile.open(last, "w:gz") as tar:
        for member, payload in sorted(members, key=lambda item: item[0].name.endswith("manifest.csv")):
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
    assert tarfile.open(last).getnames()[-1].endswith("manifest.csv")
    expected, got = load_arrays(source), load_arrays(last)
    np.testing.assert_array_equal(got.images, expected.images)
    np.testing.assert_array_equal(got.labels, expected.labels)
    assert list(got.keys) == list(expected.keys)
