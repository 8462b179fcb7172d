"""Train and evaluate the fontglyphs baseline: a small ResNet (or an MLP reference) on glyph images.

In the style of cifar10-airbench: one file, banner-comment sections, one nested hyperparameter dict with
units in comments, and each speed trick a small named function with a one-line why. Unlike airbench it is
a library: ``train(config, train_set, val_set) -> (model, history)`` and ``evaluate(model, images, labels)``
run on CPU with tiny data in the tests, and on one or many GPUs (torchrun) in earnest.

Evidence (benchmarks/baseline.py, torch 2.13, AMD EPYC with 2 cores shared with other jobs, load ~8):
    bundled corpus (fonts/, 567 files) rendered and cleaned: large 4,272 images of 256 families, small 167.
    CPU default config (bf16, 2 threads): CNN 97.6% test (4 errors), 94.4% on held-out validation
    families, 382 s for the whole run; the MLP reference 93.4% test, 89.8% validation, 25 s.
    A proxy (501 faces, 138 families of Debian font packages, 1,110 test images): CNN 99.5-99.7%, MLP
    99.7%; 403 images/s on 1 thread; --time-budget 60 stopped at 8.3 epochs with lr annealed to 0.
    GPU: not measured (no GPU was available): python benchmarks/baseline.py --device cuda [--compile]
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DatasetError, UsageError

# ---------------------------------------------------------------------------------------------------
#                                     Hyperparameters
# ---------------------------------------------------------------------------------------------------
# Learning rates are per 256 images and scaled linearly with the global batch size, so that changing
# --batch-size (or the number of processes) keeps the same schedule per image seen. Weight decay is
# PyTorch SGD's (multiplied by the learning rate) and applies to conv/linear weights only, never to
# batch-norm scales or biases. The CUDA entry overrides the CPU one where a GPU can afford more.

HYP: dict[str, dict[str, Any]] = {
    "cpu": {
        "opt": {
            "lr": 0.2,  # peak SGD learning rate per 256 images
            "momentum": 0.9,  # Nesterov momentum
            "weight_decay": 5e-4,  # L2 coefficient, times the learning rate at each step
            "label_smoothing": 0.1,  # fraction of the target mass spread evenly over all classes
            "warmup": 0.2,  # fraction of training spent ramping the learning rate up (one-cycle)
            "batch_size": 256,  # images per step, summed over all processes (at most; see min_steps)
            "min_steps": 400,  # fewest optimizer steps per run: small sets get smaller batches (down to 32)
        },
        "aug": {
            "translate": 0.08,  # largest shift, fraction of the image side (0.08 of 28 px = 2.2 px)
            "rotate": 8.0,  # largest rotation, degrees
            "scale": 0.1,  # largest zoom in or out, fraction of the size
            "shear": 0.15,  # largest horizontal shear, tan(angle)
        },
        "net": {
            "cnn": {"widths": (16, 32, 64, 128)},  # channels of the stem, then of each halving stage
            "mlp": {"hidden": (1024, 512), "dropout": 0.2},  # units per hidden layer; dropout probability
        },
        "epochs": 10,  # passes over the training images (fewer if the time budget runs out first)
        "time_budget": 540.0,  # seconds of training (validation included) at most; None: no limit
        "val_fraction": 0.1,  # fraction of the training font families held out for validation
        "eval_batch_size": 1024,  # images per forward pass when evaluating
        "bf16": "auto",  # bf16 autocast: True, False, or "auto" (where the CPU has native bf16 dot products)
        "channels_last": True,  # NHWC convolutions: faster in oneDNN as well as in cuDNN
        "deterministic": True,  # deterministic kernels: free on CPU
    },
    "cuda": {
        "opt": {"batch_size": 1024, "lr": 0.2},
        "net": {"cnn": {"widths": (32, 64, 128, 256)}},
        "epochs": 16,
        "time_budget": None,
        "eval_batch_size": 4096,
        "bf16": True,
        "deterministic": False,  # cuDNN autotuning instead: faster, but not bit-reproducible
    },
}

MODELS = ("cnn", "mlp")


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


@dataclass(frozen=True)
class TrainConfig:
    """What a user chooses; everything else comes from ``HYP`` for the device (``hyp`` overrides it)."""

    model: str = "cnn"
    device: str = "auto"  # "auto", "cpu", "cuda" or an explicit torch device such as "cuda:1"
    epochs: int | None = None  # None: HYP[device]["epochs"]
    batch_size: int | None = None  # None: HYP[device]["opt"]["batch_size"]
    seed: int = 0
    time_budget: float | None = None  # None: HYP[device]["time_budget"]; math.inf: no limit
    compile: bool = False  # torch.compile the model (worth it on GPU for long runs)
    quiet: bool = False  # no progress bars
    threads: int | None = None  # CPU threads per process; None: all cores, split between local processes
    hyp: dict = field(default_factory=dict)  # nested overrides of HYP, e.g. {"aug": {"rotate": 0.0}}

    def hyperparameters(self, device_type: str) -> dict:
        """The full hyperparameter dict this config trains with on ``device_type``."""
        if self.model not in MODELS:
            raise UsageError(f"--model {self.model!r}: expected one of {', '.join(MODELS)}")
        hyp = _merge(HYP["cpu"], HYP["cuda"]) if device_type == "cuda" else copy.deepcopy(HYP["cpu"])
        hyp = _merge(hyp, self.hyp)
        if self.epochs is not None:
            hyp["epochs"] = self.epochs
        if self.time_budget is not None:
            hyp["time_budget"] = None if math.isinf(self.time_budget) else float(self.time_budget)
        if self.batch_size is not None:  # a batch size asked for is used as it is
            hyp["opt"].update(batch_size=self.batch_size, min_steps=0)
        if hyp["bf16"] == "auto":
            hyp["bf16"] = device_type == "cuda" or cpu_has_fast_bf16()
        return hyp


# ---------------------------------------------------------------------------------------------------
#                                     Device and processes
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the processes torchrun started (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``--device``: "auto" is CUDA when present; CUDA asked for but absent is a
    usage error (one line, exit code 2), not a traceback."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        build = f"torch {torch.__version__} " + (
            "has no CUDA support" if torch.version.cuda is None else "sees no GPU"
        )
        raise UsageError(f"--device {name}: CUDA is not available ({build}); use --device cpu or auto")
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"--device {name}: expected auto, cpu or cuda")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def processes_from_env() -> Processes:
    """The rank layout torchrun exports (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE)."""
    env = os.environ
    return Processes(
        rank=int(env.get("RANK", "0")),
        world_size=int(env.get("WORLD_SIZE", "1")),
        local_rank=int(env.get("LOCAL_RANK", "0")),
        local_world_size=int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", "1"))),
    )


@contextlib.contextmanager
def distributed(device: torch.device) -> Iterator[Processes]:
    """Join torchrun's process group for the duration (NCCL between GPUs, gloo between CPU processes)."""
    procs = processes_from_env()
    if procs.world_size == 1 or torch.distributed.is_initialized():
        yield procs
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield procs
        # Leave together: a gloo process whose peer tears the group down while it still runs (rank 0
        # writing the reports) can abort in its destructor ("terminate called without an active exception").
        torch.distributed.barrier()
    finally:
        torch.distributed.destroy_process_group()


