"""Multi-step LIF neurons for surrogate-gradient training.

The discrete update (bpsta.md Eq. 2-4, backeisnn.md Eq. 3), with explicit state:

    u[t] = lam * u[t-1] * (1 - o[t-1]) + x[t]        (leak, hard reset)
    o[t] = H(u[t] - v_th)                            (spike; H' replaced by a surrogate)

The temporal adjustment of bpsta.md Eq. 10 (BPTA) adds lam * alpha * g'(u[t+1]) to do[t+1]/do[t]:
a residual path that carries error across spikes; alpha = 0 switches it off.

`lif_step` is the pure step function; `lif_eager` unrolls it under ordinary autograd (the
reference); `lif_fused` runs the same equations as one autograd node whose forward keeps only the
membrane potentials and whose backward is a single reverse-time loop.
"""
from __future__ import annotations

import torch

from snnsuite.errors import SuiteError

from .surrogates import Rectangular, Surrogate


def check_lif(lam: float, v_th: float) -> None:
    if not v_th > 0:
        raise SuiteError(f"threshold v_th={v_th}: must be > 0")
    if not 0 <= lam <= 1:
        raise SuiteError(f"leak lam={lam}: must lie in [0, 1]")


def lif_step(x: torch.Tensor, u: torch.Tensor, o: torch.Tensor, lam: float, v_th: float,
             surrogate: Surrogate, detach_reset: bool, alpha: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One step: returns (u[t], o[t]) from the input x[t] and the previous (u, o)."""
    keep = 1 - (o.detach() if detach_reset else o)
    u = lam * u * keep + x
    # BPTA: a term that is zero in value and routes lam*alpha*g'(u[t]) * dL/do[t] back to o[t-1].
    residual = lam * alpha * (o - o.detach()) if alpha else 0
    return u, surrogate.spike(u + residual, v_th)


def lif_eager(x: torch.Tensor, lam: float = 0.5, v_th: float = 0.5, surrogate: Surrogate = Rectangular(),
              detach_reset: bool = False, alpha: float = 0.0) -> torch.Tensor:
    """Reference multi-step LIF: x is (T, ...) input current; returns spikes (T, ...)."""
    check_lif(lam, v_th)
    u = torch.zeros_like(x[0])
    o = torch.zeros_like(x[0])
    out = []
    for t in range(x.shape[0]):
        u, o = lif_step(x[t], u, o, lam, v_th, surrogate, detach_reset, alpha)
        out.append(o)
    return torch.stack(out)


class _FusedLIF(torch.autograd.Function):
    """Whole-sequence LIF. The per-step loops hold one or two fused tensor operations each; every
    quantity that does not depend on the recursion (spikes, surrogate slopes, leak masks) is
    computed for all steps at once."""

    @staticmethod
    def forward(ctx, x, lam, v_th, surrogate, detach_reset, alpha):
        u_all = torch.empty_like(x)
        u_all[0] = x[0]
        for t in range(1, x.shape[0]):
            previous = u_all[t - 1]
            torch.add(x[t], torch.where(previous >= v_th, 0.0, previous), alpha=lam, out=u_all[t])
        ctx.save_for_backward(u_all)
        ctx.lam, ctx.v_th, ctx.surrogate, ctx.detach_reset, ctx.alpha = lam, v_th, surrogate, detach_reset, alpha
        return (u_all >= v_th).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_spikes):
        (u_all,) = ctx.saved_tensors
        lam, v_th, detach_reset, alpha = ctx.lam, ctx.v_th, ctx.detach_reset, ctx.alpha
        # The surrogate slopes' buffer becomes the input gradient, step by step from the end: the
        # backward holds one sequence-sized tensor besides the saved potentials.
        grad_x = ctx.surrogate.derivative(u_all, v_th)

        def leak(t):   # du[t+1]/du[t] grad_u[t+1] through the leak, without the factor lam: (1 - o[t]) grad_u[t+1]
            return torch.where(u_all[t] < v_th, grad_x[t + 1], 0.0)
        last = u_all.shape[0] - 1
        if detach_reset and not alpha:
            # grad_u[t] = g'(u[t]) dL/do[t] + lam (1 - o[t]) grad_u[t+1]: two ops per step.
            grad_x.mul_(grad_spikes)
            for t in range(last - 1, -1, -1):
                grad_x[t].add_(leak(t), alpha=lam)
            return grad_x, None, None, None, None, None
        spike_input_next = None                          # g'(u[t+1]) dL/do[t+1], for BPTA
        for t in range(last, -1, -1):
            grad_o = grad_spikes[t]
            if t < last:
                if not detach_reset:   # u[t+1] = lam u[t] (1 - o[t]) + x[t+1] also depends on o[t]
                    grad_o = torch.addcmul(grad_o, grad_x[t + 1], u_all[t], value=-lam)
                if alpha:              # BPTA residual (Eq. 10)
                    grad_o = grad_o.add(spike_input_next, alpha=lam * alpha)
            spike_input_next = grad_o * grad_x[t]       # grad_x[t] still holds g'(u[t]) here
            if t < last:
                torch.add(spike_input_next, leak(t), alpha=lam, out=grad_x[t])
            else:
                grad_x[t] = spike_input_next
        return grad_x, None, None, None, None, None


def lif_fused(x: torch.Tensor, lam: float = 0.5, v_th: float = 0.5, surrogate: Surrogate = Rectangular(),
              detach_reset: bool = False, alpha: float = 0.0) -> torch.Tensor:
    """Fused multi-step LIF with the same forward and gradients as `lif_eager`."""
    check_lif(lam, v_th)
    return _FusedLIF.apply(x, lam, v_th, surrogate, detach_reset, alpha)
