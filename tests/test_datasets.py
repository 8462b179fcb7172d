"""fontglyphs.datasets: arrays, chunk streams and torch Datasets over split folders and every export."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_export import LETTERS, make_split

from fontglyphs.datasets import (
    concat_arrays,
    dataset_class,
    iter_arrays,
    iter_png_folder,
    load_arrays,
    read_png_folder,
)
from fontglyphs.errors import DatasetError, ExportFormatError
from fontglyphs.export import ExportConfig, export_splits
from fontglyphs.export.idx import read_idx

EXPORT_FILES = {
    "tar": "notMNIST_small.tar.gz",
    "mat": "notMNIST_small.mat",
    "hdf5": "notMNIST_small.h5",
    "idx": "small-images-idx3-ubyte.gz",
    "npz": "notMNIST_small.npz",
}


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("datasets") / "output"
    make_split(output, "small", 2, seed=7)
    export_splits(ExportConfig(splits=("small",), output_dir=output))
    return output


def test_importing_datasets_and_export_stays_light():
    code = (
        "import sys, fontglyphs.datasets, fontglyphs.export, fontglyphs.commands.export, "
        "fontglyphs.commands.verify;"
        "print(sorted(m for m in ('torch', 'h5py', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- torch Datasets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["folder", *EXPORT_FILES])
def test_dataset_classes_load_every_format(output, fmt):
    torch = pytest.importorskip("torch")
    root = output if fmt == "folder" else output / "export"
    dataset = dataset_class(fmt)(root, split="small")
    reference = read_png_folder(output / "small")
    assert isinstance(dataset, torch.utils.data.Dataset)
    assert len(dataset) == 20 and dataset.classes == list(LETTERS)
    assert dataset.class_to_idx["C"] == 2
    image, label = dataset[13]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert np.array_equal(np.asarray(image), reference.images[13]) and label == reference.labels[13]
    assert type(label) is int
    assert f"Number of datapoints: 20\n    Root location: {root}" in repr(dataset)


def test_transforms_and_dataloader(output):
    torch = pytest.importorskip("torch")
    from fontglyphs.datasets import GlyphHDF5

    dataset = GlyphHDF5(
        output / "export",
        transform=lambda image: torch.from_numpy(np.array(image)).float().div(255).unsqueeze(0),
        target_transform=lambda label: LETTERS[label],
    )
    image, target = dataset[0]
    assert image.shape == (1, 28, 28) and target == "A"
    images, targets = next(iter(torch.utils.data.DataLoader(dataset, batch_size=8)))
    assert images.shape == (8, 1, 28, 28) and list(targets[:3]) == ["A", "A", "B"]
    assert "Transform: <function" in repr(dataset)


@pytest.mark.parametrize(
    "fmt, hint",
    [
        ("npz", "fontglyphs export --format npz --split large"),
        ("idx", "fontglyphs export --format idx --split large"),
        ("folder", "fontglyphs clean"),
    ],
)
def test_missing_dataset_says_how_to_make_it(output, fmt, hint):
    pytest.importorskip("torch")
    root = output if fmt == "folder" else output / "export"
    with pytest.raises(DatasetError, match=rf"^Dataset not found at {root}/\S+; run `{hint}`$"):
        dataset_class(fmt)(root, split="large")


def test_unknown_dataset_class():
    with pytest.raises(DatasetError, match="no dataset class for format 'csv'"):
        dataset_class("csv")


# --- arrays and chunk streams ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["small", *EXPORT_FILES.values()])
def test_chunked_stream_equals_whole_load(output, source):
    path = output / "export" / source if source != "small" else source
    chunks = list(iter_arrays(path, chunk_size=7, output_dir=output))
    assert [len(c) for c in chunks] == [7, 7, 6]
    whole = load_arrays(path, output_dir=output)
    joined = concat_arrays(chunks, str(path))
    assert np.array_equal(joined.images, whole.images) and np.array_equal(joined.labels, whole.labels)
    assert list(joined.keys) == list(whole.keys)


def test_folder_reader_skips_a_broken_png_but_the_stream_stops(tmp_path):
    root = make_split(tmp_path / "output", "small", 2)
    (root / "B" / "small-font000.png").write_bytes(b"not a png")
    Image.new("L", (20, 20)).save(root / "E" / "small-font001.png")
    arrays = read_png_folder(root)
    assert len(arrays) == 18
    assert [p for p, _ in arrays.problems] == ["B/small-font000.png", "E/small-font001.png"]
    assert arrays.problems[1][1] == "size 20x20, expected 28x28"
    with pytest.raises(DatasetError, match=r"B/small-font000.png: not a readable image"):
        list(iter_png_folder(root, chunk_size=4))


def test_stream_rejects_an_image_of_another_size(tmp_path):
    root = make_split(tmp_path / "output", "small", 1)
    Image.new("L", (32, 28)).save(root / "D" / "small-font000.png")
    with pytest.raises(DatasetError, match="D/small-font000.png: size 32x28, expected 28x28"):
        list(iter_png_folder(root))


def test_folder_without_manifest_takes_labels_from_sorted_folders(tmp_path):
    root = make_split(tmp_path / "output", "small", 1, manifest=False)
    (root / "K").mkdir()  # an empty class folder still takes a label, as in torchvision's ImageFolder
    arrays = read_png_folder(root)
    assert arrays.letters == (*LETTERS, "K") and arrays.labels.tolist() == list(range(10))
    assert arrays.keys[0] == "small-font000" and arrays.paths[0] == "A/small-font000.png"


# --- IDX without fontglyphs around it ----------------------------------------------------------------------


def write_mnist(folder: Path, images: np.ndarray, labels: np.ndarray, compress: bool) -> Path:
    """Files named and laid out like the original MNIST distribution."""
    suffix, opener = (".gz", gzip.open) if compress else ("", open)
    with opener(folder / f"train-images-idx3-ubyte{suffix}", "wb") as stream:
        stream.write(struct.pack(">IIII", 0x803, *images.shape) + images.tobytes())
    with opener(folder / f"train-labels-idx1-ubyte{suffix}", "wb") as stream:
        stream.write(struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes())
    return folder / f"train-images-idx3-ubyte{suffix}"


@pytest.mark.parametrize("compress", [True, False])
def test_original_mnist_files_load(tmp_path, compress):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.array([3, 1, 4, 1, 5])
    path = write_mnist(tmp_path, images, labels, compress)
    arrays = load_arrays(path)
    assert np.array_equal(arrays.images, images) and arrays.labels.tolist() == labels.tolist()
    assert arrays.letters == ("A", "B", "C", "D", "E", "F")  # no manifest.json beside: A, B, ... by label
    assert np.array_equal(read_idx(path.with_name(path.name.replace("images-idx3", "labels-idx1"))), labels)


def test_idx_errors_say_what_was_found(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    path = write_mnist(tmp_path, images, np.array([0, 1]), compress=False)
    data = path.read_bytes()
    path.write_bytes(b"\x08\x03" + data[2:])
    with pytest.raises(
        ExportFormatError, match=r"not an IDX file \(expected magic 0x0000TTDD .* got 0x08030803\)"
    ):
        read_idx(path)
    path.write_bytes(data[:-10])
    with pytest.raises(ExportFormatError, match="data ends after 1 images"):
        load_arrays(path)
    path.write_bytes(data + b"\0")
    with pytest.raises(ExportFormatError, match="data continues past the 2 images its header announces"):
        load_arrays(path)
    path.write_bytes(data)
    path.with_name("train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, 3) + bytes(3))
    with pytest.raises(ExportFormatError, match="2 images but train-labels-idx1-ubyte has 3 labels"):
        load_arrays(path)
    path.with_name("train-labels-idx1-ubyte").unlink()
    with pytest.raises(ExportFormatError, match="its labels file train-labels-idx1-ubyte is missing"):
        load_arrays(path)
