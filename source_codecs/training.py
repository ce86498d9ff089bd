"""The run loop the learned codecs' trainers share: resumable, time-boxed, logged, exported.

A codec's ``train.py`` keeps what is its own (models, optimisers, the loss, ``train_step``,
``state``/``restore``) in a trainer object and hands the rest to this module. A run lives in one
folder ``OUT``:

- ``OUT/options.json``: every option of the run (a dataclass, :class:`RunOptions`);
- ``OUT/train.log``: a ``# start`` line per (re)start, a ``step N key=value ... s/step=...`` line
  every ``log_every`` steps and on step 1, ``#`` lines for stops and the export;
- ``OUT/checkpoint.pt`` (and ``OUT/checkpoint.1.pt``, ... when it is larger than
  :data:`CHECKPOINT_PART_BYTES`): the trainer's ``state()`` every ``checkpoint_every`` steps and at
  the end, with the optimisers' moments in bf16 (:func:`compact_optimizer_state`), so that every file
  can be committed; ``--resume`` continues from it (:func:`load_checkpoint`);
- ``OUT/weights.pt``: the fp16 weights file the codec loads, written by ``model.export``.

>>> out = start_run(opts)
>>> trainer = MyTrainer(opts)
>>> resume_or_start(trainer, out, resume, "cpu")
>>> loader = make_loader(dataset, opts.batch_size, opts.workers)
>>> run_training(trainer, unit_images(loader), opts, out)
"""

from __future__ import annotations

__all__ = [
    "AUTOCAST_CHOICES",
    "CHECKPOINT",
    "LOG",
    "WEIGHTS",
    "CHECKPOINT_PART_BYTES",
    "ExportableModel",
    "RunOptions",
    "Trainer",
    "cli_main",
    "compact_optimizer_state",
    "cosine_decay",
    "endless",
    "last_step_line",
    "load_checkpoint",
    "make_loader",
    "options_parser",
    "resume_or_start",
    "rng_state",
    "run_training",
    "save_checkpoint",
    "seed_all",
    "set_rng_state",
    "start_run",
    "unit_images",
    "use_bf16",
]

import argparse
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from source_codecs.allocator import keep_freed_memory

CHECKPOINT = "checkpoint.pt"
"""File name of the resumable checkpoint in the run folder."""

LOG = "train.log"
"""File name of the training log in the run folder."""

WEIGHTS = "weights.pt"
"""File name of the exported fp16 weights in the run folder."""

CHECKPOINT_PART_BYTES = 15 * 2**20
"""Largest tensor payload of one checkpoint file (bytes): a checkpoint is split over several files
by top-level key so that each stays under the repository's 16 MB limit for a committed file."""


