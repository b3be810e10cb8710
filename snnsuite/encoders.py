"""Input encoders shared by both sides: one API for numpy arrays (Brian2 inputs) and torch tensors.

Rate coding follows the papers (backeisnn.md Sec. 3.1, bpsta.md Sec. 4): at every time step a pixel
spikes when its normalised intensity exceeds a fresh uniform random number, so the spike
probability per step equals the intensity. Direct coding feeds the real-valued intensity as a
current at every step. Neither module imports torch; tensors are handled when they are passed in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SuiteError

ENCODINGS = ("bernoulli", "direct")


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _check_steps(steps: int) -> int:
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise SuiteError(f"time steps T={steps!r}: must be an integer >= 1")
    return int(steps)


@dataclass(frozen=True)
class BernoulliEncoder:
    """Spike with probability equal to the pixel intensity at each of `steps` steps (paper 'E')."""

    steps: int

    def __post_init__(self):
        _check_steps(self.steps)

    def __call__(self, images, generator):
        """images: (batch, ...) in [0, 1]; generator: numpy Generator or torch Generator.

        Returns spikes of shape (steps, batch, ...) as float32 (0/1).
        """
        if _is_torch(images):
            import torch

            noise = torch.rand((self.steps, *images.shape), generator=generator, device=images.device)
            return (images.unsqueeze(0) > noise).to(torch.float32)
        images = np.asarray(images, dtype=np.float32)
        noise = generator.random((self.steps, *images.shape), dtype=np.float32)
        return (images[None] > noise).astype(np.float32)


@dataclass(frozen=True)
class DirectEncoder:
    """Feed the real-valued intensity at every step (paper 'D'); the generator is unused."""

    steps: int

    def __post_init__(self):
        _check_steps(self.steps)

    def __call__(self, images, generator=None):
        if _is_torch(images):
            return images.unsqueeze(0).expand(self.steps, *images.shape)
        images = np.asarray(images, dtype=np.float32)
        return np.broadcast_to(images[None], (self.steps, *images.shape))


def make_encoder(name: str, steps: int):
    if name == "bernoulli":
        return BernoulliEncoder(steps)
    if name == "direct":
        return DirectEncoder(steps)
    raise SuiteError(f"encoding '{name}': unknown; choose one of {', '.join(ENCODINGS)}")
