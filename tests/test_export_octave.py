"""GNU Octave opens both .mat versions and sees MATLAB's view: sizes, a label, a pixel, letters, a key.

Needs ``octave-cli`` (Debian: ``apt-get install --no-install-recommends octave``); skipped without it.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from test_export import LETTERS, make_split

from fontglyphs.datasets import read_png_folder
from fontglyphs.export import ExportConfig, export_splits

pytestmark = pytest.mark.skipif(
    shutil.which("octave-cli") is None, reason="GNU Octave (octave-cli) is not installed"
)

# 1-based in Octave: image k=12 (0-based 11), row 3, column 8, so a transposed image shows at once.
SCRIPT = """
x = load("{path}");
printf("size %d %d %d\\n", size(x.images));
printf("class %s\\n", class(x.images));
printf("pixel %d\\n", x.images(3, 8, 12));
printf("label %d\\n", x.labels(12));
printf("labels %d %d\\n", size(x.labels));
printf("letters %s\\n", char(x.letters));
printf("key %s\\n", strtrim(char(x.keys(12, :))));
"""


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_octave_reads_the_mat_file(tmp_path, version):
    output = tmp_path / "output"
    make_split(output, "small", 2, seed=5)
    export_splits(ExportConfig(formats=("mat",), splits=("small",), output_dir=output, mat_version=version))
    path = output / "export" / "notMNIST_small.mat"
    result = subprocess.run(
        ["octave-cli", "--no-gui", "--norc", "--quiet", "--eval", SCRIPT.format(path=path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    reference = read_png_folder(output / "small")
    assert seen["size"] == "28 28 20" and seen["class"] == "uint8"
    assert int(seen["pixel"]) == reference.images[11, 2, 7] != reference.images[11, 7, 2]
    assert int(seen["label"]) == reference.labels[11] and seen["labels"] == "20 1"
    assert seen["letters"] == LETTERS
    assert seen["key"] == reference.keys[11]