class RunOptions(Protocol):
    """The options every run has (a dataclass; its other fields are the codec's own)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    out: str
    steps: int
    checkpoint_every: int
    log_every: int
    max_minutes: float
    threads: int
    seed: int


class ExportableModel(Protocol):
    """A model that writes its fp16 weights file."""

    def export(self, path: Path, info: dict[str, Any] | None = None) -> None: ...


class Trainer(Protocol):
    """What the run loop needs of a codec's trainer.

    ``train_step(*batch)`` takes one batch's tensors (as the batch iterator yields them), makes one
    update, advances ``step`` and returns the named scalar losses to log.
    """

    step: int
    model: ExportableModel
    train_step: Callable[..., dict[str, float]]

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


def compact_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """An optimiser ``state_dict()`` with its floating moments in bf16, for a small checkpoint.

    Adam's first moment is dropped where the group's ``beta1`` is 0 (SPADE's Adam(0, 0.9)): it is
    then the last gradient, overwritten by the next step, and :func:`load_checkpoint` restores it as
    zeros. ``torch.optim.Optimizer.load_state_dict`` casts the bf16 moments back to the parameters'
    dtype, so a resumed run continues with moments rounded to 8 significant bits.

    :param state: ``optimizer.state_dict()``.
    :return: A new dictionary (``state`` is not changed).
    """
    no_first_moment = {
        index
        for group in state["param_groups"]
        if tuple(group.get("betas", (1.0,)))[0] == 0
        for index in group["params"]
    }
    compact = {}
    for index, moments in state["state"].items():
        kept = {}
        for name, value in moments.items():
            if name == "exp_avg" and index in no_first_moment:
                continue
            floating = torch.is_tensor(value) and value.is_floating_point() and value.dim() > 0
            kept[name] = value.to(torch.bfloat16) if floating else value
        compact[index] = kept
    return {"state": compact, "param_groups": state["param_groups"]}


def _expand_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`compact_optimizer_state` up to rounding: the dropped first moments come
    back as zeros (the bf16 moments are cast back by ``Optimizer.load_state_dict``)."""
    moments = {
        index: {"exp_avg": torch.zeros_like(m["exp_avg_sq"]), **m}
        if "exp_avg_sq" in m and "exp_avg" not in m
        else m
        for index, m in state["state"].items()
    }
    return {"state": moments, "param_groups": state["param_groups"]}


def slim_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """An optimiser ``state_dict()`` without its moments: a run resumed from it restarts Adam's
    statistics (with SPADE's beta2 = 0.9 the second moment is re-estimated within some 20 steps;
    Adam's bias correction keeps the first steps at the learning rate's scale)."""
    return {"state": {}, "param_groups": state["param_groups"]}


WEIGHT_KEYS = ("model", "disc", "critic")
"""Top-level keys of a trainer's ``state()`` that hold networks' ``state_dict()``."""

SLIM_MIN_ELEMENTS = 1024
"""Float tensors of at least this many elements are stored in fp16 in a slim checkpoint; smaller
ones (biases, norms' statistics, symbol histograms) stay as they are."""


def _half_weights(state_dict: dict[str, Any]) -> dict[str, Any]:
    """``state_dict`` with its large float tensors in fp16 (``load_state_dict`` casts them back)."""
    return {
        k: v.half() if v.is_floating_point() and v.numel() >= SLIM_MIN_ELEMENTS else v
        for k, v in state_dict.items()
    }


def _is_optimizer_state(value: Any) -> bool:
    """Whether ``value`` is an ``optimizer.state_dict()``."""
    return isinstance(value, dict) and {"state", "param_groups"} <= value.keys()


def _map_optimizer_states(
    state: dict[str, Any], fn: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """``state`` with ``fn`` applied to each optimiser state dict among its top-level values."""
    return {k: fn(v) if _is_optimizer_state(v) else v for k, v in state.items()}


def _payload_bytes(value: Any) -> int:
    """Bytes of the tensors in a nested structure of dicts, lists and tensors."""
    if torch.is_tensor(value):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(_payload_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_payload_bytes(v) for v in value)
    return 0


def _part_path(path: Path, index: int) -> Path:
    """``checkpoint.pt`` for part 0, ``checkpoint.<index>.pt`` for the others."""
    return path if index == 0 else path.with_name(f"{path.stem}.{index}{path.suffix}")


def save_checkpoint(state: dict[str, Any], path: Path, *, slim: bool = False) -> list[Path]:
    """Write a trainer's ``state()`` compactly, over as few files as keep each under
    :data:`CHECKPOINT_PART_BYTES` (top-level keys, largest first, into the first part with room).

    Every part is written to a temporary name first and renamed after all are written; every part
    holds the state's ``step``, which :func:`load_checkpoint` checks.

    :param state: ``{"step": int, ...}``; optimiser state dicts in it are compacted.
    :param path: The first part (``OUT/checkpoint.pt``); others go beside it.
    :param slim: Write the checkpoint meant to be committed: the networks' weights (the values
        under :data:`WEIGHT_KEYS`) in fp16 and the optimisers without moments
        (:func:`slim_optimizer_state`); about a third of the full size.
    :return: The files written, first part first.
    """
    state = _map_optimizer_states(state, slim_optimizer_state if slim else compact_optimizer_state)
    if slim:
        state = {k: _half_weights(v) if k in WEIGHT_KEYS else v for k, v in state.items()}
    parts: list[dict[str, Any]] = []
    sizes: list[int] = []
    for key in sorted(state, key=lambda k: -_payload_bytes(state[k])):
        size = _payload_bytes(state[key])
        slot = next((i for i, s in enumerate(sizes) if s + size <= CHECKPOINT_PART_BYTES), None)
        if slot is None:
            parts.append({})
            sizes.append(0)
            slot = len(parts) - 1
        parts[slot][key] = state[key]
        sizes[slot] += size
    paths = [_part_path(path, i) for i in range(len(parts))]
    for i, part in enumerate(parts):
        part.update(step=state["step"], parts=len(parts))
        torch.save(part, paths[i].with_suffix(".tmp"))
    for stale in path.parent.glob(f"{path.stem}.*{path.suffix}"):
        if stale not in paths:
            stale.unlink()
    for p in reversed(paths):
        p.with_suffix(".tmp").replace(p)
    return paths


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` back into one ``state`` dictionary.

    :param path: Its first part, ``OUT/checkpoint.pt``.
    :param map_location: Where the tensors go.
    :raises ValueError: The parts belong to different steps (a write was interrupted).
    """
    state = torch.load(path, map_location=map_location, weights_only=False)
    for i in range(1, state.pop("parts", 1)):
        part = torch.load(_part_path(path, i), map_location=map_location, weights_only=False)
        if part["step"] != state["step"]:
            raise ValueError(f"{_part_path(path, i)}: step {part['step']}, {path}: {state['step']}")
        part.pop("parts")
        state.update(part)
    return _map_optimizer_states(state, _expand_optimizer_state)


def seed_all(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators with ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's global generators (for a checkpoint)."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators from a :func:`rng_state` dict."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def start_run(opts: RunOptions, seed: Callable[[int], None] = seed_all) -> Path:
    """Create the run folder, set torch's thread count (if ``threads`` > 0) and seed the run.

    :param opts: The run's options.
    :param seed: Seeds the generators the trainer draws from, given ``opts.seed``.
    :return: The run folder ``opts.out``.
    """
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    seed(opts.seed)
    return out


def resume_or_start(
    trainer: Trainer,
    out: Path,
    resume: bool | str | Path,
    map_location: str | torch.device = "cpu",
) -> bool:
    """Restore ``trainer`` from ``out/checkpoint.pt`` (or the checkpoint ``resume`` names).

    :param trainer: A freshly built trainer.
    :param out: The run folder.
    :param resume: False: start afresh. True: continue ``out/checkpoint.pt`` if it exists. A path:
        continue that checkpoint (a committed slim one, say); it must exist.
    :param map_location: Where the checkpoint's tensors go.
    :return: Whether the trainer was restored (False: it starts at step 0).
    :raises FileNotFoundError: ``resume`` names a checkpoint that does not exist.
    """
    if resume is False:
        return False
    checkpoint = out / CHECKPOINT if resume is True else Path(resume)
    if resume is not True and not checkpoint.is_file():
        raise FileNotFoundError(f"--resume {checkpoint}: no such checkpoint")
    if not checkpoint.is_file():
        return False
    trainer.restore(load_checkpoint(checkpoint, map_location))
    return True


def make_loader(dataset: Dataset, batch_size: int, workers: int) -> DataLoader:
    """A shuffling loader over ``dataset``; drops the last partial batch unless it is the only one.

    :param dataset: The training pairs (a sized dataset).
    :param batch_size: Items per batch.
    :param workers: Loader processes (0: load in this process); kept alive between epochs.
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=len(dataset) >= batch_size,  # type: ignore[arg-type]
        persistent_workers=workers > 0,
    )


def endless(loader: Iterable[Any]) -> Iterator[Any]:
    """The batches of ``loader``, epoch after epoch, without end."""
    while True:
        yield from loader


def unit_images(loader: Iterable[Sequence[torch.Tensor]]) -> Iterator[tuple[torch.Tensor]]:
    """Endless iteration over the images of (image, labels) batches, mapped to [0, 1].

    :param loader: Batches whose first tensor is [B, 3, h, w] float32 in [-1, 1] (as
        :class:`~source_codecs.semantic_gan.dataset.PairFolder` gives them); the rest is ignored.
    :return: One-tuples of [B, 3, h, w] float32 in [0, 1], for ``train_step(image)``.
    """
    for image, *_ in endless(loader):
        yield ((image + 1) / 2,)


def last_step_line(path: Path) -> str:
    """The last ``step ...`` line of a training log ("" if none)."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("step ")]
    return lines[-1] if lines else ""


def _step_line(step: int, logs: Mapping[str, float], suffix: str, seconds: float) -> str:
    """``step N k=v.vvvv ... [suffix] s/step=S.SS`` with a newline."""
    items = [f"step {step}", *(f"{k}={v:.4f}" for k, v in logs.items())]
    if suffix:
        items.append(suffix)
    return " ".join([*items, f"s/step={seconds:.2f}"]) + "\n"


def run_training(
    trainer: Trainer,
    batches: Iterable[Sequence[torch.Tensor]],
    opts: RunOptions,
    out: Path,
    *,
    log_suffix: Callable[[], str] | None = None,
    before_export: Callable[[TextIO], dict[str, Any]] | None = None,
) -> Path:
    """Train until ``opts.steps`` (or ``opts.max_minutes``), checkpoint, export the weights.

    Writes ``out/options.json``, appends to ``out/train.log``, keeps ``out/checkpoint.pt`` current
    and writes ``out/weights.pt`` with info ``{"steps", ..., "options"}``.

    :param trainer: The codec's trainer, fresh or restored.
    :param batches: Endless (or long enough) iteration of tuples of tensors for ``train_step``.
    :param opts: The run's options (a dataclass; all of it goes to ``options.json`` and the info).
    :param out: The run folder.
    :param log_suffix: Extra text for each step line, before ``s/step`` (e.g. the learning rate).
    :param before_export: Runs after the last checkpoint with the open log; returns extra info
        entries for the weights file (placed between ``steps`` and ``options``).
    :return: The path of the weights file.
    """
    options = asdict(opts)
    (out / "options.json").write_text(json.dumps(options, indent=2))
    checkpoint = out / CHECKPOINT
    started = time.monotonic()
    with open(out / LOG, "a") as log:
        log.write(f"# start at step {trainer.step}: {json.dumps(options)}\n")
        for batch in batches:
            if trainer.step >= opts.steps:
                break
            if opts.max_minutes > 0 and time.monotonic() - started > 60 * opts.max_minutes:
                log.write(f"# stopped by --max-minutes at step {trainer.step}\n")
                break
            tick = time.monotonic()
            logs = trainer.train_step(*batch)
            if trainer.step % opts.log_every == 0 or trainer.step == 1:
                suffix = log_suffix() if log_suffix else ""
                log.write(_step_line(trainer.step, logs, suffix, time.monotonic() - tick))
                log.flush()
            if trainer.step % opts.checkpoint_every == 0:
                save_checkpoint(trainer.state(), checkpoint)
        save_checkpoint(trainer.state(), checkpoint)
        extra = before_export(log) if before_export else {}
        weights = out / WEIGHTS
        trainer.model.export(weights, {"steps": trainer.step, **extra, "options": options})
        log.write(f"# wrote {weights} at step {trainer.step}\n")
    return weights


def options_parser(
    options_cls: type[RunOptions],
    prog: str,
    description: str | None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> argparse.ArgumentParser:
    """A command line with a ``--flag-name`` per field of the options dataclass, and ``--resume``.

    ``data`` and ``out`` are required; every other field takes its default and its type from the
    dataclass default.

    :param options_cls: The options dataclass.
    :param prog: The program name shown in the help.
    :param description: The help text (the training module's docstring).
    :param choices: Allowed values of some fields, by field name.
    """
    choices = choices or {}
    parser = argparse.ArgumentParser(prog=prog, description=description)
    for f in fields(options_cls):  # type: ignore[arg-type]
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("data", "out"):
            parser.add_argument(flag, required=True)
        elif f.name in choices:
            parser.add_argument(flag, default=f.default, choices=choices[f.name])
        elif isinstance(f.default, bool):  # --flag / --no-flag
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default)
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="CHECKPOINT",
        help="continue OUT/checkpoint.pt, or the checkpoint given (e.g. a committed slim one)",
    )
    parser.add_argument(
        "--slim-checkpoint",
        type=Path,
        default=None,
        metavar="PATH",
        help="at the end, also write a slim copy of the checkpoint there, for committing",
    )
    return parser


def cli_main(
    argv: Sequence[str] | None,
    options_cls: type[RunOptions],
    train_fn: Callable[..., Path],
    prog: str,
    description: str | None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Parse ``argv`` (see :func:`options_parser`), print the options, train, print the weights path.

    The run keeps freed memory in the heap (:func:`source_codecs.allocator.keep_freed_memory`).

    :param argv: The arguments (None: ``sys.argv[1:]``).
    :param options_cls: The options dataclass.
    :param train_fn: ``train_fn(opts, resume=bool | Path) -> Path`` of the weights file.
    :param prog: The program name shown in the help.
    :param description: The help text.
    :param choices: Allowed values of some fields, by field name.
    :return: The exit status, 0.
    """
    args = vars(options_parser(options_cls, prog, description, choices).parse_args(argv))
    keep_freed_memory()  # before the data loader's workers start: they inherit it
    resume, slim = args.pop("resume"), args.pop("slim_checkpoint")
    opts = options_cls(**args)
    print(json.dumps(asdict(opts), indent=2))
    print(f"wrote {train_fn(opts, resume=resume)}")
    if slim is not None:
        slim.parent.mkdir(parents=True, exist_ok=True)
        written = save_checkpoint(load_checkpoint(Path(opts.out) / CHECKPOINT), slim, slim=True)
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cosine_decay(step: int, steps: int, start: float, end: float) -> float:
    """A value decayed from ``start`` at step 0 to ``end`` at ``steps`` along a half cosine (held at
    ``end`` after it): a learning-rate schedule."""
    t = min(step / max(steps, 1), 1.0)
    return end + 0.5 * (start - end) * (1 + math.cos(math.pi * t))


AUTOCAST_CHOICES = ("auto", "bf16", "off")


def use_bf16(choice: str, device: torch.device) -> bool:
    """Whether ``--autocast choice`` runs bf16 on ``device`` (``auto``: on CUDA, and on a CPU whose
    oneDNN has native bf16 kernels)."""
    if choice != "auto":
        return choice == "bf16"
    return device.type == "cuda" or (
        device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )
