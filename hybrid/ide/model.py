"""Feedback spiking networks (ide-fsnn.md Sec. 4) and their equilibrium.

Forward (Eq. 2 / 7, reset by subtraction), simulated for T steps without an autograd graph:

    u[t+1] = lam u[t] + W_eff s[t] + F x + b - V_th s[t+1],     s[t+1] = H(lam u[t] + W_eff s[t] + F x + b - V_th)

with lam = 1 (IF) or lam < 1 (LIF). Its (lambda-weighted, for LIF) average firing rate a[T]
approximates the fixed point of  a = f(a) = clamp((W_eff a + F x + b) / V_th, 0, 1)  (Theorem 2,
Proposition 2), which is what training differentiates, implicitly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snnsuite.errors import SuiteError

NETWORKS = ("F64C5", "F400")
# Number formats for the feedback product W s of the spike simulation (no gradient flows through it).
SIMULATION_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}
# Power iterations per training step for a convolution's spectral norm. The estimate is a lower
# bound that lags a fast-changing W: with one, F64C5 at SGD 0.05 reached ||W_eff|| = 1.065 in epoch 3.
POWER_ITERATIONS = 5


class FeedbackSNN(nn.Module):
    """FSNN: input layer F^1 (+BatchNorm), optional further layers F^2..F^N (multi-layer, Eq. 10),
    feedback W from the last layer to the first, readout on the last layer's rates."""

    def __init__(self, network: str, threshold: float, leak: float, max_feedback_norm: float, dropout: float,
                 layers: int = 1, simulation_precision: str = "float32"):
        super().__init__()
        if network not in NETWORKS:
            raise SuiteError(f"network '{network}': unknown; choose one of {', '.join(NETWORKS)}")
        if simulation_precision not in SIMULATION_PRECISIONS:
            raise SuiteError(f"simulation_precision '{simulation_precision}': choose one of {', '.join(SIMULATION_PRECISIONS)}")
        if layers < 1 or (layers > 1 and network != "F400"):
            raise SuiteError(f"layers={layers}: must be >= 1, and > 1 only for the fully connected F400")
        if network == "F64C5":  # MNIST 64C5s (F64C5): 28x28 -> 64x14x14
            self.input = nn.Sequential(nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.BatchNorm2d(64))
            self.feedback = nn.Conv2d(64, 64, 5, padding=2, bias=False)
            self.state_shape = (64, 14, 14)
        else:                   # Fashion-MNIST 400 (F400)
            self.input = nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.BatchNorm1d(400))
            self.feedback = nn.Linear(400, 400, bias=False)
            self.state_shape = (400,)
        self.forward_layers = nn.ModuleList(nn.Linear(400, 400) for _ in range(layers - 1))   # F^2..F^N
        self.readout = nn.Linear(int(torch.tensor(self.state_shape).prod()), 10)
        self.threshold, self.leak, self.dropout = threshold, leak, dropout
        self.simulation_dtype = SIMULATION_PRECISIONS[simulation_precision]
        self.max_feedback_norm = max_feedback_norm
        # ||W_eff||_2 = min(|scale|, max) exactly: W is normalised by its spectral norm (power
        # iteration, as torch's spectral_norm) and rescaled by a learnable, clamped scale.
        self.feedback_scale = nn.Parameter(torch.tensor(float(max_feedback_norm)))
        self.register_buffer("power_u", F.normalize(torch.randn(1, *self.state_shape), dim=None))
        self.register_buffer("power_v", F.normalize(torch.randn(1, *self.state_shape), dim=None))

    @property
    def neurons(self) -> int:
        return int(torch.tensor(self.state_shape).prod()) * (1 + len(self.forward_layers))

    # -- feedback operator with a bounded spectral norm --------------------------------------
    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        if isinstance(self.feedback, nn.Linear):
            return y @ self.feedback.weight
        return F.conv_transpose2d(y, self.feedback.weight, padding=2)

    def feedback_sigma(self, iterations: int = 1) -> torch.Tensor:
        """Spectral norm of W, differentiable in W: exact for a matrix; for a convolution, power
        iteration on the operator carried across training steps (Miyato et al. 2018); evaluation
        uses the vectors as training left them."""
        if isinstance(self.feedback, nn.Linear):
            return torch.linalg.matrix_norm(self.feedback.weight, ord=2)
        if self.training:
            with torch.no_grad():
                v = self.power_v
                for _ in range(iterations):
                    u = F.normalize(self.feedback(v).flatten(), dim=0).view_as(self.power_u)
                    v = F.normalize(self._adjoint(u).flatten(), dim=0).view_as(self.power_v)
                self.power_u.copy_(u)
                self.power_v.copy_(v)
        return (self.power_u * self.feedback(self.power_v)).sum()

    def feedback_gain(self) -> torch.Tensor:
        return self.feedback_scale.abs().clamp(max=self.max_feedback_norm) / self.feedback_sigma(POWER_ITERATIONS)

    # -- dynamics ---------------------------------------------------------------------------
    def drive(self, images: torch.Tensor) -> torch.Tensor:
        """F x + b: static images are projected once, not at every step."""
        return self.input(images)

    def dropout_mask(self, like: torch.Tensor) -> torch.Tensor:
        """One mask per batch, shared by every time step and the backward solve."""
        if not self.training or self.dropout == 0:
            return torch.ones_like(like)
        return torch.bernoulli(torch.full_like(like, 1 - self.dropout)) / (1 - self.dropout)

    def simulated_feedback(self, spikes: torch.Tensor) -> torch.Tensor:
        """W s for the spike simulation, in `simulation_precision`: spikes are exact in bfloat16
        (so is the dropout scale 1 / (1 - p) for p = 0.2 or 0.5), W is rounded to 8 significant bits,
        and the product is accumulated in float32 (returned in bfloat16; the caller adds it to the
        float32 drive)."""
        if self.simulation_dtype is None:
            return self.feedback(spikes)
        with torch.autocast(spikes.device.type, dtype=self.simulation_dtype):
            return self.feedback(spikes)

    def downstream(self, a: torch.Tensor) -> torch.Tensor:
        """f_N o ... o f_2 (Theorem 3): the equilibrium of the later layers given the first's."""
        for layer in self.forward_layers:
            a = (layer(a) / self.threshold).clamp(0, 1)
        return a

    def fixed_point_map(self, a: torch.Tensor, drive: torch.Tensor, mask: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        """f(a) = clamp((W_eff g(a) + F x + b) / V_th, 0, 1) for the first layer (Theorems 2-3)."""
        return ((gain * self.feedback(mask * self.downstream(a)) + drive) / self.threshold).clamp(0, 1)

    @torch.no_grad()
    def simulate(self, drive: torch.Tensor, mask: torch.Tensor, gain: torch.Tensor, steps: int,
                 trace: bool = False):
        """Run the spiking network (Eq. 2 / 10). Returns the (weighted) average rates a[T] of every
        layer, the spike count and, with trace=True, the first layer's a[t] for every t."""
        n_layers = 1 + len(self.forward_layers)
        u = [torch.zeros_like(drive) for _ in range(n_layers)]
        s = [torch.zeros_like(drive) for _ in range(n_layers)]
        rate_sum = [torch.zeros_like(drive) for _ in range(n_layers)]
        weight_sum = 0.0
        spikes, history = 0.0, []
        gain_value = float(gain)   # a scalar: scaling, casting and adding the feedback is then one pass
        for _ in range(steps):
            for l in range(n_layers):
                if l == 0:   # the last layer's spikes of the previous step feed back (Eq. 10, first line)
                    current = torch.add(drive, self.simulated_feedback(mask * s[-1]), alpha=gain_value)
                else:        # layer l sees layer l-1's spikes of this step (Eq. 10, second line)
                    current = self.forward_layers[l - 1](s[l - 1])
                torch.add(current, u[l], alpha=self.leak, out=u[l])     # Eq. 2, first line
                s[l] = (u[l] >= self.threshold).to(drive.dtype)         # Eq. 2, spike
                u[l].sub_(s[l], alpha=self.threshold)                   # reset by subtraction
                torch.add(s[l], rate_sum[l], alpha=self.leak, out=rate_sum[l])   # lambda-weighted (lam = 1: plain) average
                spikes += float(s[l].sum())
            weight_sum = self.leak * weight_sum + 1.0
            if trace:
                history.append(rate_sum[0] / weight_sum)
        return [r / weight_sum for r in rate_sum], spikes, history
