"""Solvers for the linear backward equation of implicit differentiation (ide-fsnn.md Eq. 3):

    g = J^T g + v      (J: Jacobian of the fixed-point map at the equilibrium, v = dL/da*)

given only the vector-Jacobian product g -> J^T g. Each sample of a batch is its own system;
residuals are ||J^T g + v - g|| / ||v|| per sample, and a solve reports its worst one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

VJP = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class SolveReport:
    iterations: int
    residual: float      # the largest relative residual over the batch
    converged: bool


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample dot products of (batch, n) tensors as (batch, 1), without an elementwise temporary."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).squeeze(2)


def fixed_point(vjp: VJP, v: torch.Tensor, max_iter: int = 30, tol: float = 1e-4, damping: float = 1.0):
    """Damped iteration g <- (1 - damping) g + damping (J^T g + v), starting from g = v.

    Each product J^T g serves twice: as the next iterate and, minus g, as g's residual."""
    norm_v = v.flatten(1).norm(dim=1).clamp_min(1e-30)
    g = v.clone()
    for k in range(max_iter + 1):
        delta = vjp(g).add_(v).sub_(g)                      # J^T g + v - g: the residual of g
        residual = float((delta.flatten(1).norm(dim=1) / norm_v).max())
        if residual < tol or k == max_iter:
            return g, SolveReport(k, residual, residual < tol)
        g.add_(delta, alpha=damping)


def broyden(vjp: VJP, v: torch.Tensor, max_iter: int = 30, tol: float = 1e-4):
    """Broyden's ("good") method on r(g) = J^T g + v - g = 0, matrix-free and batched.

    The inverse Jacobian of r is approximated as H = -I + sum_k u_k w_k^T (per sample), starting
    from -I because J is small near a well-conditioned equilibrium (then r'(g) = J^T - I ~ -I).
    Besides its 2 vectors per iteration it keeps five alive (g, r, the step and the new u and w),
    updating in place: the stored updates are the solver's only memory that grows.
    """
    shape, batch = v.shape, v.shape[0]
    v_flat = v.reshape(batch, -1)
    norm_v = v_flat.norm(dim=1).clamp_min(1e-30)
    us, ws = [], []

    def residual_of(g):
        return vjp(g.reshape(shape)).reshape(batch, -1).add_(v_flat).sub_(g)

    def apply_h_(y):   # H y, overwriting y
        coefficients = [_dot(w, y) for w in ws]
        y.neg_()
        for u, c in zip(us, coefficients):
            y.addcmul_(u, c)
        return y

    def apply_ht(y):   # H^T y
        out = -y
        for u, w in zip(us, ws):
            out.addcmul_(w, _dot(u, y))
        return out

    g = v_flat.clone()
    r = residual_of(g)
    residual = float((r.norm(dim=1) / norm_v).max())
    for k in range(1, max_iter + 1):
        if residual < tol:
            return g.reshape(shape), SolveReport(k - 1, residual, True)
        step = apply_h_(r.clone()).neg_()
        g.add_(step)
        r_new = residual_of(g)
        u = apply_h_(r.neg_().add_(r_new))                  # H dr, in the buffer of the old r
        r = r_new
        w = apply_ht(step)
        denominator = _dot(step, u)
        denominator = torch.where(denominator.abs() < 1e-30, torch.full_like(denominator, 1e-30), denominator)
        us.append(u.neg_().add_(step).div_(denominator))    # (step - H dr) / (step . H dr)
        ws.append(w)
        del step
        residual = float((r.norm(dim=1) / norm_v).max())
    return g.reshape(shape), SolveReport(max_iter, residual, residual < tol)


SOLVERS = {"broyden": broyden, "fixed_point": fixed_point}
