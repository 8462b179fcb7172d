"""End to end in a real browser: headless Chromium reviews glyphs with the keyboard and the mouse.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; skipped with the reason
when any is missing. ``FONTGLYPHS_REVIEW_SCREENSHOTS=docs/img`` also writes the README screenshots.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fontfactory import build_font
from PIL import Image, ImageDraw, ImageFont
from test_review import LETTERS, FixtureFont, build_output, running

from fontglyphs.clean import CleanConfig, clean_dataset
from fontglyphs.letters import parse_letters
from fontglyphs.manifest import read_manifest, write_manifest
from fontglyphs.render import RenderConfig, render_fonts
from fontglyphs.review.decisions import Decision, read_decisions, reviewed_error_estimate, write_decision
from fontglyphs.review.server import ReviewServer, make_server

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install selenium)"
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """One Chromium for the module (it takes a second or two to start); each test has its own server."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")


def press(driver: webdriver.Chrome, *keys: str) -> None:
    webdriver.ActionChains(driver).send_keys(*keys).perform()


def selected(driver: webdriver.Chrome) -> tuple[str, str]:
    tile = driver.find_element(By.CSS_SELECTOR, ".tile.selected")
    return tile.get_attribute("data-key"), tile.get_attribute("data-letter")


def decision_of(path: Path, key: str, letter: str) -> Callable[[], Decision | None]:
    def current() -> Decision | None:
        return read_decisions(path).get((key, letter))

    current.__doc__ = f"a decision for {key}/{letter} in {path}"
    return current


def open_page(driver: webdriver.Chrome, server: ReviewServer) -> None:
    driver.get(server.url)
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".tile.selected"))


def test_review_a_page_with_the_keyboard_and_the_mouse(browser: webdriver.Chrome, tmp_path: Path) -> None:
    output = build_output(tmp_path)
    review = output / "clean" / "review.csv"
    with running(make_server(output, reviewer="e2e", page_size=20)) as server:
        open_page(browser, server)
        assert browser.find_element(By.ID, "pager").text == "page 1 of 3"
        images = browser.find_elements(By.CSS_SELECTOR, ".tile img")
        assert len(images) == 20
        wait_for(
            lambda: all(browser.execute_script("return arguments[0].naturalWidth", i) == 28 for i in images)
        )

        # the mislabelled A (a B drawn as A) comes first and is selected: reject it with one key
        assert selected(browser) == ("d3JvbmdhYg", "A")
        press(browser, "w")
        assert wait_for(decision_of(review, "d3JvbmdhYg", "A")).decision == "wrong-letter"
        assert read_decisions(review)["d3JvbmdhYg", "A"].reviewer == "e2e"

        # the selection moved on; relabel B as C by typing the letter
        assert selected(browser) == ("d3JvbmdhYg", "B")
        press(browser, "r")
        assert browser.find_element(By.ID, "relabel").is_displayed()
        press(browser, "c")
        relabel = wait_for(decision_of(review, "d3JvbmdhYg", "B"))
        assert (relabel.decision, relabel.new_letter) == ("relabel", "C")
        assert not browser.find_element(By.ID, "relabel").is_displayed()

        # down goes to the same letter of the next font; l and h move along the row
        press(browser, Keys.ARROW_DOWN, "l", "h")
        assert selected(browser) == ("bmVhcmR1cA", "C")
        press(browser, "d")
        assert wait_for(decision_of(review, "bmVhcmR1cA", "C")).decision == "duplicate"

        # Shift+A accepts everything left on the page and turns it
        press(browser, Keys.SHIFT + "A")
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "1")
        decisions = read_decisions(review)
        assert len(decisions) == 20
        assert sorted(d.decision for d in decisions.values()).count("accept") == 17
        assert browser.find_element(By.ID, "counts").text == "20 / 43 reviewed"

        # the mouse: pick a tile, press a button
        tile = browser.find_elements(By.CSS_SELECTOR, ".tile")[4]
        key, letter = tile.get_attribute("data-key"), tile.get_attribute("data-letter")
        tile.click()
        browser.find_element(By.CSS_SELECTOR, 'button[data-action="not-a-letter"]').click()
        assert wait_for(decision_of(review, key, letter)).decision == "not-a-letter"
        assert tile.get_attribute("data-decision") == "not-a-letter"

        # space turns the page, PageUp goes back, and the decisions are still shown
        press(browser, " ")
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "2")
        press(browser, Keys.PAGE_UP, Keys.PAGE_UP)
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "0")
        badge = browser.find_element(By.CSS_SELECTOR, '.tile[data-key="d3JvbmdhYg"][data-letter="B"] .badge')
        assert badge.text == "\u2192 C"

    small = [r for r in read_manifest(output / "clean" / "manifest.csv") if r.split == "small"]
    estimate = reviewed_error_estimate(read_decisions(review), small)
    assert (estimate["reviewed"], estimate["label_errors"], estimate["overruled"]) == (21, 3, 4)


