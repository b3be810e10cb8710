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


class FeedbackSNN(nn.Module):
    """Single-layer FSNN: input layer F (+BatchNorm), feedback W, readout on the rates."""

    def __init__(self, network: str, threshold: float, leak: float, max_feedback_norm: float, dropout: float):
        super().__init__()
        if network not in NETWORKS:
            raise SuiteError(f"network '{network}': unknown; choose one of {', '.join(NETWORKS)}")
        if network == "F64C5":  # MNIST 64C5s (F64C5): 28x28 -> 64x14x14
            self.input = nn.Sequential(nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.BatchNorm2d(64))
            self.feedback = nn.Conv2d(64, 64, 5, padding=2, bias=False)
            self.state_shape = (64, 14, 14)
        else:                   # Fashion-MNIST 400 (F400)
            self.input = nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.BatchNorm1d(400))
            self.feedback = nn.Linear(400, 400, bias=False)
            self.state_shape = (400,)
        self.readout = nn.Linear(int(torch.tensor(self.state_shape).prod()), 10)
        self.threshold, self.leak, self.dropout = threshold, leak, dropout
        self.max_feedback_norm = max_feedback_norm
        # ||W_eff||_2 = min(|scale|, max) exactly: W is normalised by its spectral norm (power
        # iteration, as torch's spectral_norm) and rescaled by a learnable, clamped scale.
        self.feedback_scale = nn.Parameter(torch.tensor(float(max_feedback_norm)))
        self.register_buffer("power_u", F.normalize(torch.randn(1, *self.state_shape), dim=None))
        self.register_buffer("power_v", F.normalize(torch.randn(1, *self.state_shape), dim=None))

    # -- feedback operator with a bounded spectral norm --------------------------------------
    def _adjoint(self, y: torch.Tensor) -> torch.Tensor:
        if isinstance(self.feedback, nn.Linear):
            return y @ self.feedback.weight
        return F.conv_transpose2d(y, self.feedback.weight, padding=2)

    def feedback_sigma(self, iterations: int = 1) -> torch.Tensor:
        """Spectral norm of W, differentiable in W: exact for a matrix; for a convolution, power
        iteration on the operator carried across steps (Miyato et al. 2018)."""
        if isinstance(self.feedback, nn.Linear):
            return torch.linalg.matrix_norm(self.feedback.weight, ord=2)
        with torch.no_grad():
            v = self.power_v
            for _ in range(iterations):
                u = F.normalize(self.feedback(v).flatten(), dim=0).view_as(self.power_u)
                v = F.normalize(self._adjoint(u).flatten(), dim=0).view_as(self.power_v)
            if self.training:
                self.power_u.copy_(u)
                self.power_v.copy_(v)
        return (self.power_u * self.feedback(self.power_v)).sum()

    def feedback_gain(self) -> torch.Tensor:
        return self.feedback_scale.abs().clamp(max=self.max_feedback_norm) / self.feedback_sigma()

    # -- dynamics ---------------------------------------------------------------------------
    def drive(self, images: torch.Tensor) -> torch.Tensor:
        """F x + b: static images are projected once, not at every step."""
        return self.input(images)

    def dropout_mask(self, like: torch.Tensor) -> torch.Tensor:
        """One mask per batch, shared by every time step and the backward solve."""
        if not self.training or self.dropout == 0:
            return torch.ones_like(like)
        return torch.bernoulli(torch.full_like(like, 1 - self.dropout)) / (1 - self.dropout)

    def fixed_point_map(self, a: torch.Tensor, drive: torch.Tensor, mask: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        """f(a) = clamp((W_eff a + F x + b) / V_th, 0, 1) (Theorem 2)."""
        return ((gain * self.feedback(mask * a) + drive) / self.threshold).clamp(0, 1)

    @torch.no_grad()
    def simulate(self, drive: torch.Tensor, mask: torch.Tensor, gain: torch.Tensor, steps: int,
                 trace: bool = False):
        """Run the spiking network; returns the (weighted) average rate a[T], the spike count and,
        with trace=True, a[t] for every t."""
        u = torch.zeros_like(drive)
        s = torch.zeros_like(drive)
        rate_sum = torch.zeros_like(drive)
        weight_sum = 0.0
        spikes, history = 0.0, []
        for _ in range(steps):
            u = self.leak * u + gain * self.feedback(mask * s) + drive   # Eq. 2, first line
            s = (u >= self.threshold).to(u.dtype)                       # Eq. 2, spike
            u = u - self.threshold * s                                  # reset by subtraction
            rate_sum = self.leak * rate_sum + s                         # lambda-weighted (lam = 1: plain) average
            weight_sum = self.leak * weight_sum + 1.0
            spikes += float(s.sum())
            if trace:
                history.append(rate_sum / weight_sum)
        return rate_sum / weight_sum, spikes, history
