"""Implicit differentiation at the equilibrium (ide-fsnn.md Eq. 3): the forward pass keeps one
application of the fixed-point map in the graph, whatever T is, and the backward pass solves
(I - J_f^T) g = dL/da* for the gradient that flows through it."""
from __future__ import annotations

import torch

from .model import FeedbackSNN
from .solvers import SOLVERS, SolveReport


class IDEOutput:
    def __init__(self, logits, rates, spikes, report_box):
        self.logits, self.rates, self.spikes, self._report = logits, rates, spikes, report_box

    @property
    def solve(self) -> SolveReport | None:
        return self._report[0]


def ide_forward(model: FeedbackSNN, images: torch.Tensor, steps: int, solver: str = "broyden",
                max_iter: int = 30, tol: float = 1e-4) -> IDEOutput:
    drive = model.drive(images)
    mask = model.dropout_mask(drive)
    gain = model.feedback_gain()
    rates, spikes, _ = model.simulate(drive.detach(), mask, gain.detach(), steps)
    out = implicit_readout(model, rates[0], drive, mask, gain, spikes, solver, max_iter, tol, last_rate=rates[-1])
    out.rates = rates
    return out


def implicit_readout(model: FeedbackSNN, a_star, drive, mask, gain, spikes=0.0, solver="broyden",
                     max_iter=30, tol=1e-4, last_rate=None) -> IDEOutput:
    """Logits of the readout on the last layer's rates, with the implicit gradient attached to
    f(a*) of the first layer. `last_rate` is the simulated a^N[T] (default: g(a*))."""
    report: list[SolveReport | None] = [None]
    if last_rate is None:
        with torch.no_grad():
            last_rate = model.downstream(a_star)
    if torch.is_grad_enabled():
        z = model.fixed_point_map(a_star, drive, mask, gain)       # graph to the parameters
        a0 = a_star.clone().requires_grad_()
        f0 = model.fixed_point_map(a0, drive.detach(), mask, gain.detach())  # graph to a, for J^T products

        def implicit_gradient(grad):
            vjp = lambda y: torch.autograd.grad(f0, a0, y, retain_graph=True)[0]  # noqa: E731
            g, report[0] = SOLVERS[solver](vjp, grad, max_iter=max_iter, tol=tol)
            return g

        z.register_hook(implicit_gradient)
        tail = model.downstream(z)
        a_out = last_rate + (tail - tail.detach())   # the value of a^N[T], the gradient path of g(f(a*))
    else:
        a_out = last_rate
    logits = model.readout(a_out.flatten(1))
    return IDEOutput(logits, [a_star, last_rate], spikes, report)
