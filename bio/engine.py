"""Compile a Brian2 network once and present many samples per launch.

The usual loop, one `Network.run()` per sample, pays Python scheduling (runtime) or a full
code generation and compile (standalone) per sample. Here a network holds a *chunk* of samples:
its inputs come from a 2-D TimedArray indexed by time within the chunk, state is reset between
samples by the model's own `run_regularly` operations, and every further chunk is one
`device.run(run_args=...)` of the compiled binary carrying the new inputs and the current plastic
state. The runtime device runs the same objects with `Network.run`, for debugging and notebooks.
"""
from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import brian2
import numpy as np
from brian2 import Network, TimedArray

from .devices import activate, build_directory, check_device


@contextmanager
def build_lock(directory: Path, exclusive: bool):
    """A lock beside a shared build directory: launches hold it shared, a build exclusively.

    A second process that builds the same structure relinks `main`; without the lock that replaced
    the binary under a running launch ("Permission denied: './main'") and killed a training run."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{directory.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class EngineTimings:
    """Seconds spent per phase, accumulated over the engine's lifetime."""

    build: float = 0.0        # code generation + compile (standalone) or object creation (runtime)
    launch: float = 0.0       # device.run / Network.run wall time, simulation included
    runs: int = 0
    run_args_bytes: int = 0   # input and state handed to launches

    def as_dict(self) -> dict:
        return {"build_seconds": self.build, "launch_seconds": self.launch, "launches": self.runs,
                "run_args_megabytes": self.run_args_bytes / 1e6}


@dataclass
class ChunkEngine:
    """A network built by `build(chunk_samples)` and run chunk by chunk.

    `build` creates the Brian2 objects (after the device is active) and returns a dict of named
    handles; it must include 'network' (a brian2 Network) and may include any TimedArray or group
    whose values the caller passes to `run`. `structure_key` must change whenever the generated
    code would (sizes, equations, chunk length): it names the cached build directory.
    """

    device: str
    build: Callable[[int], dict]
    chunk_samples: int
    sample_duration: brian2.Quantity
    structure_key: str
    threads: int | None = None
    runtime_target: str = "cython"   # code generation target of the runtime device
    timings: EngineTimings = field(default_factory=EngineTimings)

    def __post_init__(self):
        check_device(self.device)
        began = time.perf_counter()
        activate(self.device, self.threads, self.runtime_target)
        self.handles = self.build(self.chunk_samples)
        self.network: Network = self.handles["network"]
        self.duration = self.chunk_samples * self.sample_duration
        if self.standalone:
            self.network.run(self.duration)  # recorded, not run: build_on_run=False
            # OpenMP changes the generated code, so each thread count gets its own build.
            self.directory = build_directory(self.device, f"{self.structure_key}|threads={self.threads or 0}")
            # Per process, so that two processes sharing the cached build never mix results.
            self._results = f"results-{os.getpid()}"
            atexit.register(shutil.rmtree, self.directory / self._results, True)
            with build_lock(self.directory, exclusive=True):
                brian2.device.build(directory=str(self.directory), results_directory=self._results,
                                    compile=True, run=False, with_output=False)
        self.timings.build += time.perf_counter() - began

    @property
    def standalone(self) -> bool:
        return self.device != "runtime"

    def run(self, values: dict) -> None:
        """Present one chunk. `values` maps TimedArrays and variables (e.g. `syn.w`) to arrays."""
        self.timings.run_args_bytes += sum(np.asarray(v).nbytes for v in values.values())
        began = time.perf_counter()
        if self.standalone:
            static = self.directory / "static_arrays"
            existing = set(os.listdir(static))
            try:
                with build_lock(self.directory, exclusive=False):
                    brian2.device.run(results_directory=self._results, with_output=False, run_args=values)
            finally:
                self._remove_launch_files(static, existing)
        else:
            for target, value in values.items():
                if isinstance(target, TimedArray):
                    target.values[:] = np.asarray(value).reshape(target.values.shape)
                else:
                    target[:] = value
            # Runtime time runs on across launches; inputs are indexed by time within the chunk.
            for obj in self.network.objects:
                if "chunk_start" in getattr(obj, "variables", {}):
                    obj.chunk_start = self.network.t
            self.network.run(self.duration)
        self.timings.launch += time.perf_counter() - began
        self.timings.runs += 1

    @staticmethod
    def _remove_launch_files(static, existing: set[str]) -> None:
        """Brian2 writes each run_args array to static_arrays/init_*_<md5>.dat and never deletes
        it: new weights every launch filled the disk (55 GB in one training run). The files this
        launch added are removed once its binary has read them; files that were already there
        (another process's identical arrays) are left to their writer."""
        for name in brian2.device.run_args_arrays:
            if name not in existing:
                for path in (static / name, static / f"{name}.lock"):
                    path.unlink(missing_ok=True)