def current_processes() -> Processes:
    if not torch.distributed.is_initialized():
        return Processes()
    procs = processes_from_env()
    return replace(procs, rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size())


def _from_rank0(value: float, device: torch.device) -> float:
    """Every process takes rank 0's value, so that all stop (and anneal) at the same step."""
    if not torch.distributed.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.broadcast(tensor, src=0)
    return float(tensor.item())


def _sum_over_processes(values: torch.Tensor) -> torch.Tensor:
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(values)
    return values


# ---------------------------------------------------------------------------------------------------
#                                     Speed tricks
# ---------------------------------------------------------------------------------------------------


def use_all_cores(procs: Processes, threads: int | None) -> None:
    # torch's default may leave cores idle; CPU processes on one machine split the cores between them.
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // procs.local_world_size))


def use_fast_cuda_kernels(hyp: dict) -> None:
    # TF32 matmuls and cuDNN autotuning: free speed on Ampere and later, at the cost of bit-reproducibility.
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = not hyp["deterministic"]


@contextlib.contextmanager
def torch_settings(device: torch.device, config: TrainConfig, hyp: dict, procs: Processes) -> Iterator[None]:
    """Apply the speed/determinism settings for one training run and restore torch's global state after."""
    saved = (
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    try:
        if device.type == "cpu":
            use_all_cores(procs, config.threads)
        else:
            use_fast_cuda_kernels(hyp)
        torch.use_deterministic_algorithms(hyp["deterministic"], warn_only=True)
        yield
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1], warn_only=saved[2])
        torch.backends.cudnn.benchmark = saved[3]
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[4:]


