"""What the review page shows and accepts: the glyphs of one split, ordered suspects first, in pages.

A :class:`ReviewSession` reads the cleaner's outputs once (manifest, out-of-fold predictions, earlier
decisions), fixes the page order for the whole session, and validates and saves every decision. It knows
nothing about HTTP, so the ordering and validation rules are tested without a server::

    session = ReviewSession.load("output", split="small", reviewer="ana")
    session.page_payload(0)                      # JSON-ready dict of the first page
    session.apply({"decisions": [{"key": "Zm9v", "letter": "A", "decision": "accept"}]})
"""

from __future__ import annotations

import csv
import math
import os
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import DatasetError, FontGlyphsError, UsageError
from ..manifest import MANIFEST_NAME, GlyphRecord, read_manifest
from .decisions import REVIEW_NAME, Decision, DecisionMap, check_decision, read_decisions, save_decisions

PREDICTIONS_NAME = "predictions.csv"
GROUPINGS = ("font", "letter")
DEFAULT_PAGE_SIZE = 100
MAX_BATCH = 10_000
IMAGE_ROUTE = "/glyphs/"

# How strongly a cleaner flag suggests a person should look: label noise first, then duplicates, then
# degenerate fonts; any flag not listed here weighs 1, and the review's own flag nothing.
FLAG_WEIGHTS = {
    "label-noise-suspect": 4,
    "label-conflict": 4,
    "near-duplicate": 3,
    "exact-duplicate": 3,
    "leak": 3,
    "blank": 2,
    "solid": 2,
    "notdef-box": 2,
    "font-identical-letters": 2,
    "letters-identical": 2,
    "symbol-font": 2,
    "review": 0,
}
PREDICTION_COLUMNS = ("path", "label", "predicted", "confidence", "suspect_score")


class ReviewRequestError(FontGlyphsError):
    """A request the review server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Prediction:
    """The out-of-fold model's view of one image (``predicted`` is a class index)."""

    predicted: int
    confidence: float
    suspect_score: float


@dataclass(frozen=True)
class Group:
    """Tiles shown together under one heading: one font's letters, or one letter's images on a page."""

    title: str
    subtitle: str
    records: tuple[GlyphRecord, ...]


def read_predictions(path: str | os.PathLike) -> dict[str, Prediction]:
    """Predictions by image path; a missing file means no model guesses are shown."""
    path = Path(path)
    if not path.is_file():
        return {}
    predictions = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(PREDICTION_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            names = ", ".join(sorted(missing))
            raise DatasetError(f"{path}: not a predictions file (missing columns: {names})")
        for line_number, row in enumerate(reader, start=2):
            try:
                predicted, confidence = int(row["predicted"]), float(row["confidence"])
                prediction = Prediction(predicted, confidence, float(row["suspect_score"]))
            except (TypeError, ValueError) as error:
                raise DatasetError(f"{path}:{line_number}: malformed row ({error})") from None
            predictions[row["path"]] = prediction
    return predictions


def flag_weight(record: GlyphRecord) -> int:
    return max((FLAG_WEIGHTS.get(flag, 1) for flag in record.flag_list()), default=0)


def suspicion_key(record: GlyphRecord, prediction: Prediction | None) -> tuple:
    """Sort key, most suspicious first: flag weight, then label-noise score, then model disagreement."""
    score = prediction.suspect_score if prediction and math.isfinite(prediction.suspect_score) else -math.inf
    disagrees = prediction is not None and prediction.predicted != record.label
    return (-flag_weight(record), -score, not disagrees, record.label, record.key)


def _font_title(record: GlyphRecord) -> str:
    parts = [record.family or "(no family)", record.style, record.instance]
    return " ".join(part for part in parts if part)


def order_pages(
    records: Sequence[GlyphRecord],
    predictions: dict[str, Prediction],
    decided: set[tuple[str, str]],
    by: str,
    page_size: int,
) -> list[tuple[Group, ...]]:
    """Pages of groups, suspects first and already-decided images last, so a re-opened review resumes.

    By font, a page holds whole fonts (about ``page_size`` tiles), each font ranked by its most suspicious
    letter and shown in label order, so a wrong or symbol font reads as one odd row. By letter, images are
    ranked one by one, cut into pages of ``page_size``, and grouped by letter within a page, so the odd
    one out stands beside its look-alikes.
    """
    if by not in GROUPINGS:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(GROUPINGS)}")
    ranked = sorted(records, key=lambda r: suspicion_key(r, predictions.get(r.path)))
    ranked.sort(key=lambda r: (r.key, r.letter) in decided)  # stable: keeps suspicion order within each part
    if by == "letter":
        return [_letter_groups(ranked[i : i + page_size]) for i in range(0, len(ranked), page_size)]
    fonts: dict[str, list[GlyphRecord]] = {}
    for record in ranked:
        fonts.setdefault(record.key, []).append(record)
    groups = [
        Group(_font_title(rows[0]), rows[0].key, tuple(sorted(rows, key=lambda r: r.label)))
        for rows in fonts.values()
    ]
    groups.sort(key=lambda g: all((r.key, r.letter) in decided for r in g.records))
    return _fill_pages(groups, page_size)


