"""fontglyphs review: the decisions file, page order and validation, and the loopback server's defences.

Fixtures are a real ``output/`` folder: 28x28 PNGs drawn from the dot-matrix letters, a cleaned manifest
and an out-of-fold predictions file, as the cleaner writes them.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fontfactory import DOT_MATRIX
from PIL import Image

from fontglyphs.cli import cli
from fontglyphs.errors import DatasetError, UsageError
from fontglyphs.manifest import GlyphRecord, read_manifest, write_manifest
from fontglyphs.review.decisions import (
    REJECTING,
    Decision,
    read_decisions,
    reviewed_error_estimate,
    wilson_interval,
    write_decision,
)
from fontglyphs.review.server import ReviewServer, make_server
from fontglyphs.review.session import ReviewRequestError, ReviewSession

LETTERS = "ABCDEFGHIJ"


# ---------------------------------------------------------------------------------------------------
# Fixture output folder
# ---------------------------------------------------------------------------------------------------


@dataclass
class FixtureFont:
    key: str
    family: str
    style: str = "Regular"
    split: str = "small"
    shift: int = 0
    letters: str = LETTERS
    draw: dict[str, str] = field(default_factory=dict)  # letter -> the shape actually drawn (a wrong glyph)
    flags: dict[str, str] = field(default_factory=dict)  # letter ("*" for all) -> manifest flags


FIXTURE_FONTS = (
    FixtureFont("Zml4c2Fucw", "Fixture Sans"),
    FixtureFont("Zml4bW9ubw", "Fixture Mono", shift=2),
    FixtureFont("d3JvbmdhYg", "Wrong AB", shift=1, draw={"A": "B"}, flags={"A": "label-noise-suspect"}),
    FixtureFont("bmVhcmR1cA", "Near Dup", shift=3, flags={"*": "near-duplicate"}),
    FixtureFont("cGFydGlhbA", "Partial", letters="ABC"),
    FixtureFont("bGFyZ2Vvbg", "Large Only", split="large"),
    FixtureFont("Z29uZQ", "Gone", split="", flags={"*": "exact-duplicate"}),
)


def glyph(letter: str, shift: int = 0) -> np.ndarray:
    """A 28x28 dot-matrix letter, white ink on black."""
    image = np.zeros((28, 28), np.uint8)
    for row, bits in enumerate(DOT_MATRIX[letter]):
        for column, bit in enumerate(bits):
            if bit == "1":
                x = 3 + column * 4 + shift
                image[row * 4 : row * 4 + 4, x : x + 4] = 255
    return image


def build_output(root: Path, fonts=FIXTURE_FONTS, predictions: bool = True) -> Path:
    """Write output/glyphs/<L>/<key>.png, output/clean/manifest.csv and (optionally) predictions.csv."""
    output = root / "output"
    records, rows = [], []
    for font_index, font in enumerate(fonts):
        for letter in font.letters:
            image = glyph(font.draw.get(letter, letter), font.shift)
            path = f"{letter}/{font.key}.png"
            (output / "glyphs" / letter).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, "L").save(output / "glyphs" / path)
            flags = font.flags.get(letter, font.flags.get("*", ""))
            label, predicted = LETTERS.index(letter), LETTERS.index(font.draw.get(letter, letter))
            record = GlyphRecord(
                path=path,
                letter=letter,
                label=label,
                key=font.key,
                font_path=f"fonts/{font.key}.ttf",
                font_sha256=hashlib.sha256(font.key.encode()).hexdigest(),
                face_index=0,
                instance="",
                family=font.family,
                style=font.style,
                license="OFL-1.1",
                pixel_sha256=hashlib.sha256(image.tobytes()).hexdigest(),
            )
            records.append(
                replace(record, split=font.split, status="ok" if font.split else "removed", flags=flags)
            )
            score = 0.9 if predicted != label else round(0.01 * font_index + 0.001 * label, 4)
            rows.append([path, label, predicted, 0.97 - score / 2, score])
    write_manifest(output / "clean" / "manifest.csv", records)
    if predictions:
        with open(output / "clean" / "predictions.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "label", "predicted", "confidence", "suspect_score"])
            writer.writerows(rows)
    return output


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return build_output(tmp_path)


@contextlib.contextmanager
def running(server: ReviewServer) -> Iterator[ReviewServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server(output: Path) -> Iterator[ReviewServer]:
    with running(make_server(output, reviewer="tester", page_size=20)) as served:
        yield served


def call(
    server: ReviewServer,
    method: str,
    path: str,
    body: bytes | None = None,
    host: str | None = None,
    **headers,
):
    """One raw HTTP request; ``host=""`` sends no Host header at all."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    host = f"127.0.0.1:{server.port}" if host is None else host
    if host:
        connection.putheader("Host", host)
    for name, value in headers.items():
        connection.putheader(name.replace("_", "-"), value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.headers, data


def post_decisions(server: ReviewServer, entries: list, **headers):
    headers.setdefault("Content_Type", "application/json")
    return call(server, "POST", "/api/decisions", json.dumps({"decisions": entries}).encode(), **headers)


def review_rows(output: Path) -> list[dict]:
    with open(output / "clean" / "review.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------------------------------
# decisions.py: the file contract the cleaner reads
# ---------------------------------------------------------------------------------------------------


def test_write_then_read_keeps_one_latest_row_per_image_sorted(tmp_path: Path) -> None:
    path = tmp_path / "clean" / "review.csv"
    write_decision(path, Decision("k2", "A", "accept", "", "ana", "2025-01-01T00:00:00Z"))
    write_decision(path, Decision("k1", "B", "relabel", "C", "ana", "2025-01-01T00:00:01Z"))
    write_decision(path, Decision("k2", "A", "wrong-letter", "", "bo", "2025-01-01T00:00:02Z"))
    decisions = read_decisions(path)
    assert decisions == {
        ("k1", "B"): Decision("k1", "B", "relabel", "C", "ana", "2025-01-01T00:00:01Z"),
        ("k2", "A"): Decision("k2", "A", "wrong-letter", "", "bo", "2025-01-01T00:00:02Z"),
    }
    assert path.read_text().splitlines() == [
        "key,letter,decision,new_letter,reviewer,time",
        "k1,B,relabel,C,ana,2025-01-01T00:00:01Z",
        "k2,A,wrong-letter,,bo,2025-01-01T00:00:02Z",
    ]
    assert [p.name for p in path.parent.iterdir()] == ["review.csv"]  # no temporary file left behind
    assert REJECTING == {"wrong-letter", "not-a-letter", "duplicate"}


def test_a_missing_file_means_no_decisions(tmp_path: Path) -> None:
    assert read_decisions(tmp_path / "review.csv") == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("key,letter,decision\nk,A,accept\n", "not a fontglyphs review file"),
        ("", "not a fontglyphs review file"),
        (
            "key,letter,decision,new_letter,reviewer,time\nk,A,maybe,,ana,t\n",
            ":2: malformed row (decision 'maybe'",
        ),
        (
            "key,letter,decision,new_letter,reviewer,time\nk,A,accept,,ana,t\nk,B,relabel,,a,t\n",
            ":3: malformed row",
        ),
        (
            "key,letter,decision,new_letter,reviewer,time\nk,A,accept,B,ana,t\n",
            "new_letter is only for relabel",
        ),
        ("key,letter,decision,new_letter,reviewer,time\nk,A,relabel,A,ana,t\n", "relabel to the same letter"),
        (
            "key,letter,decision,new_letter,reviewer,time\nk,A,accept,,ana\n",
            ":2: malformed row (5 fields, not 6)",
        ),
        (
            "key,letter,decision,new_letter,reviewer,time\n,A,accept,,ana,t\n",
            "key and letter must not be empty",
        ),
    ],
)
def test_a_malformed_file_names_the_file_and_line(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "review.csv"
    path.write_text(text)
    with pytest.raises(DatasetError, match="review.csv") as error:
        read_decisions(path)
    assert reason in str(error.value)


def test_an_invalid_decision_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "review.csv"
    write_decision(path, Decision("k", "A", "accept"))
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="relabel needs new_letter"):
        write_decision(path, Decision("k", "A", "relabel"))
    assert path.read_bytes() == before


