"""BPSTA (bpsta.md): spiking CNNs of Conv-BN-ReLU-LIF (and FC-BN-ReLU-LIF) blocks with a voting
readout, trained by BPTT whose surrogate gradient gets the biologically plausible spatial (BPSA,
Eq. 9) and temporal (BPTA, Eq. 10) adjustments, each switchable on top of the STBP baseline
(rectangular surrogate)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from snnsuite.config import RunConfig, param
from snnsuite.errors import SuiteError

from .learner import TorchLearner
from .neurons import check_lif, lif_fused
from .surrogates import RateGated, Rectangular, SpatialAdjustment

# Eq. 11 energies per operation (Horowitz 2014, 45 nm; the paper gives none):
# a 32-bit float multiply-accumulate for the ANN, a 32-bit integer accumulate per spike for the SNN.
E_FL_MAC_PJ = 4.6
E_INT_AC_PJ = 0.1
TOKEN = re.compile(r"^(?:(\d+)C(\d+)|MP(\d+)|AP(\d+)|(\d+)FC|DP|10V(\d+))$")


@dataclass
class BPSTAConfig(RunConfig):
    structure: str = param("32C3-MP2-64C3-MP2-512FC-DP-10V10", "CPU-sized: the paper's small net (Table 1) at a quarter of its channels")
    time_steps: int = param(8, "T: 16 in the paper, 8 in some of the public scripts; the CPU default", "positive")
    bpsa: bool = param(True, "spatial adjustment, Eq. 9 (off: rectangular surrogate, the STBP baseline)")
    bpta: bool = param(True, "temporal adjustment, Eq. 10")
    warmup_rate: float = param(0.01, "TSSL-BP's warm-up, which bpsta.md adopts: while a layer's share of spiking (neuron, step) pairs in a batch is below this, BPSA gives way to a sigmoid surrogate that reaches silent neurons. Neither paper states the share: 1% lies below the quietest layer of the CPU net at its best epoch (1.8%) and above where it then fell (0.06%, cpu60-fcnorm-2threads-seed0); 0 switches it off", "fraction")
    alpha: float = param(0.8, "BPTA residual weight: the paper's Eq. 10 value (the public code uses 0.2)", "non_negative")
    decay: float = param(0.9, "membrane leak lambda (bpsta.md Sec. Experiments)", "fraction")
    threshold: float = param(0.5, "u_th (bpsta.md)", "positive")
    fc_norm: bool = param(True, "BatchNorm -> ReLU before hidden FC spiking layers too (NOTES.md: every hidden spiking layer; Table 1 names it for conv only). Without it, zero-mean weights on non-negative spikes leave most FC neurons silent for every input")
    dropout: float = param(0.5, "neuron dropout DP, one mask per sample over all steps (Lee et al. 2020)", "fraction")
    learning_rate: float = param(1e-3, "AdamW (bpsta.md)", "positive")
    weight_decay: float = param(1e-4, "AdamW, public code", "non_negative")
    warmup_epochs: int = param(5, "linear warm-up before the cosine schedule (public code)", "non_negative")
    epochs: int = param(300, "bpsta.md: 300 epochs", "positive")
    encoding: str = param("direct", "direct input (bpsta.md, following Wu et al. 2019)")

    def validate(self) -> "BPSTAConfig":
        super().validate()
        check_lif(self.decay, self.threshold)
        parse_structure(self.structure)
        return self


def parse_structure(spec: str) -> list[re.Match]:
    tokens = [TOKEN.match(t) for t in spec.split("-")]
    if not spec or any(t is None for t in tokens) or not tokens[-1].group(6):
        raise SuiteError(f"structure '{spec}': expected tokens like 128C3, MP2, AP2, 512FC, DP, ending in 10V<n> (voting)")
    return tokens


class TimeDropout(nn.Module):
    """Neuron dropout with one mask per sample shared by every time step."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        mask = torch.bernoulli(torch.full_like(x[0], 1 - self.p)) / (1 - self.p)
        return x * mask


