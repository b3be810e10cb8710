"""Run records: one directory per training run, the same form for both sides.

    <run>/config.json        resolved config
    <run>/environment.json   package versions, device, threads, seed, git commit
    <run>/metrics.jsonl      one JSON line per epoch
    <run>/checkpoint.npz     last and best (validation-selected) state, plus progress (no pickle)
    <run>/summary.json       final result (fields in SUMMARY_FIELDS)
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import SuiteError
from .files import append_jsonl, atomic_write_bytes, atomic_write_json, jsonl_line, load_arrays, save_arrays

SIDES = ("bio", "hybrid")
SUMMARY_FIELDS = (
    "method", "side", "dataset", "test_accuracy", "validation_accuracy", "epochs", "train_samples",
    "test_samples", "train_seconds", "samples_per_second", "spikes_per_sample", "device", "seed", "config",
)


def environment(device: str, seed: int) -> dict:
    versions = {}
    for package in ("numpy", "brian2", "brian2cuda", "torch", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "device": device,
        "threads": _thread_count(),
        "cpu_count": os.cpu_count(),
        "seed": seed,
        "git_commit": git_commit(),
    }


def _thread_count() -> int:
    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


class RunRecord:
    """The directory of one run. Opening an existing one with the same config resumes it."""

    def __init__(self, directory: str | os.PathLike, config: dict, device: str, seed: int):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        config_path = self.dir / "config.json"
        if config_path.exists():
            previous = json.loads(config_path.read_text())
            if previous != json.loads(json.dumps(config)):
                raise SuiteError(f"run directory '{self.dir}': holds a run with a different config; choose another --run-name")
        else:
            atomic_write_json(config_path, config)
        atomic_write_json(self.dir / "environment.json", environment(device, seed))

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.npz"

    def metrics(self) -> list[dict]:
        path = self.dir / "metrics.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def truncate_metrics(self, rows: int) -> None:
        kept = self.metrics()[:rows]
        atomic_write_bytes(self.dir / "metrics.jsonl", b"".join(map(jsonl_line, kept)))

    def log_epoch(self, row: dict) -> None:
        append_jsonl(self.dir / "metrics.jsonl", row)

    def save_checkpoint(self, last: dict, best: dict, progress: dict) -> None:
        arrays = {f"last/{k}": v for k, v in last.items()}
        arrays.update({f"best/{k}": v for k, v in best.items()})
        arrays["progress"] = np.frombuffer(json.dumps(progress).encode(), dtype=np.uint8)
        save_arrays(self.checkpoint_path, arrays)

    def load_checkpoint(self) -> tuple[dict, dict, dict] | None:
        if not self.checkpoint_path.exists():
            return None
        arrays = load_arrays(self.checkpoint_path)
        progress = json.loads(arrays.pop("progress").tobytes().decode())
        last = {k[5:]: v for k, v in arrays.items() if k.startswith("last/")}
        best = {k[5:]: v for k, v in arrays.items() if k.startswith("best/")}
        return last, best, progress

    def write_summary(self, summary: dict) -> None:
        missing = [f for f in SUMMARY_FIELDS if f not in summary]
        if missing:
            raise ValueError(f"summary lacks fields {missing}")
        if summary["side"] not in SIDES:
            raise ValueError(f"side {summary['side']!r} not in {SIDES}")
        atomic_write_json(self.dir / "summary.json", summary)


def dense_network_size(layer_sizes) -> dict:
    """Trained weights and neurons (input excluded) of fully connected layers of these sizes."""
    return {"parameters": sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])),
            "neurons": sum(layer_sizes[1:])}


def find_summaries(root: str | os.PathLike) -> list[dict]:
    """All summary.json files under root, each with its path relative to root as 'run'."""
    root = Path(root)
    out = []
    for path in sorted(root.glob("*/*/*/*/summary.json")):
        summary = json.loads(path.read_text())
        summary["run"] = str(path.parent.relative_to(root))
        out.append(summary)
    return out