def test_wilson_interval_matches_known_values() -> None:
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert wilson_interval(10, 10) == pytest.approx((0.72247, 1.0), abs=1e-5)


def test_reviewed_error_estimate_counts_only_reviewed_small_images(output: Path) -> None:
    session = ReviewSession.load(output)
    small = list(session.shown.values())
    keys = sorted({r.key for r in small})
    decisions = {
        (keys[0], "A"): Decision(keys[0], "A", "accept"),
        (keys[0], "B"): Decision(keys[0], "B", "accept"),
        (keys[0], "C"): Decision(keys[0], "C", "duplicate"),  # overruled, but its label is right
        (keys[1], "A"): Decision(keys[1], "A", "wrong-letter"),
        (keys[1], "B"): Decision(keys[1], "B", "relabel", "C"),
        ("bGFyZ2Vvbg", "A"): Decision("bGFyZ2Vvbg", "A", "not-a-letter"),  # a large image: not counted
    }
    estimate = reviewed_error_estimate(decisions, small)
    assert estimate["small"] == len(small) == 43
    assert (estimate["reviewed"], estimate["accepted"], estimate["overruled"], estimate["label_errors"]) == (
        5,
        2,
        3,
        2,
    )
    assert estimate["decisions"] == {
        "accept": 2,
        "wrong-letter": 1,
        "not-a-letter": 0,
        "duplicate": 1,
        "relabel": 1,
    }
    assert estimate["error_rate"] == 0.4
    assert estimate["interval"] == pytest.approx(wilson_interval(2, 5), abs=1e-6)
    assert estimate["coverage"] == round(5 / 43, 6)
    empty = reviewed_error_estimate({}, small)
    assert (empty["reviewed"], empty["error_rate"], empty["interval"]) == (0, None, None)