class SpikingCNN(nn.Module):
    """Layers act on (T, batch, ...) spike tensors; every weight layer is followed by a fused LIF."""

    def __init__(self, config: BPSTAConfig, in_shape=(1, 28, 28)):
        super().__init__()
        self.config = config
        if not config.bpsa:
            self.surrogate = Rectangular()
        elif config.warmup_rate > 0:
            self.surrogate = RateGated(SpatialAdjustment(), config.warmup_rate)
        else:
            self.surrogate = SpatialAdjustment()
        self.alpha = config.alpha if config.bpta else 0.0
        layers, shape = [], in_shape
        self.macs = []   # per weight layer: multiply-accumulates of the equivalent ANN, per sample and step
        tokens = parse_structure(config.structure)
        for t in tokens:
            conv_out, kernel, mp, ap, fc, votes = t.groups()
            if conv_out:
                c, k = int(conv_out), int(kernel)
                layers.append(nn.Sequential(nn.Conv2d(shape[0], c, k, padding=k // 2), nn.BatchNorm2d(c), nn.ReLU()))
                shape = (c, shape[1], shape[2])
                self.macs.append(shape[0] * shape[1] * shape[2] * layers[-1][0].in_channels * k * k)
            elif mp or ap:
                size = int(mp or ap)
                layers.append(nn.MaxPool2d(size) if mp else nn.AvgPool2d(size))
                shape = (shape[0], shape[1] // size, shape[2] // size)
            elif t.group(0) == "DP":
                layers.append(TimeDropout(config.dropout))
            else:
                width = int(fc) if fc else 10 * int(votes)
                flat = int(torch.tensor(shape).prod())
                norm = [nn.BatchNorm1d(width), nn.ReLU()] if fc and config.fc_norm else []
                layers.append(nn.Sequential(nn.Flatten(), nn.Linear(flat, width), *norm))
                self.macs.append(flat * width)
                shape = (width,)
        self.layers = nn.ModuleList(layers)
        self.votes = int(tokens[-1].group(6))
        self.spike_count = torch.zeros(())
        self.input_rates: list[float] = []
        self.silent_fractions: list[float] = []
        self.spike_rates: list[float] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (T, batch, 28, 28) direct input. Returns per-class voting spike rates (T, batch, 10)."""
        if x.dim() != 4 or tuple(x.shape[-2:]) != (28, 28):
            raise SuiteError(f"input shape {tuple(x.shape)}: expected (T, batch, 28, 28)")
        steps, batch = x.shape[:2]
        static = x.stride(0) == 0
        # Until the first LIF a static image has no time axis: the first layer runs once, not T times.
        h = x[0].unsqueeze(1) if static else x.reshape(steps * batch, 1, 28, 28)
        count, rates, silent, spiking, self.neurons = 0.0, [], [], [], 0
        for layer in self.layers:
            if isinstance(layer, TimeDropout):
                h = layer(h.reshape(steps, batch, *h.shape[1:])).flatten(0, 1)
                continue
            if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                h = layer(h)
                continue
            if not static:
                rates.append(float((h.detach() != 0).float().mean()))
            current = layer(h)
            current = current.unsqueeze(0).expand(steps, *current.shape) if static else current.reshape(steps, batch, *current.shape[1:])
            spikes = lif_fused(current, self.config.decay, self.config.threshold, self.surrogate, True, self.alpha)
            count += float(spikes.detach().sum())
            # BPSA's surrogate is zero at silent neurons: one that never fires gets no gradient again.
            silent.append(float((spikes.detach().sum((0, 1)) == 0).float().mean()))
            spiking.append(float(spikes.detach().mean()))
            self.neurons += spikes[0, 0].numel()
            h, static = spikes.flatten(0, 1), False
        self.spike_count = torch.tensor(count)
        self.input_rates, self.silent_fractions, self.spike_rates = rates, silent, spiking
        return h.reshape(steps, batch, 10, self.votes).mean(-1)


class BPSTALearner(TorchLearner):
    def batch_stats(self, output) -> dict:
        """Share of spiking layers whose rate put them under the warm-up surrogate in this batch."""
        gate = self.model.surrogate
        if not isinstance(gate, RateGated):
            return {}
        return {"warmup_layer_share": float(np.mean([r < gate.min_rate for r in self.model.spike_rates]))}

    def summary_extras(self) -> dict:
        """bpsta.md Eq. 11 per sample, from the last evaluated batch's firing rates (Table 6 analogue),
        and the share of each spiking layer's neurons that fired on none of that batch's samples.

        The first layer sees the real-valued image once (direct input), so it costs MACs like the
        ANN; every later layer costs one accumulate per input spike and synapse, at each of T steps.
        """
        macs, rates = self.model.macs, self.model.input_rates
        ann = sum(macs) * E_FL_MAC_PJ
        snn = macs[0] * E_FL_MAC_PJ + sum(m * r for m, r in zip(macs[1:], rates)) * E_INT_AC_PJ * self.config.time_steps
        return {"layer_input_rates": rates, "layer_silent_fractions": self.model.silent_fractions,
                "energy_ann_pj": ann, "energy_snn_pj": snn, "energy_snn_over_ann": snn / ann}


def make_learner(config: BPSTAConfig) -> BPSTALearner:
    torch.manual_seed(config.seed)
    model = SpikingCNN(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    warm = max(config.warmup_epochs, 1)
    schedule = lambda e: (e + 1) / warm if e < config.warmup_epochs else 0.5 * (1 + torch.cos(  # noqa: E731
        torch.tensor(torch.pi * (e - config.warmup_epochs) / max(config.epochs - config.warmup_epochs, 1))).item())
    return BPSTALearner(model, optimizer, config, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule))


# Table 8's rows: (name, BPSA, BPTA) on top of the STBP baseline.
ABLATION = (("baseline", False, False), ("bpsa", True, False), ("bpta", False, True), ("both", True, True))
CPU_SLICE = dict(train_samples=10_000, validation_samples=2_000, epochs=2, warmup_epochs=0)
PRESETS = {
    "mnist-small-paper": dict(dataset="mnist", structure="128C3-MP2-128C3-256C3-MP2-4096FC-DP-10V10", time_steps=16, epochs=300),
    # 60-minute CPU budget (issue target 99.0%): T = 4, the shortest latency of Table 9, 18 epochs of
    # the cosine schedule on two threads (about 160 s an epoch). Without the warm-up gate
    # (cpu60-fcnorm-2threads-seed0) validation peaked at epoch 8 and the net then fell silent;
    # with it, not yet measured. alpha = 0.2, the public code's value: chosen on validation with
    # Eq. 10 as printed (20k images, 2 epochs: 97.30% vs 97.10% at 0.8, runs alpha-select-*); at 0.8 the
    # residual multiplies the error by lam*alpha/u > 1 at consecutive spikes with u < 0.72.
    "mnist-cpu60": dict(dataset="mnist", time_steps=4, epochs=18, warmup_epochs=0, alpha=0.2, time_budget_minutes=60),
    **{f"latency-T{t}": dict(dataset="mnist", time_steps=t, epochs=15, warmup_epochs=1) for t in (4, 8, 16, 32)},   # Table 9
    # Table 9 at CPU scale: 10,000 images x 2 epochs per T, with the CPU run's alpha.
    **{f"latency-T{t}-cpu": dict(CPU_SLICE, dataset="mnist", time_steps=t, alpha=0.2) for t in (4, 8, 16, 32)},
    **{f"ablation-{name}": dict(dataset="mnist", bpsa=a, bpta=b, epochs=15, warmup_epochs=1) for name, a, b in ABLATION},
    # Table 8 (the paper ablates on DVS-Gesture and DVS-CIFAR10) on MNIST at CPU scale, with the CPU run's T and alpha.
    **{f"ablation-{name}-cpu": dict(CPU_SLICE, dataset="mnist", bpsa=a, bpta=b, time_steps=4, alpha=0.2) for name, a, b in ABLATION},
}
