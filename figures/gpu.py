"""What the GPU tests and the `gpu` benchmark share: the same learner on two devices.

Torch: the learner's model is copied to a device in float64 and trained a few steps on the same
batches, so a CPU and a CUDA copy can be compared. Brian2: the same config built once on each
Brian2 device, trained on the same samples.
"""
from __future__ import annotations

import copy
import time

import numpy as np

CUDA_TOLERANCE = dict(rtol=1e-6, atol=1e-9)   # float64 on both; summation order differs on the GPU


def torch_train_steps(method: str, values: dict, images: np.ndarray, labels: np.ndarray, device: str, batch: int,
                      precision: str = "float64"):
    """Adam steps of `method`'s model on `device` in `precision`, one per batch of the given
    images; returns the trained parameters (on the CPU) and the seconds the steps took."""
    import torch

    dtype = getattr(torch, precision)
    from snnsuite import methods

    config_class, make_learner, _ = methods.get(method).load()
    learner = make_learner(config_class.from_dict(values))
    twin = copy.copy(learner)
    twin.model = copy.deepcopy(learner.model).to(device=device, dtype=dtype)
    optimizer = torch.optim.Adam(twin.model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    began = time.perf_counter()
    for start in range(0, len(images), batch):
        inputs = twin._inputs(images[start:start + batch], generator).to(device=device, dtype=dtype)
        out = twin.forward(inputs)
        loss = twin.loss(out, torch.from_numpy(labels[start:start + batch]).to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    return {k: v.detach().cpu() for k, v in twin.model.state_dict().items()}, seconds


def brian2_epoch(method: str, values: dict, split, device: str, threads: int = 0):
    """One training epoch of a bio method on a Brian2 device; returns its state, the spike count
    of a validation pass and the samples per second of training (compile excluded)."""
    from snnsuite import methods

    config_class, make_learner, _ = methods.get(method).load()
    learner = make_learner(config_class.from_dict({**values, "device": device, "threads": threads}))
    began = time.perf_counter()
    learner.train_epoch(split, np.random.default_rng(0), lambda it, **_: it)
    seconds = time.perf_counter() - began
    spikes = learner.evaluate(split, lambda it, **_: it).spikes_per_sample
    return learner.state(), spikes, len(split) / seconds
