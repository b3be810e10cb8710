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


def _relative_residual(vjp: VJP, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r = (vjp(g) + v - g).flatten(1).norm(dim=1)
    return r / v.flatten(1).norm(dim=1).clamp_min(1e-30)


def fixed_point(vjp: VJP, v: torch.Tensor, max_iter: int = 30, tol: float = 1e-4, damping: float = 1.0):
    """Damped iteration g <- (1 - damping) g + damping (J^T g + v), starting from g = v."""
    g = v.clone()
    for k in range(1, max_iter + 1):
        g = (1 - damping) * g + damping * (vjp(g) + v)
        residual = float(_relative_residual(vjp, g, v).max())
        if residual < tol:
            return g, SolveReport(k, residual, True)
    return g, SolveReport(max_iter, residual, False)


def broyden(vjp: VJP, v: torch.Tensor, max_iter: int = 30, tol: float = 1e-4):
    """Broyden's ("good") method on r(g) = J^T g + v - g = 0, matrix-free and batched.

    The inverse Jacobian of r is approximated as H = -I + sum_k u_k w_k^T (per sample), starting
    from -I because J is small near a well-conditioned equilibrium (then r'(g) = J^T - I ~ -I).
    """
    shape = v.shape
    batch = shape[0]
    flat = lambda x: x.reshape(batch, -1)  # noqa: E731
    residual_fn = lambda g: flat(vjp(g.reshape(shape)) + v) - g  # noqa: E731
    g = flat(v).clone()
    r = residual_fn(g)
    us, ws = [], []
    norm_v = flat(v).norm(dim=1).clamp_min(1e-30)

    def apply_h(y):   # H y
        out = -y
        for u, w in zip(us, ws):
            out = out + u * (w * y).sum(1, keepdim=True)
        return out

    def apply_ht(y):  # H^T y
        out = -y
        for u, w in zip(us, ws):
            out = out + w * (u * y).sum(1, keepdim=True)
        return out

    residual = float((r.norm(dim=1) / norm_v).max())
    for k in range(1, max_iter + 1):
        if residual < tol:
            return g.reshape(shape), SolveReport(k - 1, residual, True)
        step = -apply_h(r)
        g = g + step
        r_new = residual_fn(g)
        dr = r_new - r
        r = r_new
        h_dr = apply_h(dr)
        ht_step = apply_ht(step)
        denominator = (step * h_dr).sum(1, keepdim=True)
        denominator = torch.where(denominator.abs() < 1e-30, torch.full_like(denominator, 1e-30), denominator)
        us.append((step - h_dr) / denominator)
        ws.append(ht_step)
        residual = float((r.norm(dim=1) / norm_v).max())
    return g.reshape(shape), SolveReport(max_iter, residual, residual < tol)


SOLVERS = {"broyden": broyden, "fixed_point": fixed_point}