def resident_uint8(images: np.ndarray, device: torch.device) -> torch.Tensor:
    # The whole split lives on the device as uint8 (a quarter of float32's memory); batches are gathered
    # by index there, so no DataLoader workers and no host-to-device copy per step.
    return torch.from_numpy(np.ascontiguousarray(images)).to(device)


def to_float_batch(images_u8: torch.Tensor, channels_last: bool) -> torch.Tensor:
    # Converting uint8 after the gather moves 4x fewer bytes than storing floats; ink 255 -> 1.0.
    # No mean/std normalisation: the first layer of both models is followed by batch norm, which absorbs it.
    x = images_u8.unsqueeze(1).float().mul_(1.0 / 255.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def cpu_has_fast_bf16() -> bool:
    # AVX512-BF16 (or AMX) multiplies bf16 natively: 1.6x fp32's training speed measured on an AMD EPYC
    # (Zen 4); without it oneDNN emulates bf16 and is slower than fp32.
    return bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    # bf16 halves memory traffic and uses tensor cores; unlike fp16 it needs no loss scaling.
    return torch.autocast(device.type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def maybe_compile(model: nn.Module, enabled: bool) -> nn.Module:
    # torch.compile fuses conv+BN+ReLU chains; it costs tens of seconds once, so it is opt-in (--compile).
    return torch.compile(model) if enabled else model


def warm_up(
    net: nn.Module,
    model: nn.Module,
    batch: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device,
    hyp: dict,
) -> float:
    """Run two untimed forward/backward passes of ``net`` (compilation, cuDNN autotuning), then restore
    ``model`` (the module ``net`` wraps). Why: honest training time excludes one-off start-up costs."""
    start = time.perf_counter()
    saved = copy.deepcopy(model.state_dict())
    for _ in range(2):
        with autocast(device, hyp["bf16"]):
            loss = F.cross_entropy(net(batch), labels)
        loss.backward()
    model.zero_grad(set_to_none=True)
    model.load_state_dict(saved)
    _synchronize(device)
    return time.perf_counter() - start


class Timer:
    """Seconds of device work between start() and stop(): CUDA events on GPU, a clock on CPU."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def start(self) -> None:
        if self.device.type == "cuda":
            self._begin = torch.cuda.Event(enable_timing=True)
            self._begin.record()
        else:
            self._begin = time.perf_counter()

    def stop(self) -> None:
        if self.device.type == "cuda":
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            end.synchronize()
            self.seconds += self._begin.elapsed_time(end) / 1000.0
        else:
            self.seconds += time.perf_counter() - self._begin


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------------------------------
#                                     Augmentation
# ---------------------------------------------------------------------------------------------------


def random_affine(x: torch.Tensor, params: torch.Tensor, aug: dict) -> torch.Tensor:
    """Shift, rotate, zoom and shear a whole batch in one grid_sample on the device.

    ``params`` is (B, 5) uniform in [-1, 1): rotation, zoom, shear, dx, dy. Drawing them for the global
    batch and slicing per process makes a run with N processes see exactly the images one process sees.
    Ink pushed past the edge is cut and the uncovered border is background (0), as in a real glyph.
    """
    angle = params[:, 0] * math.radians(aug["rotate"])
    zoom = 1.0 + params[:, 1] * aug["scale"]
    shear = params[:, 2] * aug["shear"]
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # affine_grid maps output coordinates to input ones, in [-1, 1]: a shift of f * side is 2 f.
    theta = torch.stack(
        [
            torch.stack([cos, cos * shear - sin, 2 * aug["translate"] * params[:, 3]], dim=1),
            torch.stack([sin, sin * shear + cos, 2 * aug["translate"] * params[:, 4]], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# ---------------------------------------------------------------------------------------------------
#                                     Network components and definitions
# ---------------------------------------------------------------------------------------------------


class ConvBN(nn.Sequential):
    """3x3 convolution (no bias: batch norm has one), batch norm, ReLU."""

    def __init__(self, channels_in: int, channels_out: int):
        super().__init__(
            nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
        )


class Stage(nn.Module):
    """Widen with one conv, halve the resolution, then a residual pair of convs at the lower resolution.

    Pooling right after the widening conv (as airbench does) puts two of the three convs at a quarter of
    the pixels, which is where the speed comes from.
    """

    def __init__(self, channels_in: int, channels_out: int):
        super().__init__()
        self.widen = ConvBN(channels_in, channels_out)
        self.pool = nn.MaxPool2d(2)
        self.residual = nn.Sequential(ConvBN(channels_out, channels_out), ConvBN(channels_out, channels_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.widen(x))
        return x + self.residual(x)


class GlyphResNet(nn.Sequential):
    """Stem conv at full resolution, one Stage per further width, global max pool, batch norm, linear.

    The batch norm before the classifier keeps the logits' scale fixed while the residual sums grow from
    stage to stage; without it the first epochs' loss spikes (measured: 2.6 against 1.0 after one epoch).
    """

    def __init__(self, num_classes: int, widths: tuple[int, ...]):
        stages = [Stage(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        super().__init__(
            ConvBN(1, widths[0]),
            *stages,
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.BatchNorm1d(widths[-1]),
            nn.Linear(widths[-1], num_classes),
        )


class GlyphMLP(nn.Sequential):
    """The classic reference: pixels -> hidden layers (linear, batch norm, ReLU, dropout) -> classes."""

    def __init__(self, num_classes: int, pixels: int, hidden: tuple[int, ...], dropout: float):
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip((pixels, *hidden[:-1]), hidden, strict=True):
            layers += [nn.Linear(width_in, width_out), nn.BatchNorm1d(width_out), nn.ReLU(inplace=True)]
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden[-1], num_classes))
        super().__init__(*layers)


def build_model(name: str, net: dict, num_classes: int, image_shape: tuple[int, int]) -> nn.Module:
    """The model ``name`` ("cnn" or "mlp") for ``num_classes`` classes of (H, W) images."""
    if name == "cnn":
        return GlyphResNet(num_classes, tuple(net["cnn"]["widths"]))
    if name == "mlp":
        mlp = net["mlp"]
        return GlyphMLP(num_classes, image_shape[0] * image_shape[1], tuple(mlp["hidden"]), mlp["dropout"])
    raise UsageError(f"--model {name!r}: expected one of {', '.join(MODELS)}")


# ---------------------------------------------------------------------------------------------------
#                                     Checkpoints
# ---------------------------------------------------------------------------------------------------


def save_checkpoint(path: str | os.PathLike, model: nn.Module, info: dict) -> None:
    """Write model.pt: the state_dict plus everything needed to rebuild the model (``info``), atomically."""
    from ..manifest import atomic_open

    with atomic_open(path, "wb") as handle:
        torch.save({"state_dict": model.state_dict(), **info}, handle)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the model saved by :func:`save_checkpoint`, in eval mode, and return it with its info."""
    import pickle

    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        hyp = checkpoint["hyperparameters"]
        shape = tuple(checkpoint["image_shape"])
        model = build_model(checkpoint["model"], hyp["net"], len(checkpoint["letters"]), shape)
        model.load_state_dict(checkpoint["state_dict"])
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, KeyError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(f"{path}: not a fontglyphs baseline checkpoint ({reason})") from None
    # The memory format it was trained in: the same conv kernels, so bit-identical predictions.
    memory_format = torch.channels_last if hyp["channels_last"] else torch.preserve_format
    return model.to(device, memory_format=memory_format).eval(), checkpoint


# ---------------------------------------------------------------------------------------------------
#                                     Evaluation
# ---------------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Plain (unsmoothed) cross-entropy, accuracy, and per-image prediction and its probability."""

    loss: float
    accuracy: float
    predictions: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float32, softmax probability of the predicted class

    def __len__(self) -> int:
        return len(self.predictions)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    batch_size: int = 1024,
    bf16: bool = False,
) -> Evaluation:
    """Evaluate ``model`` (on whatever device it lives) on uint8 images (N, H, W) without augmentation."""
    device = next(model.parameters()).device
    images = torch.as_tensor(images).to(device)
    labels = torch.as_tensor(labels, dtype=torch.int64).to(device)
    was_training = model.training
    model.eval()
    losses, predictions, confidence = [], [], []
    for start in range(0, len(labels), batch_size):
        x = to_float_batch(images[start : start + batch_size], channels_last=True)
        with autocast(device, bf16):
            logits = model(x).float()
        losses.append(F.cross_entropy(logits, labels[start : start + batch_size], reduction="sum"))
        probability, predicted = logits.softmax(dim=1).max(dim=1)
        predictions.append(predicted)
        confidence.append(probability)
    model.train(was_training)
    if not losses:
        return Evaluation(float("nan"), float("nan"), np.zeros(0, np.int64), np.zeros(0, np.float32))
    predicted = torch.cat(predictions)
    return Evaluation(
        loss=float(torch.stack(losses).sum().item()) / len(labels),
        accuracy=float((predicted == labels).float().mean().item()),
        predictions=predicted.cpu().numpy().astype(np.int64),
        confidence=torch.cat(confidence).cpu().numpy().astype(np.float32),
    )


# ---------------------------------------------------------------------------------------------------
#                                     Logging
# ---------------------------------------------------------------------------------------------------


@dataclass
class EpochStats:
    epoch: int
    steps: int  # optimizer steps in this epoch (fewer than planned if the time budget ran out)
    lr: float  # learning rate at the last step
    train_loss: float  # label-smoothed loss on augmented batches, mean over the epoch
    train_accuracy: float  # on the same augmented batches
    val_loss: float
    val_accuracy: float
    elapsed: float  # wall seconds since training started, at the end of this epoch


@dataclass
class History:
    """What happened during training; ``metrics.json`` and ``curves.png`` are drawn from it."""

    device: str
    world_size: int
    threads: int
    hyperparameters: dict
    batch_size: int
    steps_per_epoch: int
    epochs: list[EpochStats] = field(default_factory=list)
    steps: int = 0
    images_seen: int = 0
    train_seconds: float = 0.0  # device time of the training steps only (no validation, no warm-up)
    wall_seconds: float = 0.0  # wall time of the training loop, per-epoch validation included
    warmup_seconds: float = 0.0
    stopped_by_budget: bool = False

    @property
    def epochs_completed(self) -> float:
        return self.steps / self.steps_per_epoch if self.steps_per_epoch else 0.0

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(epochs_completed=self.epochs_completed, images_per_second=self.images_per_second)
        return data


def _progress_bar(total: int, epoch: int, epochs: int, disable: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"epoch {epoch:>3}/{epochs}",
        unit="img",
        unit_scale=True,
        file=sys.stderr,
        disable=disable,
        dynamic_ncols=True,
        leave=True,
    )


# ---------------------------------------------------------------------------------------------------
#                                     Training
# ---------------------------------------------------------------------------------------------------


def lr_factor(progress: float, warmup: float) -> float:
    """One-cycle: linear from 0.1 up to 1 over the warm-up, then linear down to 0 at the end of training."""
    return float(np.interp(progress, [0.0, warmup, 1.0], [0.1, 1.0, 0.0]))


def steps_within_budget(total: int, steps_done: int, elapsed: float, budget: float | None) -> int:
    """The number of steps to plan for: ``total``, or what fits in the time budget at the pace so far.

    Why: the schedule (a function of steps done / steps planned) then anneals to zero by the deadline
    instead of stopping mid-cycle, and a budget that does not bind changes nothing: such runs stay
    bit-reproducible. The pace is judged from 5% of the budget on, once start-up costs are diluted.
    """
    if budget is None:
        return total
    if elapsed >= budget:
        return min(total, steps_done)
    if elapsed < 0.05 * budget:
        return total
    return min(total, int(steps_done * budget / elapsed))


def _optimizer(model: nn.Module, opt: dict, batch_size: int) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": opt["weight_decay"]},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    lr = opt["lr"] * batch_size / 256
    for group in groups:
        group["peak_lr"] = lr
    return torch.optim.SGD(groups, lr=lr, momentum=opt["momentum"], nesterov=True)


def _global_batch_size(opt: dict, train_images: int, epochs: int, world_size: int) -> int:
    """The batch size, shrunk for small training sets, and a multiple of the process count.

    Why: 16 epochs of 4,000 images in batches of 1,024 are 64 steps, too few to learn from; a smaller
    batch (with its linearly scaled learning rate) gives the same passes over the data more updates.
    """
    batch = min(opt["batch_size"], train_images)
    enough_steps = train_images * epochs // max(opt["min_steps"], 1)
    batch = min(batch, max(enough_steps, min(32, batch)))
    batch -= batch % world_size
    if batch < 2 * world_size:
        raise DatasetError(
            f"only {train_images} training images: too few for 2 or more per process and step "
            f"({world_size} processes)"
        )
    return batch


def train(config: TrainConfig, train_set, val_set) -> tuple[nn.Module, History]:
    """Train ``config.model`` on ``train_set``, validating on ``val_set`` after each epoch.

    Both sets need ``images`` (N, H, W) uint8, ``labels`` (N,) int and ``letters``. Under torchrun (a
    process group already initialised, see :func:`distributed`) each process trains on its slice of every
    global batch and DistributedDataParallel averages the gradients. Returns the trained (unwrapped) model
    in eval mode and the history.
    """
    device = resolve_device(config.device)
    hyp = config.hyperparameters(device.type)
    procs = current_processes()
    with torch_settings(device, config, hyp, procs):
        return _train(config, hyp, device, procs, train_set, val_set)


def _train(config: TrainConfig, hyp: dict, device: torch.device, procs: Processes, train_set, val_set):
    torch.manual_seed(config.seed)
    model = build_model(config.model, hyp["net"], len(train_set.letters), tuple(train_set.images.shape[1:]))
    model = model.to(
        device, memory_format=torch.channels_last if hyp["channels_last"] else torch.preserve_format
    )
    images = resident_uint8(train_set.images, device)
    labels = torch.as_tensor(train_set.labels, dtype=torch.int64).to(device)
    val_images = resident_uint8(val_set.images, device)
    val_labels = torch.as_tensor(val_set.labels, dtype=torch.int64).to(device)

    batch_size = _global_batch_size(hyp["opt"], len(labels), hyp["epochs"], procs.world_size)
    local_batch = batch_size // procs.world_size
    shard = slice(procs.rank * local_batch, (procs.rank + 1) * local_batch)  # this process's part of a batch
    steps_per_epoch = len(labels) // batch_size  # the last partial batch is dropped; a new order each epoch
    total_steps = hyp["epochs"] * steps_per_epoch
    optimizer = _optimizer(model, hyp["opt"], batch_size)
    net = model
    if torch.distributed.is_initialized():
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    net = maybe_compile(net, config.compile)

    history = History(
        device=str(device),
        world_size=procs.world_size,
        threads=torch.get_num_threads(),
        hyperparameters=hyp,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
    )
    if device.type == "cuda" or config.compile:
        first = to_float_batch(images[:local_batch], hyp["channels_last"])
        history.warmup_seconds = warm_up(net, model, first, labels[:local_batch], device, hyp)

    generator = torch.Generator(device=device).manual_seed(config.seed)
    timer = Timer(device)
    start = time.perf_counter()
    budget, planned = hyp["time_budget"], total_steps
    check_every = 1 if procs.world_size == 1 else 8  # under DDP rank 0's clock is broadcast: a sync point
    epoch = 0
    while epoch < hyp["epochs"] and history.steps < planned:
        epoch += 1
        net.train()
        order = torch.randperm(len(labels), generator=generator, device=device)
        sums = torch.zeros(2, dtype=torch.float64, device=device)  # loss sum, correct predictions
        bar = _progress_bar(
            steps_per_epoch * batch_size, epoch, hyp["epochs"], config.quiet or not procs.is_main
        )
        steps = 0
        timer.start()
        for step in range(steps_per_epoch):
            if budget is not None and history.steps % check_every == 0:
                elapsed = _from_rank0(time.perf_counter() - start, device)
                planned = steps_within_budget(total_steps, history.steps, elapsed, budget)
            if history.steps >= planned:
                break
            for group in optimizer.param_groups:
                group["lr"] = group["peak_lr"] * lr_factor(history.steps / planned, hyp["opt"]["warmup"])
            index = order[step * batch_size : (step + 1) * batch_size]
            params = torch.rand(batch_size, 5, generator=generator, device=device).mul_(2).sub_(1)
            x = random_affine(
                to_float_batch(images[index[shard]], hyp["channels_last"]), params[shard], hyp["aug"]
            )
            y = labels[index[shard]]
            with autocast(device, hyp["bf16"]):
                logits = net(x)
                loss = F.cross_entropy(logits, y, label_smoothing=hyp["opt"]["label_smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():  # accumulated on the device: no sync per step
                sums[0] += loss.detach() * len(y)
                sums[1] += (logits.argmax(dim=1) == y).sum()
            steps += 1
            history.steps += 1
            bar.update(batch_size)
        timer.stop()
        history.images_seen += steps * batch_size
        history.train_seconds = _from_rank0(timer.seconds, device)
        loss_sum, correct = _sum_over_processes(sums).tolist()
        seen = steps * batch_size
        val = evaluate(model, val_images, val_labels, hyp["eval_batch_size"], hyp["bf16"])
        stats = EpochStats(
            epoch=epoch,
            steps=steps,
            lr=optimizer.param_groups[0]["lr"],
            train_loss=loss_sum / seen if seen else float("nan"),
            train_accuracy=correct / seen if seen else float("nan"),
            val_loss=val.loss,
            val_accuracy=val.accuracy,
            elapsed=time.perf_counter() - start,
        )
        history.epochs.append(stats)
        bar.set_postfix_str(
            f"loss {stats.train_loss:.3f} acc {stats.train_accuracy:.2%} val {val.accuracy:.2%}"
        )
        bar.close()
        if budget is not None:
            elapsed = _from_rank0(time.perf_counter() - start, device)
            planned = steps_within_budget(total_steps, history.steps, elapsed, budget)
    history.stopped_by_budget = history.steps < total_steps
    history.wall_seconds = time.perf_counter() - start
    return model.eval(), history
