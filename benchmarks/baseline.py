"""Benchmark the baseline CNN against the MLP reference, both trained in this run on the same data.

Prints, for each model: test and validation accuracy, training seconds, images/s and wall seconds; then
the CNN's ratios against the MLP (test error, training time) and whether the issue's targets are met:

    CPU, default config: >= 97.0% test accuracy, the whole run (load, train, test, reports) within 600 s
    GPU, default config: >= 98.5% test accuracy with under 60 s of training

Usage::

    python benchmarks/baseline.py --train large --test small               # GPU if present, else CPU
    python benchmarks/baseline.py --train large --test small --device cpu --time-budget 540
"""

from __future__ import annotations

import argparse
import os
import time

TARGETS = {  # device type: (least test accuracy, most seconds, what the seconds measure)
    "cpu": (0.970, 600.0, "wall"),
    "cuda": (0.985, 60.0, "train"),
}


def run_one(args: argparse.Namespace, model: str) -> dict:
    from fontglyphs.baseline import TrainConfig, run_baseline
    from fontglyphs.baseline.data import source_name

    config = TrainConfig(
        model=model,
        device=args.device,
        epochs=args.epochs,
        seed=args.seed,
        time_budget=args.time_budget,
        compile=args.compile,
        threads=args.threads,
        quiet=not args.progress,
    )
    name = f"bench-{model}-{source_name(args.train)}-{source_name(args.test)}-seed{args.seed}"
    start = time.perf_counter()
    result = run_baseline(args.train, args.test, config, output_dir=args.output, run_name=name)
    metrics = result.metrics
    training = metrics["training"]
    return {
        "model": model,
        "device": metrics["device"],
        "test": metrics["test"]["accuracy"],
        "val": metrics["validation"]["accuracy"],
        "epochs": training["epochs_completed"],
        "train_s": training["train_seconds"],
        "images_s": training["images_per_second"],
        "wall_s": time.perf_counter() - start,
        "train_images": metrics["train"]["images"] - metrics["validation"]["images"],
        "test_images": metrics["test"]["images"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default="large")
    parser.add_argument("--test", default="small")
    parser.add_argument("--output", default="output")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=None, help="default: the device's default config")
    parser.add_argument("--time-budget", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--progress", action="store_true", help="show the progress bars")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `fontglyphs baseline` does, before torch loads

    rows = [run_one(args, "mlp"), run_one(args, "cnn")]
    mlp, cnn = rows
    print(
        f"train {args.train} ({cnn['train_images']} images after the validation hold-out), "
        f"test {args.test} ({cnn['test_images']} images), device {cnn['device']}"
    )
    print(
        f"{'model':<6}{'test acc':>10}{'val acc':>10}{'epochs':>8}{'train s':>10}{'img/s':>11}{'wall s':>9}"
    )
    for row in rows:
        print(
            f"{row['model']:<6}{row['test']:>10.2%}{row['val']:>10.2%}{row['epochs']:>8.2f}"
            f"{row['train_s']:>10.1f}{row['images_s']:>11.0f}{row['wall_s']:>9.1f}"
        )
    error_ratio = (1 - cnn["test"]) / (1 - mlp["test"]) if mlp["test"] < 1 else float("nan")
    print(f"cnn/mlp: test error x{error_ratio:.2f}, training time x{cnn['train_s'] / mlp['train_s']:.2f}")
    least, most, clock = TARGETS["cuda" if cnn["device"].startswith("cuda") else "cpu"]
    seconds = cnn["wall_s"] if clock == "wall" else cnn["train_s"]
    met = cnn["test"] >= least and seconds <= most
    print(
        f"target: test accuracy >= {least:.1%} within {most:.0f} s of {clock} time: "
        f"{cnn['test']:.2%} in {seconds:.1f} s -> {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
