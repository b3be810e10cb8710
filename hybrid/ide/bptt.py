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
    u = torch.zeros_like(drive)
    s = torch.zeros_like(drive)
    rate_sum, weight_sum = torch.zeros_like(drive), 0.0
    for _ in range(steps):
        u = model.leak * u + gain * model.feedback(mask * s) + drive
        s = surrogate.spike(u, model.threshold)
        u = u - model.threshold * s
        rate_sum = model.leak * rate_sum + s
        weight_sum = model.leak * weight_sum + 1.0
    return model.readout((rate_sum / weight_sum).flatten(1))
