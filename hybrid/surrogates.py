"""Surrogate gradients as named objects: the forward is the Heaviside spike, the backward a
stand-in for its derivative."""
from __future__ import annotations

from dataclasses import dataclass

import torch


class _SurrogateSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, v_th, surrogate):
        ctx.save_for_backward(u)
        ctx.v_th, ctx.surrogate = v_th, surrogate
        return (u >= v_th).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(u, ctx.v_th), None, None


class Surrogate:
    def derivative(self, u: torch.Tensor, v_th: float) -> torch.Tensor:
        raise NotImplementedError

    def spike(self, u: torch.Tensor, v_th: float) -> torch.Tensor:
        """H(u - v_th) with this surrogate's derivative in the backward pass."""
        return _SurrogateSpike.apply(u, v_th, self)


@dataclass(frozen=True)
class Rectangular(Surrogate):
    """backeisnn.md Eq. 4: dH/du ~ 1/a inside a window of width a around the threshold."""

    width: float = 1.0

    def derivative(self, u, v_th):
        return ((u - v_th).abs() < self.width / 2).to(u.dtype) / self.width


@dataclass(frozen=True)
class SpatialAdjustment(Surrogate):
    """BPSA, bpsta.md Eq. 9: do/du = 1/u where the neuron spiked, 0 where it stayed silent."""

    def derivative(self, u, v_th):
        spiked = u >= v_th
        return torch.where(spiked, 1 / torch.where(spiked, u, torch.ones_like(u)), torch.zeros_like(u))
