"""Stage times of `fontglyphs build` on a font folder, and what a rerun (everything reused) costs.

    python benchmarks/build.py fonts/            # the bundled corpus: target under 60 s on 2 cores
    python benchmarks/build.py fonts/ --no-noise

The baseline measured in the same run is the rerun: every stage is skipped or resumed, so its time is the
fixed cost of checking fingerprints, re-reading the manifests and verifying the exports.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from fontglyphs.build import BuildConfig, build_dataset
from fontglyphs.clean import CleanConfig
from fontglyphs.letters import parse_letters
from fontglyphs.render import RenderConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fonts", nargs="*", default=["fonts"])
    parser.add_argument("--letters", default="A-J")
    parser.add_argument("--no-noise", action="store_true", help="Skip the label-noise model.")
    args = parser.parse_args()
    config = BuildConfig(
        render=RenderConfig(parse_letters(args.letters)), clean=CleanConfig(noise=not args.no_noise)
    )
    out = Path(tempfile.mkdtemp(prefix="fontglyphs-build-"))
    try:
        runs = []
        for name in ("first build", "rerun"):
            started = time.perf_counter()
            result = build_dataset(args.fonts, out, config, progress=False)
            runs.append((name, time.perf_counter() - started, result))
    finally:
        shutil.rmtree(out)
    peak_mb = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    first = runs[0][2]
    print(
        f"fonts: {first.render.fonts_found} files, {first.render.images} images, cpu cores: {os.cpu_count()}"
    )
    print(f"{'run':<12}" + "".join(f"{stage:>10}" for stage in first.seconds) + f"{'total':>10}")
    for name, total, result in runs:
        print(f"{name:<12}" + "".join(f"{sec:>10.1f}" for sec in result.seconds.values()) + f"{total:>10.1f}")
    ratio = runs[1][1] / runs[0][1]
    print(f"rerun / first build: {ratio:.3f}; peak RSS {peak_mb / 1024:.0f} MB; verify ok: {first.ok}")


if __name__ == "__main__":
    main()
