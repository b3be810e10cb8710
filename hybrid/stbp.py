"""STBP baseline (Wu et al. 2018): a spiking MLP trained by backpropagation through time with a
rectangular surrogate, the reference the BackEISNN and BPSTA papers compare against."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from snnsuite.config import RunConfig, param
from snnsuite.errors import SuiteError

from .learner import TorchLearner
from .neurons import check_lif, lif_eager, lif_fused
from .surrogates import Rectangular


@dataclass
class STBPConfig(RunConfig):
    hidden: tuple = param((800,), "STBP (Wu et al. 2018) MNIST MLP 784-800-10", "positive")
    time_steps: int = param(8, "simulation steps T per sample", "positive")
    encoding: str = param("bernoulli", "bernoulli (paper 'E') or direct (paper 'D') input")
    decay: float = param(0.2, "membrane leak lambda kept per step (BackEISNN public code: 0.2)", "non_negative")
    threshold: float = param(0.5, "firing threshold V_th (backeisnn.md, bpsta.md)", "positive")
    surrogate_width: float = param(1.0, "width a of the rectangular surrogate (backeisnn.md Eq. 4)", "positive")
    learning_rate: float = param(1e-3, "Adam, as in the BackEISNN and BPSTA protocols", "positive")
    epochs: int = param(20, "passes over the training split", "positive")
    detach_reset: bool = param(False, "False: the gradient flows through the hard reset (BackEISNN public code)")
    fused: bool = param(True, "fused multi-step neuron (False: eager per-step autograd, same equations)")

    def validate(self) -> "STBPConfig":
        super().validate()
        self.hidden = tuple(int(h) for h in self.hidden)
        check_lif(self.decay, self.threshold)
        from snnsuite.encoders import make_encoder

        make_encoder(self.encoding, self.time_steps)
        return self


class SpikingMLP(nn.Module):
    """Fully connected LIF layers; the output layer spikes too and its mean rate is the readout."""

    def __init__(self, sizes: tuple[int, ...], decay: float, threshold: float, surrogate, fused: bool = True,
                 detach_reset: bool = False):
        super().__init__()
        self.detach_reset = detach_reset
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.lif = lif_fused if fused else lif_eager
        self.decay, self.threshold, self.surrogate = decay, threshold, surrogate
        self.spike_count = torch.zeros(())
        self.neurons = sum(layer.out_features for layer in self.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (T, batch, 28, 28) or (T, batch, 784). Returns output spikes (T, batch, classes)."""
        if x.dim() < 3:
            raise SuiteError(f"input shape {tuple(x.shape)}: expected (T, batch, features...)")
        steps, batch = x.shape[:2]
        h = x.reshape(steps, batch, -1)
        if h.shape[-1] != self.layers[0].in_features:
            raise SuiteError(f"input shape {tuple(x.shape)}: {h.shape[-1]} features, the network expects {self.layers[0].in_features}")
        count = 0.0
        for index, layer in enumerate(self.layers):
            if index == 0 and x.stride(0) == 0:
                # Direct coding repeats one image: project it once, not T times.
                current = layer(h[0]).expand(steps, batch, -1)
            else:
                current = layer(h)  # one matmul over all steps
            h = self.lif(current, self.decay, self.threshold, self.surrogate, self.detach_reset)
            count += float(h.detach().sum())
        self.spike_count = torch.tensor(count)
        return h


def make_learner(config: STBPConfig) -> TorchLearner:
    torch.manual_seed(config.seed)
    model = SpikingMLP((784, *config.hidden, 10), config.decay, config.threshold,
                       Rectangular(config.surrogate_width), config.fused, config.detach_reset)
    return TorchLearner(model, torch.optim.Adam(model.parameters(), lr=config.learning_rate), config)


PRESETS = {
    "mnist-mlp": dict(dataset="mnist", hidden=(800,), epochs=20),
    "fashion-mlp": dict(dataset="fashion-mnist", hidden=(800,), epochs=20),
}
