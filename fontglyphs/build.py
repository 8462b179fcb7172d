"""``fontglyphs build``: render -> clean -> export -> verify (-> baseline), then the dataset card.

Each stage leaves a stamp in ``<output>/.build/<stage>.json``: the fingerprint of what it read and the
options it ran with. A stage whose fingerprint is unchanged (and whose outputs are still there) is
skipped, so re-running after an interruption resumes, and a change of fonts or options redoes only the
stages downstream of the change. Rendering resumes per font by itself.

    result = build_dataset(["fonts/"], "output", BuildConfig(render=RenderConfig(("A", "B"))))
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .clean import CleanConfig, CleanResult, clean_dataset
from .errors import FontGlyphsError
from .export import ExportConfig, Written, export_splits
from .export.verify import VerifyReport, verify_exports
from .fonts import file_sha256
from .manifest import MANIFEST_NAME, atomic_write_text
from .render import RenderConfig, RenderSummary, Shard, render_fonts

STAMP_DIR = ".build"
SPLITS = ("small", "large")


@dataclass(frozen=True)
class BuildConfig:
    render: RenderConfig
    clean: CleanConfig = field(default_factory=CleanConfig)
    formats: tuple[str, ...] = ("tar", "mat", "hdf5", "idx", "npz")
    mat_version: str = "auto"
    system: bool = False
    workers: int | None = None
    timeout: float = 10.0
    baseline: bool = False
    train: object | None = None  # a baseline TrainConfig; None means its defaults
    command: str = ""  # the command line, recorded in the dataset card


@dataclass
class BuildResult:
    output_dir: Path
    render: RenderSummary
    clean: dict  # report.json of the clean stage
    exports: list[dict]  # {"path", "split", "format", "bytes", "sha256"} per export file
    verify: VerifyReport
    baseline: dict | None
    seconds: dict[str, float]
    skipped: list[str]

    @property
    def ok(self) -> bool:
        return self.verify.ok

    def text(self) -> str:
        """The final table: fonts, rejects, images per split and class, removals, noise, files."""
        report = self.clean
        letters = report["input"]["letters"]
        lines = [self.render.text(), ""]
        width = max(3, *(len(letter) for letter in letters))
        lines.append("split  " + " ".join(f"{letter:>{width}}" for letter in letters) + "    total")
        for split in SPLITS:
            info = report["splits"][split]
            cells = " ".join(f"{info['per_class'].get(letter, 0):>{width}}" for letter in letters)
            lines.append(f"{split:<6} {cells} {info['images']:>8}")
        removed = ", ".join(f"{flag} {n['flagged']}" for flag, n in report["flags"].items())
        lines.append(f"cleaner flags: {removed or 'none'}")
        for name, estimate in (report.get("noise") or {}).get("splits", {}).items():
            low, high = estimate["rate_interval"]
            lines.append(f"label noise {name}: {estimate['rate']:.2%} (95% {low:.2%}-{high:.2%})")
        lines.append("")
        for item in self.exports:
            lines.append(f"{item['bytes'] / 2**20:8.1f} MiB  {item['sha256'][:16]}  {item['path']}")
        checked = len(self.verify.checks)
        lines.append(f"verify: {checked} exports checked, " + ("all OK" if self.ok else "FAILED (see above)"))
        if self.baseline:
            lines.append(f"baseline: test accuracy {self.baseline['test']['accuracy']:.2%}")
        stages = ", ".join(
            f"{stage} {sec:.1f}s" + (" (skipped)" if stage in self.skipped else "")
            for stage, sec in self.seconds.items()
        )
        lines.append(f"stages: {stages}; card: {self.output_dir / 'README.md'}")
        return "\n".join(lines)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _files_digest(paths: Sequence[Path]) -> list[str]:
    return [file_sha256(p) if p.is_file() else "missing" for p in paths]


class _Stamps:
    """Per-stage fingerprints: a stage reruns only when what it reads or how it runs has changed."""

    def __init__(self, output_dir: Path):
        self.dir = output_dir / STAMP_DIR

    def fresh(self, stage: str, fingerprint: str, outputs: Sequence[Path]) -> bool:
        stamp = self.dir / f"{stage}.json"
        if not stamp.is_file() or not all(p.exists() for p in outputs):
            return False
        return json.loads(stamp.read_text()).get("fingerprint") == fingerprint

    def mark(self, stage: str, fingerprint: str) -> None:
        atomic_write_text(self.dir / f"{stage}.json", json.dumps({"fingerprint": fingerprint}) + "\n")


def build_dataset(
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    config: BuildConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] = lambda line: None,
) -> BuildResult:
    """Run every stage into ``output_dir``, skipping those whose inputs and options are unchanged."""
    output_dir = Path(output_dir)
    stamps = _Stamps(output_dir)
    seconds: dict[str, float] = {}
    skipped: list[str] = []

    started = time.perf_counter()
    log("render: fonts -> glyphs")
    summary = render_fonts(
        inputs,
        output_dir / "glyphs",
        config.render,
        system=config.system,
        workers=config.workers,
        timeout=config.timeout,
        shard=Shard(),
        progress=progress,
    )
    seconds["render"] = time.perf_counter() - started

    started = time.perf_counter()
    review = output_dir / "clean" / "review.csv"
    clean_key = _fingerprint(
        _files_digest([output_dir / "glyphs" / MANIFEST_NAME, review]), config.clean.to_json(), __version__
    )
    report_path = output_dir / "clean" / "report.json"
    split_manifests = [output_dir / split / MANIFEST_NAME for split in SPLITS]
    if stamps.fresh("clean", clean_key, [report_path, *split_manifests]):
        skipped.append("clean")
        log("clean: unchanged, skipped")
    else:
        log("clean: dedup, degenerate fonts, label noise, split")
        result: CleanResult = clean_dataset(
            output_dir / "glyphs", output_dir, config.clean, progress=progress
        )
        stamps.mark("clean", clean_key)
        del result
    clean_report = json.loads(report_path.read_text())
    seconds["clean"] = time.perf_counter() - started

    started = time.perf_counter()
    export_dir = output_dir / "export"
    export_key = _fingerprint(_files_digest(split_manifests), config.formats, config.mat_version, __version__)
    if stamps.fresh("export", export_key, [export_dir / "SHA256SUMS"]):
        skipped.append("export")
        log("export: unchanged, skipped")
    else:
        log(f"export: {', '.join(config.formats)}")
        export_config = ExportConfig(
            formats=config.formats,
            splits=SPLITS,
            output_dir=output_dir,
            force=True,
            mat_version=config.mat_version,
            progress=progress,
        )
        written: list[Written] = export_splits(export_config)
        del written
        stamps.mark("export", export_key)
    exports = _export_files(export_dir)
    seconds["export"] = time.perf_counter() - started

    started = time.perf_counter()
    log("verify: re-read every export")
    verified = verify_exports(export_dir)
    seconds["verify"] = time.perf_counter() - started

    baseline_metrics = None
    if config.baseline:
        started = time.perf_counter()
        baseline_metrics = _baseline(output_dir, config, split_manifests, stamps, skipped, log)
        seconds["baseline"] = time.perf_counter() - started

    result = BuildResult(
        output_dir, summary, clean_report, exports, verified, baseline_metrics, seconds, skipped
    )
    from .card import write_dataset_card

    write_dataset_card(result, config)
    return result


def _export_files(export_dir: Path) -> list[dict]:
    sums_path = export_dir / "SHA256SUMS"
    if not sums_path.is_file():
        raise FontGlyphsError(f"{sums_path}: missing after export")
    files = []
    for line in sums_path.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        name = name.lstrip("*")
        path = export_dir / name
        files.append({"path": str(path), "name": name, "bytes": path.stat().st_size, "sha256": digest})
    return files


def _baseline(output_dir, config, split_manifests, stamps, skipped, log) -> dict:
    from .baseline.run import run_baseline
    from .baseline.train import TrainConfig

    train_config = config.train or TrainConfig()
    key = _fingerprint(_files_digest(split_manifests), asdict(train_config), __version__)
    metrics_path = output_dir / "baseline" / "build" / "metrics.json"
    if stamps.fresh("baseline", key, [metrics_path]):
        skipped.append("baseline")
        log("baseline: unchanged, skipped")
    else:
        log("baseline: train on large, test on small")
        run_baseline("large", "small", train_config, str(output_dir), run_name="build")
        stamps.mark("baseline", key)
    return json.loads(metrics_path.read_text())
