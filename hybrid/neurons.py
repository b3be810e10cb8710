"""Multi-step LIF neurons for surrogate-gradient training.

The discrete update (bpsta.md Eq. 2-4, backeisnn.md Eq. 3), with explicit state:

    u[t] = lam * u[t-1] * (1 - o[t-1]) + x[t]        (leak, hard reset)
    o[t] = H(u[t] - v_th)                            (spike; H' replaced by a surrogate)

The temporal adjustment of bpsta.md Eq. 10 (BPTA) adds lam * alpha * g'(u[t+1]) to do[t+1]/do[t]:
a residual path that carries error across spikes; alpha = 0 switches it off. Eq. 7 multiplies it by
delta[t+1], the total dL/do[t+1], membrane path included; since g'(u[t+1]) delta[t+1] is the total
dL/du[t+1], the residual hands lam * alpha * dL/du[t+1] to o[t].

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
    # BPTA (Eq. 10): a term that is zero in value and routes lam*alpha*dL/du[t] back to o[t-1].
    residual = lam * alpha * (o - o.detach()) if alpha else 0
    u = lam * u * keep + x + residual
    return u, surrogate.spike(u, v_th)


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
        # With e[t] = dL/du[t] and s[t] the gradient reaching o[t] from the layer above:
        #   e[t] = g'(u[t]) (s[t] + lam alpha e[t+1] - lam u[t] e[t+1]) + lam (1 - o[t]) e[t+1]
        # (BPTA residual, Eq. 10; reset path of u[t+1] through o[t], absent with detach_reset; leak, Eq. 8),
        # so e[t] = g'(u[t]) s[t] + c[t] e[t+1] with c computed for all steps at once: one op per step.
        slopes = ctx.surrogate.derivative(u_all, v_th)
        through_spike = alpha - (0 if detach_reset else u_all)
        coupling = (u_all < v_th).to(u_all.dtype).add_(slopes * through_spike).mul_(lam)
        grad_x = slopes.mul_(grad_spikes)
        for t in range(u_all.shape[0] - 2, -1, -1):
            grad_x[t].addcmul_(coupling[t], grad_x[t + 1])
        return grad_x, None, None, None, None, None


def lif_fused(x: torch.Tensor, lam: float = 0.5, v_th: float = 0.5, surrogate: Surrogate = Rectangular(),
              detach_reset: bool = False, alpha: float = 0.0) -> torch.Tensor:
    """Fused multi-step LIF with the same forward and gradients as `lif_eager`."""
    check_lif(lam, v_th)
    return _FusedLIF.apply(x, lam, v_th, surrogate, detach_reset, alpha)