# ---------------------------------------------------------------------------------------------------
# session.py: what is shown, in which order, and what is accepted
# ---------------------------------------------------------------------------------------------------


def page_keys(session: ReviewSession) -> list[list[tuple[str, str]]]:
    return [[(r.key, r.letter) for group in page for r in group.records] for page in session.pages]


def test_by_font_shows_whole_fonts_suspects_first_letters_in_order(output: Path) -> None:
    session = ReviewSession.load(output, page_size=20)
    titles = [[group.title for group in page] for page in session.pages]
    # label noise, then near-duplicates, then by suspect score; whole fonts, at most 20 tiles a page
    assert titles == [
        ["Wrong AB Regular", "Near Dup Regular"],
        ["Partial Regular", "Fixture Mono Regular"],  # higher suspect scores first
        ["Fixture Sans Regular"],
    ]
    assert [r.letter for r in session.pages[0][0].records] == list(LETTERS)
    assert {r.split for r in session.shown.values()} == {"small"}


def test_by_letter_ranks_images_then_groups_each_page_by_letter(output: Path) -> None:
    session = ReviewSession.load(output, by="letter", page_size=10)
    first = session.pages[0]
    assert first[0].title == "A" and first[0].records[0].key == "d3JvbmdhYg"  # the mislabelled A leads
    assert [g.title for g in first] == sorted(g.title for g in first)
    assert sum(len(g.records) for page in session.pages for g in page) == 43
    assert all(sum(len(g.records) for g in page) <= 10 for page in session.pages)


def test_decided_images_go_last_so_a_reopened_review_resumes(output: Path) -> None:
    for letter in LETTERS:
        write_decision(output / "clean" / "review.csv", Decision("d3JvbmdhYg", letter, "accept"))
    session = ReviewSession.load(output, page_size=20)
    assert session.pages[0][0].title == "Near Dup Regular"
    assert session.pages[-1][-1].title == "Wrong AB Regular"
    assert session.decided_count() == 10


def test_page_payload_carries_label_guess_flags_and_decision(output: Path) -> None:
    write_decision(output / "clean" / "review.csv", Decision("d3JvbmdhYg", "B", "relabel", "C"))
    payload = ReviewSession.load(output, page_size=20).page_payload(0)
    assert (payload["page"], payload["pages"], payload["total"], payload["decided"]) == (0, 3, 43, 1)
    assert payload["letters"] == list(LETTERS)
    wrong_a, wrong_b = payload["groups"][0]["items"][:2]
    assert (wrong_a["letter"], wrong_a["guess"], wrong_a["flags"]) == ("A", "B", ["label-noise-suspect"])
    assert wrong_a["url"].startswith("/glyphs/A/d3JvbmdhYg.png?v=")
    assert (wrong_b["decision"], wrong_b["new_letter"]) == ("relabel", "C")
    with pytest.raises(ReviewRequestError, match="no page 3") as error:
        ReviewSession.load(output, page_size=20).page_payload(3)
    assert error.value.status == 404


