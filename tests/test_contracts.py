"""The contracts every stage shares: letter specifications and the manifest files."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from fontglyphs.errors import DatasetError, UsageError
from fontglyphs.letters import letter_dirname, letter_from_dirname, parse_letters
from fontglyphs.manifest import (
    GlyphRecord,
    RejectRecord,
    manifest_csv,
    read_manifest,
    read_rejects,
    sort_records,
    write_manifest,
    write_rejects,
)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("A-J", tuple("ABCDEFGHIJ")),
        ("A-C,0-2", ("A", "B", "C", "0", "1", "2")),
        ("A,C,E", ("A", "C", "E")),
        ("C-A", ("C", "B", "A")),  # the class index follows the order given
        ("U+00C4,ß", ("Ä", "ß")),
        ("α-γ", ("α", "β", "γ")),
        ("U+002D", ("-",)),
    ],
)
def test_letter_specifications(spec, expected):
    assert parse_letters(spec) == expected


@pytest.mark.parametrize("spec", ["", "A,,B", "A-C,B", "AB", "U+110000", "A, "])
def test_bad_letter_specifications_are_usage_errors(spec):
    with pytest.raises(UsageError, match="--letters"):
        parse_letters(spec)


@pytest.mark.parametrize(
    "letter, folder", [("A", "A"), ("Ä", "Ä"), ("7", "7"), ("/", "U+002F"), (".", "U+002E")]
)
def test_letter_folders_are_safe_and_reversible(letter, folder):
    assert letter_dirname(letter) == folder
    assert letter_from_dirname(folder) == letter


def record(key: str, label: int, **changes) -> GlyphRecord:
    base = GlyphRecord(
        path=f"{'AB'[label]}/{key}.png",
        letter="AB"[label],
        label=label,
        key=key,
        font_path="fonts/x, y.ttf",
        font_sha256="0" * 64,
        face_index=0,
        instance="",
        family='Fam "Quoted"',
        style="Regular",
        license="OFL-1.1",
        pixel_sha256="f" * 64,
    )
    return dataclasses.replace(base, **changes)


def test_manifest_round_trip_is_sorted_and_byte_stable(tmp_path):
    records = [record("b", 1), record("a", 1, flags="near-duplicate;leak"), record("z", 0, split="small")]
    write_manifest(tmp_path / "one.csv", records)
    back = read_manifest(tmp_path / "one.csv")
    assert [(r.label, r.key) for r in back] == [(0, "z"), (1, "a"), (1, "b")]
    assert back[1].flag_list() == ["near-duplicate", "leak"] and back[0].family == 'Fam "Quoted"'
    write_manifest(tmp_path / "two.csv", reversed(back))
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_manifest_rows_are_what_csv_writer_writes(tmp_path):
    """Rows without a comma, quote or line break are joined directly; the others must come out as the csv
    module writes them, quoted where it quotes (a file name can hold a newline)."""
    odd = ["plain", "a,b", 'say "hi"', "line\nbreak", "carriage\rreturn", "é ü", "", " padded "]
    records = [
        record(f"k{i}", i % 2, font_path=f"fonts/{text}.ttf", family=text, style=text, flags=text)
        for i, text in enumerate(odd)
    ]
    names = [field.name for field in dataclasses.fields(GlyphRecord)]
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([getattr(r, name) for name in names] for r in sort_records(records))
    assert manifest_csv(records) == expected.getvalue()
    readable = [r for r in records if "\r" not in r.family]  # csv itself leaves a lone CR unquoted
    write_manifest(tmp_path / "m.csv", readable)
    assert read_manifest(tmp_path / "m.csv") == sort_records(readable)


def test_rejects_round_trip_deduplicates(tmp_path):
    rows = [RejectRecord("b.ttf", "*", "empty file"), RejectRecord("a.ttf", "C", "not in cmap")] * 2
    write_rejects(tmp_path / "rejects.csv", rows)
    assert read_rejects(tmp_path / "rejects.csv") == sorted(set(rows), key=lambda r: r.font_path)


def test_malformed_manifests_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_manifest(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="other.csv: not a fontglyphs"):
        read_manifest(tmp_path / "other.csv")
    write_manifest(tmp_path / "bad.csv", [record("a", 0)])
    text = (tmp_path / "bad.csv").read_text().replace(",0,a,", ",zero,a,")
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DatasetError, match="bad.csv:2: malformed row"):
        read_manifest(tmp_path / "bad.csv")
