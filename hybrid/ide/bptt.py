"""The same feedback SNN trained by backpropagation through time with a surrogate gradient: the
baseline whose memory grows with T (ide-fsnn.md Table 4)."""
from __future__ import annotations

import torch

from ..surrogates import Rectangular
from .model import FeedbackSNN


def bptt_logits(model: FeedbackSNN, images: torch.Tensor, steps: int, surrogate=None) -> torch.Tensor:
    surrogate = surrogate or Rectangular(width=model.threshold)
    drive = model.drive(images)
    mask = model.dropout_mask(drive)
    gain = model.feedback_gain()
    n_layers = 1 + len(model.forward_layers)
    u = [torch.zeros_like(drive) for _ in range(n_layers)]
    s = [torch.zeros_like(drive) for _ in range(n_layers)]
    rate_sum, weight_sum = torch.zeros_like(drive), 0.0
    for _ in range(steps):
        for l in range(n_layers):
            current = gain * model.feedback(mask * s[-1]) + drive if l == 0 else model.forward_layers[l - 1](s[l - 1])
            u[l] = model.leak * u[l] + current
            s[l] = surrogate.spike(u[l], model.threshold)
            u[l] = u[l] - model.threshold * s[l]
        rate_sum = model.leak * rate_sum + s[-1]
        weight_sum = model.leak * weight_sum + 1.0
    return model.readout((rate_sum / weight_sum).flatten(1))