def test_without_predictions_there_are_no_guesses_and_flags_still_order(tmp_path: Path) -> None:
    output = build_output(tmp_path, predictions=False)
    session = ReviewSession.load(output, page_size=20)
    assert [g.title for g in session.pages[0]] == ["Wrong AB Regular", "Near Dup Regular"]
    assert all(
        item["guess"] is None for group in session.page_payload(0)["groups"] for item in group["items"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path,label\nA/x.png,0\n", "missing columns: confidence, predicted, suspect_score"),
        (
            "path,label,predicted,confidence,suspect_score\nA/x.png,0,zero,0.5,0.1\n",
            "predictions.csv:2: malformed",
        ),
        ("path,label,predicted,confidence,suspect_score\nA/x.png,0,12,0.5,0.1\n", "predicted class 12"),
    ],
)
def test_bad_predictions_are_reported(output: Path, text: str, message: str) -> None:
    (output / "clean" / "predictions.csv").write_text(text)
    with pytest.raises(DatasetError, match="predictions.csv") as error:
        ReviewSession.load(output)
    assert message in str(error.value)


def test_missing_manifest_or_empty_split_is_a_clear_error(tmp_path: Path, output: Path) -> None:
    with pytest.raises(DatasetError, match="no such file; run `fontglyphs clean"):
        ReviewSession.load(tmp_path / "nothing")
    only_large = build_output(tmp_path / "large", fonts=FIXTURE_FONTS[5:6])
    with pytest.raises(DatasetError, match="no images in split 'small'"):
        ReviewSession.load(only_large)
    with pytest.raises(UsageError, match="--by 'colour'"):
        ReviewSession.load(output, by="colour")


def test_a_label_index_with_two_letters_is_refused(output: Path) -> None:
    records = read_manifest(output / "clean" / "manifest.csv")
    records[0] = replace(records[0], letter="Z")
    with pytest.raises(DatasetError, match="manifest.csv: label 0 is both 'Z' and 'A'"):
        ReviewSession(output, "small", records, {}, {})


def test_apply_saves_a_batch_at_once_with_reviewer_and_time(output: Path) -> None:
    session = ReviewSession.load(output, reviewer="ana", clock=lambda: "2025-02-03T04:05:06Z")
    result = session.apply({"decisions": [
        {"key": "d3JvbmdhYg", "letter": "A", "decision": "relabel", "new_letter": "B"},
        {"key": "Zml4c2Fucw", "letter": "C", "decision": "not-a-letter"},
    ]})  # fmt: skip
    assert result == {"saved": 2, "decided": 2, "total": 43}
    assert review_rows(output) == [
        {"key": "Zml4c2Fucw", "letter": "C", "decision": "not-a-letter", "new_letter": "", "reviewer": "ana",
         "time": "2025-02-03T04:05:06Z"},
        {"key": "d3JvbmdhYg", "letter": "A", "decision": "relabel", "new_letter": "B", "reviewer": "ana",
         "time": "2025-02-03T04:05:06Z"},
    ]  # fmt: skip


GOOD = {"key": "Zml4c2Fucw", "letter": "A", "decision": "accept"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([GOOD], "expected a JSON object"),
        ({"decisions": GOOD}, "expected a JSON object"),
        ({"decisions": [GOOD], "extra": 1}, "expected a JSON object"),
        ({"decisions": []}, "expected 1 to 10000 decisions"),
        ({"decisions": [GOOD, {**GOOD, "key": "bm9wZQ"}]}, "no image 'bm9wZQ'/'A'"),
        ({"decisions": [{**GOOD, "key": "bGFyZ2Vvbg"}]}, "in split 'small'"),  # exists, but in large
        ({"decisions": [{**GOOD, "key": "Z29uZQ"}]}, "in split 'small'"),  # removed by the cleaner
        ({"decisions": [{**GOOD, "letter": "Q"}]}, "no image"),
        ({"decisions": [{**GOOD, "decision": "delete"}]}, "decision 'delete' is not one of"),
        (
            {"decisions": [{**GOOD, "decision": "relabel", "new_letter": "Z"}]},
            "not one of the dataset's letters",
        ),
        ({"decisions": [{**GOOD, "decision": "relabel", "new_letter": "A"}]}, "relabel to the same letter"),
        ({"decisions": [{**GOOD, "decision": "relabel"}]}, "relabel needs new_letter"),
        ({"decisions": [{**GOOD, "new_letter": "B"}]}, "only for relabel"),
        ({"decisions": [{**GOOD, "reviewer": "mallory"}]}, "a decision needs key, letter, decision"),
        ({"decisions": [{"key": "Zml4c2Fucw", "letter": "A"}]}, "a decision needs key, letter, decision"),
        ({"decisions": [{**GOOD, "letter": 0}]}, "must be strings"),
        ({"decisions": ["Zml4c2Fucw"]}, "a decision needs"),
    ],
)
def test_apply_rejects_any_bad_field_and_writes_nothing(output: Path, body: object, message: str) -> None:
    session = ReviewSession.load(output)
    with pytest.raises(ReviewRequestError) as error:
        session.apply(body)
    assert message in str(error.value)
    assert error.value.status == 400
    assert not (output / "clean" / "review.csv").exists()
    assert session.decided_count() == 0