def _letter_groups(records: Sequence[GlyphRecord]) -> tuple[Group, ...]:
    by_letter: dict[int, list[GlyphRecord]] = {}
    for record in records:
        by_letter.setdefault(record.label, []).append(record)
    return tuple(
        Group(rows[0].letter, f"{len(rows)} image{'s' * (len(rows) != 1)}", tuple(rows))
        for _, rows in sorted(by_letter.items())
    )


def _fill_pages(groups: Sequence[Group], page_size: int) -> list[tuple[Group, ...]]:
    pages: list[list[Group]] = []
    tiles = page_size
    for group in groups:
        if tiles + len(group.records) > page_size:
            pages.append([])
            tiles = 0
        pages[-1].append(group)
        tiles += len(group.records)
    return [tuple(page) for page in pages]


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReviewSession:
    """The state one review server shares between its request threads (guarded by a lock)."""

    def __init__(
        self,
        output_dir: Path,
        split: str,
        records: Sequence[GlyphRecord],
        predictions: dict[str, Prediction],
        decisions: DecisionMap,
        *,
        reviewer: str = "",
        by: str = "font",
        page_size: int = DEFAULT_PAGE_SIZE,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        if page_size < 1:
            raise UsageError(f"--page-size {page_size}: must be at least 1")
        self.output_dir = output_dir
        self.glyph_root = output_dir / "glyphs"
        self.review_path = output_dir / "clean" / REVIEW_NAME
        manifest = output_dir / "clean" / MANIFEST_NAME
        self.split = split
        self.reviewer = reviewer
        self.by = by
        self.clock = clock
        self.letters = _letters_by_label(records, manifest)
        self.predictions = predictions
        self.shown = {(r.key, r.letter): r for r in records if r.split == split and r.status == "ok"}
        if not self.shown:
            raise DatasetError(f"{manifest}: no images in split {split!r} to review")
        self.image_paths = {r.path for r in self.shown.values()}
        self.decisions = dict(decisions)
        self.pages = order_pages(list(self.shown.values()), predictions, set(self.decisions), by, page_size)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, output_dir: str | os.PathLike, split: str = "small", **options) -> ReviewSession:
        """Read the cleaner's outputs under ``output_dir`` (``clean/manifest.csv`` must exist)."""
        output_dir = Path(output_dir)
        clean = output_dir / "clean"
        manifest = clean / MANIFEST_NAME
        if not manifest.is_file():
            raise DatasetError(f"{manifest}: no such file; run `fontglyphs clean -o {output_dir}` first")
        records = read_manifest(manifest)
        predictions = read_predictions(clean / PREDICTIONS_NAME)
        labels = {r.label for r in records}
        for path, prediction in predictions.items():
            if prediction.predicted not in labels:
                raise DatasetError(
                    f"{clean / PREDICTIONS_NAME}: {path} has predicted class {prediction.predicted}, "
                    "which no image in the manifest has"
                )
        return cls(output_dir, split, records, predictions, read_decisions(clean / REVIEW_NAME), **options)

    # ---- reading ---------------------------------------------------------------------------------

    def decided_count(self) -> int:
        return sum(1 for pair in self.shown if pair in self.decisions)

    def page_payload(self, number: int) -> dict:
        if not 0 <= number < len(self.pages):
            raise ReviewRequestError(f"no page {number}; pages are 0 to {len(self.pages) - 1}", 404)
        with self._lock:
            groups = [
                {"title": g.title, "subtitle": g.subtitle, "items": [self._item(r) for r in g.records]}
                for g in self.pages[number]
            ]
            decided = self.decided_count()
        return {
            "page": number,
            "pages": len(self.pages),
            "by": self.by,
            "split": self.split,
            "reviewer": self.reviewer,
            "letters": list(self.letters.values()),
            "total": len(self.shown),
            "decided": decided,
            "groups": groups,
        }

    def _item(self, record: GlyphRecord) -> dict:
        prediction = self.predictions.get(record.path)
        decision = self.decisions.get((record.key, record.letter))
        return {
            "key": record.key,
            "letter": record.letter,
            "label": record.label,
            # The pixel hash in the query busts the browser cache exactly when the image changes.
            "url": f"{IMAGE_ROUTE}{urllib.parse.quote(record.path)}?v={record.pixel_sha256[:16]}",
            "family": record.family,
            "style": record.style,
            "flags": record.flag_list(),
            "guess": self.letters[prediction.predicted] if prediction else None,
            "confidence": prediction.confidence if prediction else None,
            "score": prediction.suspect_score if prediction else None,
            "decision": decision.decision if decision else None,
            "new_letter": decision.new_letter if decision else "",
        }

    def image_file(self, relative: str) -> Path:
        """The file of a shown image; anything else, or anything resolving outside the glyph folder: 404."""
        if relative not in self.image_paths:
            raise ReviewRequestError(f"no image {relative!r} in split {self.split!r}", 404)
        root = self.glyph_root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or path.suffix.lower() != ".png" or not path.is_file():
            raise ReviewRequestError(f"no image {relative!r} under {self.glyph_root}", 404)
        return path

    # ---- writing ---------------------------------------------------------------------------------

    def apply(self, body: object) -> dict:
        """Validate a ``{"decisions": [...]}`` request in full, then record all of it or nothing."""
        if not isinstance(body, dict) or set(body) != {"decisions"} or type(body["decisions"]) is not list:
            raise ReviewRequestError('expected a JSON object {"decisions": [...]}')
        entries = body["decisions"]
        if not 1 <= len(entries) <= MAX_BATCH:
            raise ReviewRequestError(f"expected 1 to {MAX_BATCH} decisions, got {len(entries)}")
        time = self.clock()
        new = [self._decision(entry, time) for entry in entries]
        with self._lock:
            merged = dict(self.decisions)
            merged.update({(d.key, d.letter): d for d in new})
            save_decisions(self.review_path, merged)
            self.decisions = merged
            decided = self.decided_count()
        return {"saved": len(new), "decided": decided, "total": len(self.shown)}

    def _decision(self, entry: object, time: str) -> Decision:
        allowed = {"key", "letter", "decision", "new_letter"}
        if not isinstance(entry, dict) or not {"key", "letter", "decision"} <= set(entry) <= allowed:
            raise ReviewRequestError(
                f"a decision needs key, letter, decision (and new_letter), got {entry!r:.200}"
            )
        if not all(isinstance(value, str) for value in entry.values()):
            raise ReviewRequestError(f"decision fields must be strings, got {entry!r:.200}")
        decision = Decision(
            entry["key"], entry["letter"], entry["decision"], entry.get("new_letter", ""), self.reviewer, time
        )
        if (decision.key, decision.letter) not in self.shown:
            raise ReviewRequestError(f"no image {decision.key!r}/{decision.letter!r} in split {self.split!r}")
        problem = check_decision(decision)
        if problem:
            raise ReviewRequestError(problem)
        if decision.new_letter and decision.new_letter not in self.letters.values():
            raise ReviewRequestError(
                f"new_letter {decision.new_letter!r} is not one of the dataset's letters "
                f"({''.join(self.letters.values())})"
            )
        return decision


def _letters_by_label(records: Sequence[GlyphRecord], manifest: Path) -> dict[int, str]:
    letters: dict[int, str] = {}
    for record in records:
        if letters.setdefault(record.label, record.letter) != record.letter:
            raise DatasetError(
                f"{manifest}: label {record.label} is both {letters[record.label]!r} and {record.letter!r}"
            )
    return dict(sorted(letters.items()))
