"""What both GLSNN engines share beside the equations: Adam's constants and state, the
initial-scale calibration, and the guard against silent layers. Imports neither Brian2 nor torch."""
from __future__ import annotations

import numpy as np

from snnsuite.errors import DivergenceError

ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


def optimizer_state(config, params: dict) -> dict[str, np.ndarray]:
    """Adam's moment estimates per forward weight and its update count (empty for SGD); entries
    already in `params` (a resumed run) are kept."""
    if config.optimizer != "adam":
        return {}
    state = {"adam_updates": np.zeros(())}
    for l in range(1, len(config.layer_sizes)):
        shape = np.shape(params[f"W{l}"])
        state[f"mW{l}"], state[f"vW{l}"] = np.zeros(shape), np.zeros(shape)
    return {k: v for k, v in state.items() if k not in params}


def calibrate_once(learner, split) -> None:
    """Spiking reading: scale the initial weights once, on the first training images, with the
    torch twin (both engines then start from the same weights); a loaded state is left alone.
    The rates reached are kept in the state as 'init_rates'."""
    config = learner.config
    if config.reading != "spiking" or "init_rates" in learner.params:
        return
    from hybrid.glsnn_twin import GLSNNTwin

    twin = GLSNNTwin(config, learner.state())
    images = split.images[:config.calibration_samples].reshape(-1, split.images[0].size)
    rates = twin.calibrate(images, np.random.default_rng([config.seed, 3]))
    learner.load_state({**twin.state(), "init_rates": np.array(rates)})


class SilentLayerGuard:
    """Stops a run whose hidden layer has stayed below config.silent_rate for
    config.silent_patience training samples: a silent layer passes nothing on and learns nothing."""

    def __init__(self, config):
        self.floor, self.patience = config.silent_rate, config.silent_patience
        self.hidden = len(config.hidden)
        self.silent_for = [0] * self.hidden

    def observe(self, rates, samples: int) -> None:
        for l, rate in enumerate(rates[:self.hidden]):
            self.silent_for[l] = self.silent_for[l] + samples if rate < self.floor else 0
            if self.silent_for[l] >= self.patience:
                raise DivergenceError(f"hidden layer {l + 1}: mean spike rate {rate:.4f} per step stayed below silent_rate="
                                      f"{self.floor} for {self.silent_for[l]} training samples; the last good checkpoint is kept")


def layer_rates(config, counts, samples: int, steps: int) -> list[float]:
    """Mean spike rate per step of each layer above the input, from its spike count."""
    return [c / (n * samples * steps) for c, n in zip(counts, config.layer_sizes[1:])]


def summary_extras(learner) -> dict:
    """What a GLSNN summary records beside the shared fields, on either engine."""
    state = learner.state()
    return {"layer_sizes": list(learner.config.layer_sizes), "reading": learner.config.reading,
            "layer_rates": learner.layer_rates,
            "init_rates": state["init_rates"].tolist() if "init_rates" in state else None}