def test_image_file_stays_inside_the_glyph_folder(output: Path, tmp_path: Path) -> None:
    session = ReviewSession.load(output)
    assert session.image_file("A/Zml4c2Fucw.png") == (output / "glyphs" / "A" / "Zml4c2Fucw.png").resolve()
    for path in [
        "../clean/manifest.csv",
        "A/../../clean/manifest.csv",
        "/etc/passwd",
        "A/bGFyZ2Vvbg.png",
        "",
    ]:
        with pytest.raises(ReviewRequestError) as error:
            session.image_file(path)
        assert error.value.status == 404


def test_a_listed_image_that_links_outside_the_glyph_folder_is_refused(output: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the browser")
    target = output / "glyphs" / "A" / "Zml4c2Fucw.png"
    target.unlink()
    target.symlink_to(secret)
    with pytest.raises(ReviewRequestError, match="under"):
        ReviewSession.load(output).image_file("A/Zml4c2Fucw.png")


# ---------------------------------------------------------------------------------------------------
# server.py: HTTP, loopback only, own Host and Origin only
# ---------------------------------------------------------------------------------------------------


def test_serves_the_page_its_assets_and_pages_on_loopback(server: ReviewServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/"
    status, headers, body = call(server, "GET", "/")
    assert status == 200 and b'<script src="/app.js"' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    for path, kind in [("/app.js", "text/javascript"), ("/app.css", "text/css")]:
        status, headers, _ = call(server, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind)
    status, headers, body = call(server, "GET", "/api/page/1")
    assert status == 200 and json.loads(body)["page"] == 1 and headers["Cache-Control"] == "no-store"
    status, _, body = call(server, "GET", "/api/page/99")
    assert status == 404 and "no page 99" in json.loads(body)["error"]
    assert call(server, "GET", "/nothing")[0] == 404
    status, _, _ = call(server, "GET", "/", host=f"localhost:{server.port}")
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "127.0.0.1", ""])
def test_a_request_for_another_host_is_refused(server: ReviewServer, host: str) -> None:
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 still sends Host: evil.example."""
    for method, path, body in [
        ("GET", "/", None),
        ("GET", "/api/page/0", None),
        ("POST", "/api/decisions", b"{}"),
    ]:
        status, _, data = call(server, method, path, body, host=host.format(port=server.port))
        assert status == 403, (method, path)
        assert "is not this server" in json.loads(data)["error"]


def test_other_sites_may_link_to_the_page_but_not_fetch_data_or_images(server: ReviewServer) -> None:
    assert call(server, "GET", "/", Sec_Fetch_Site="cross-site")[0] == 200
    for path in ["/api/page/0", "/glyphs/A/Zml4c2Fucw.png", "/app.js"]:
        for site in ["cross-site", "same-site"]:
            status, headers, _ = call(server, "GET", path, Sec_Fetch_Site=site)
            assert status == 403, (path, site)
        status, headers, _ = call(server, "GET", path, Sec_Fetch_Site="same-origin")
        assert status == 200 and headers["Cross-Origin-Resource-Policy"] == "same-origin"


def test_an_image_is_served_only_from_the_manifest_under_glyphs(server: ReviewServer, output: Path) -> None:
    status, headers, body = call(server, "GET", "/glyphs/A/Zml4c2Fucw.png?v=abc")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body == (output / "glyphs" / "A" / "Zml4c2Fucw.png").read_bytes()
    for path in [
        "/glyphs/../clean/manifest.csv",
        "/glyphs/%2e%2e/clean/manifest.csv",
        "/glyphs/A/%2e%2e%2f%2e%2e%2fclean%2fmanifest.csv",
        "/glyphs//etc/passwd",
        "/glyphs/%2Fetc%2Fpasswd",
        "/glyphs/A/bGFyZ2Vvbg.png",
        "/clean/manifest.csv",
    ]:
        status, _, body = call(server, "GET", path)
        assert status == 404, path
        assert b"pixel_sha256" not in body and b"root:" not in body  # an error, not the file


def test_a_same_origin_json_post_is_saved_at_once(server: ReviewServer, output: Path) -> None:
    entry = {"key": "d3JvbmdhYg", "letter": "A", "decision": "wrong-letter"}
    status, _, body = post_decisions(server, [entry], Origin=f"http://127.0.0.1:{server.port}")
    assert status == 200 and json.loads(body) == {"saved": 1, "decided": 1, "total": 43}
    [row] = review_rows(output)
    assert (row["key"], row["letter"], row["decision"], row["reviewer"]) == (
        "d3JvbmdhYg",
        "A",
        "wrong-letter",
        "tester",
    )
    # a client without Origin (curl, a script) may write too: it cannot be a web page of another site
    status, _, _ = post_decisions(server, [{**entry, "decision": "accept"}])
    assert status == 200 and review_rows(output)[0]["decision"] == "accept"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://127.0.0.1:1"}, 403),
        ({"Origin": "https://127.0.0.1:{port}"}, 403),
        ({"Sec_Fetch_Site": "cross-site"}, 403),
        ({"Sec_Fetch_Site": "same-site"}, 403),
        ({"Content_Type": "text/plain"}, 415),
        ({"Content_Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content_Type": "multipart/form-data; boundary=x"}, 415),
    ],
)
def test_cross_site_or_non_json_writes_are_refused(
    server: ReviewServer, output: Path, headers: dict, status: int
):
    headers = {name: value.format(port=server.port) for name, value in headers.items()}
    got, _, _ = post_decisions(server, [GOOD], **headers)
    assert got == status
    assert not (output / "clean" / "review.csv").exists()


def test_bad_bodies_and_preflights_are_refused(server: ReviewServer, output: Path) -> None:
    json_type = {"Content_Type": "application/json"}
    assert call(server, "POST", "/api/decisions", b"{not json", **json_type)[0] == 400
    assert call(server, "POST", "/api/decisions", b"\xff\xfe", **json_type)[0] == 400
    too_long = str((1 << 20) + 1)  # refused on the header alone, before any of the body is read
    assert call(server, "POST", "/api/decisions", None, Content_Length=too_long, **json_type)[0] == 413
    assert call(server, "POST", "/api/decisions", None, **json_type)[0] == 411
    assert call(server, "POST", "/api/page/0", b"{}", **json_type)[0] == 404
    assert call(server, "OPTIONS", "/api/decisions", Origin="http://evil.example")[0] == 501  # no CORS, ever
    assert call(server, "PUT", "/api/decisions", b"{}", **json_type)[0] == 501
    assert not (output / "clean" / "review.csv").exists()
    assert call(server, "GET", "/")[0] == 200  # still serving


def test_a_taken_port_is_a_usage_error(server: ReviewServer, output: Path) -> None:
    with pytest.raises(UsageError, match=f"--port {server.port}: .*already in use"):
        make_server(output, port=server.port)


# ---------------------------------------------------------------------------------------------------
# fontglyphs review
# ---------------------------------------------------------------------------------------------------


def test_help_lists_the_keys() -> None:
    result = CliRunner().invoke(cli, ["review", "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "--reviewer" in result.output and "Shift+A" in result.output


def test_cli_without_a_cleaned_output_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["review", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "run `fontglyphs clean" in result.output and "Traceback" not in result.output


def test_cli_prints_the_url_serves_and_stops_on_ctrl_c(output: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fontglyphs", "review", "-o", str(output), "--reviewer", "ana"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(
            "Reviewing 43 small glyphs (0 already decided) in 1 pages at http://127.0.0.1:"
        )
        url = line.split(" at ")[1].split()[0]
        port = int(url.rsplit(":", 1)[1].strip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/api/page/0")
        payload = json.loads(connection.getresponse().read())
        assert payload["reviewer"] == "ana" and payload["total"] == 43
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Stopped; decisions are in" in out