def test_a_refused_decision_is_reported_and_undone_on_the_page(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    output = build_output(tmp_path)
    with running(make_server(output, page_size=20)) as server:
        open_page(browser, server)
        (output / "clean" / "review.csv").mkdir()  # the file cannot be written now
        press(browser, "n")
        toast = browser.find_element(By.ID, "toast")
        wait_for(lambda: "Not saved" in toast.text)
        first = browser.find_element(By.CSS_SELECTOR, ".tile")
        wait_for(lambda: first.get_attribute("data-decision") is None)


def test_a_rejection_in_the_browser_changes_the_next_clean(browser: webdriver.Chrome, tmp_path: Path) -> None:
    """The whole loop: render, clean, reject a small glyph on the page, clean again, read the report."""
    for index in range(8):
        build_font(tmp_path / "fonts" / f"f{index}.ttf", family=f"Family {index}", cell=90 + 5 * index)
    output = tmp_path / "output"
    render_fonts(
        [tmp_path / "fonts"], output / "glyphs", RenderConfig(parse_letters("A-J")), workers=1, progress=False
    )
    config = CleanConfig(noise=False, small_fraction=0.5)
    clean_dataset(output / "glyphs", output, config)
    with running(make_server(output, reviewer="e2e")) as server:
        open_page(browser, server)
        key, letter = selected(browser)
        press(browser, "n")
        wait_for(decision_of(output / "clean" / "review.csv", key, letter))

    clean_dataset(output / "glyphs", output, config)
    review = json.loads((output / "clean" / "report.json").read_text())["review"]
    assert (review["reviewed"], review["overruled"], review["label_errors"], review["rejected"]) == (
        1,
        1,
        1,
        1,
    )
    [record] = [
        r for r in read_manifest(output / "clean" / "manifest.csv") if (r.key, r.letter) == (key, letter)
    ]
    assert record.split != "small" and "review" in record.flag_list()
    assert not (output / "small" / letter / f"{key}.png").exists()


# ---------------------------------------------------------------------------------------------------
# Screenshots for docs/review.md (only with FONTGLYPHS_REVIEW_SCREENSHOTS=<folder>)
# ---------------------------------------------------------------------------------------------------

SCREENSHOTS = os.environ.get("FONTGLYPHS_REVIEW_SCREENSHOTS")


def stretched(letter: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    """notMNIST's look: the letter's ink box stretched over the whole 28x28 frame."""
    canvas = Image.new("L", (256, 256))
    ImageDraw.Draw(canvas).text((40, 20), letter, fill=255, font=font)
    box = canvas.getbbox()
    return np.asarray(canvas.crop(box).resize((28, 28), Image.BOX)) if box else np.zeros((28, 28), np.uint8)


def real_font_output(root: Path, font_files: list[Path]) -> Path:
    """The fixture folder with its dot-matrix images replaced by letters of real fonts."""
    names = [(f.stem.split("-", 1) + ["Regular"])[:2] for f in font_files]
    fonts = [
        FixtureFont(hashlib.sha256(str(f).encode()).hexdigest()[:10], *name)
        for f, name in zip(font_files, names, strict=True)
    ]
    fonts[1].draw["A"] = "B"
    fonts[1].flags["A"] = "label-noise-suspect"
    fonts[3].flags["*"] = "near-duplicate"
    output = build_output(root, fonts)
    records = read_manifest(output / "clean" / "manifest.csv")
    for record in records:
        font = next(f for f in fonts if f.key == record.key)
        face = ImageFont.truetype(str(font_files[fonts.index(font)]), 180)
        Image.fromarray(stretched(font.draw.get(record.letter, record.letter), face), "L").save(
            output / "glyphs" / record.path
        )
    write_manifest(output / "clean" / "manifest.csv", records)
    return output


@pytest.mark.skipif(
    not SCREENSHOTS, reason="set FONTGLYPHS_REVIEW_SCREENSHOTS=docs/img to refresh the screenshots"
)
def test_screenshots(browser: webdriver.Chrome, tmp_path: Path) -> None:
    font_files = sorted(Path("/usr/share/fonts").rglob("*.ttf"))
    font_files = font_files[:: max(1, len(font_files) // 12)][:12]
    if len(font_files) < 6:
        pytest.skip("needs at least 6 TrueType fonts under /usr/share/fonts")
    output = real_font_output(tmp_path, font_files)
    review = output / "clean" / "review.csv"
    for index, letter in enumerate(LETTERS[:4]):
        key = read_manifest(output / "clean" / "manifest.csv")[index * 3].key
        write_decision(review, Decision(key, letter, "accept"))
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    # by letter first, while the suspects are still undecided and so come first
    for by, name in [("letter", "review-by-letter.png"), ("font", "review.png")]:
        with running(make_server(output, by=by, reviewer="ana", page_size=60)) as server:
            open_page(browser, server)
            # by font: the A that shows a B gets relabelled, a near-duplicate rejected; by letter: a move
            press(browser, *(["r", "b", "j", "d"] if by == "font" else ["l", "l"]))
            time.sleep(0.3)
            browser.save_screenshot(str(folder / name))
