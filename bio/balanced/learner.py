"""Balanced SNN on the shared training loop: the Brian2 network presents a batch per launch, the
rules of Algorithm 1 update the weights between launches, and weights travel by run_args."""
from __future__ import annotations

import numpy as np
from brian2 import ms

from snnsuite.data import Split
from snnsuite.encoders import BernoulliEncoder
from snnsuite.errors import DivergenceError, SuiteError
from snnsuite.records import dense_network_size
from snnsuite.training import Evaluation

from ..engine import ChunkEngine
from ..neurons import excitatory_mask
from . import network, rules
from .config import INPUT_SIZE, N_CLASSES, BalancedConfig


def initial_state(config: BalancedConfig) -> dict[str, np.ndarray]:
    """Algorithm 1 step 1: uniform random weights; the sign of a hidden neuron's outgoing weights is its type."""
    rng = np.random.default_rng([config.seed, 1])
    excitatory = excitatory_mask(config.hidden, config.inhibitory_fraction, rng)
    w_in = rng.uniform(-config.input_weight_range, config.input_weight_range, (INPUT_SIZE, config.hidden))
    sign = np.where(excitatory, 1.0, -1.0)[:, None]
    w_out = sign * rng.uniform(0, config.output_weight_range, (config.hidden, N_CLASSES))
    return {"w_in": w_in, "w_out": w_out, "excitatory": excitatory.astype(np.int8), "epochs_trained": np.zeros((), np.int64)}


def teaching_spikes(labels: np.ndarray, chunk: int, steps: int, probability: float, rng: np.random.Generator) -> np.ndarray:
    """(chunk, steps, 10) teacher spikes: the label's relay fires with the spike probability of a
    white pixel at every step (Sec. 4.4), the others stay silent; rows past len(labels) are blank."""
    spikes = np.zeros((chunk, steps, N_CLASSES), dtype=np.float32)
    spikes[np.arange(len(labels)), :, labels] = rng.random((len(labels), steps)) < probability
    return spikes


class BalancedLearner:
    def __init__(self, config: BalancedConfig):
        self.config = config
        self.device = f"brian2-{config.device}" + (f"-{config.threads or 1}thread" if config.device == "cpp" else "")
        self.encoder = BernoulliEncoder(config.steps)
        self.white_pixel_probability = config.max_rate_hz * config.dt_ms / 1000    # spike probability per step
        self.spike_scale = self.white_pixel_probability * config.steps             # spikes of a white pixel's relay
        self.params = initial_state(config)
        self.engine = None
        if config.feedforward:  # compiled here, once, so that the build stays out of training time
            self.engine = ChunkEngine(config.device, lambda n: network.build(config, n), config.batch_size,
                                      config.presentation_ms * ms, network.structure_key(config, config.batch_size),
                                      threads=config.threads or None)

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        # Checkpoints written before the eta_STDP schedule existed carry no epoch count.
        self.params = {"epochs_trained": np.zeros((), np.int64), **{k: np.array(v) for k, v in state.items()}}

    def present(self, images: np.ndarray, labels: np.ndarray | None, rng: np.random.Generator):
        """One launch: returns input activity, hidden and output states, teaching activity and spike count.

        A short batch is padded with blank samples, which are dropped from every result.
        """
        n, chunk, steps = len(images), self.config.batch_size, self.config.steps
        if labels is not None and (np.any(labels < 0) or np.any(labels >= N_CLASSES)):
            bad = labels[(labels < 0) | (labels >= N_CLASSES)][0]
            raise SuiteError(f"teaching signal for class {bad}: no such output neuron (classes 0-{N_CLASSES - 1})")
        spikes = np.zeros((chunk, steps, INPUT_SIZE), dtype=np.float32)
        spikes[:n] = np.swapaxes(self.encoder(images * self.white_pixel_probability, rng), 0, 1)
        x = spikes[:n].sum(1) / self.spike_scale
        if self.engine is None:
            hidden, output = rules.linear_states(x, self.params["w_in"], self.params["w_out"], self.config.mp_gain, self.config.mp_threshold)
            teaching = np.eye(N_CLASSES)[labels] if labels is not None else np.zeros((n, N_CLASSES))
            return x, hidden, output, teaching, 0
        h = self.engine.handles
        taught = labels if labels is not None else np.zeros(0, dtype=int)   # evaluation: a silent teacher
        teacher = teaching_spikes(taught, chunk, steps, self.white_pixel_probability, rng)
        self.engine.run({h["stimulus"]: spikes.reshape(chunk * steps, INPUT_SIZE),
                         h["teaching"]: teacher.reshape(chunk * steps, N_CLASSES),
                         h["w_in"].w: self.params["w_in"].ravel(), h["w_out"].w: self.params["w_out"].ravel()})
        layers = {}
        for name in ("hidden", "output"):
            sums = network.read_sums(h[name], h["monitors"][name], network.SUM_NAMES, chunk)
            layers[name] = rules.LayerStates(sums["count"][:n] / self.spike_scale, sums["v_sum"][:n] / steps,
                                             sums[network.EQ5_DENOMINATOR_SUMS[self.config.eq5_denominator]][:n] / steps)
        teaching = network.read_sums(h["teacher"], h["monitors"]["teacher"], ["count"], chunk)["count"][:n] / self.spike_scale
        spike_total = int(round((layers["hidden"].a.sum() + layers["output"].a.sum()) * self.spike_scale))
        return x, layers["hidden"], layers["output"], teaching, spike_total

    @staticmethod
    def predict(output: rules.LayerStates) -> np.ndarray:
        """The output neuron with most spikes; ties (e.g. all silent) go to the highest mean potential."""
        return np.argmax(output.a + 1e-3 * np.tanh(output.v), axis=1)

    def learn(self, x, hidden, output, teaching) -> None:
        dw_in, dw_out = rules.tuned_updates(x, hidden, output, teaching, self.params["w_in"], self.params["w_out"], self.config)
        schedule = self.config.eta_stdp_decay ** int(self.params["epochs_trained"])   # Eq. 12 is linear in eta_STDP
        for key, dw in (("w_in", schedule * dw_in), ("w_out", schedule * dw_out)):
            if not np.all(np.isfinite(dw)):
                raise DivergenceError(f"Eq. 12 update of {key} became non-finite; the last good checkpoint is kept")
            self.params[key] = rules.apply_type_preserving(self.params[key], dw, self.config)

    def _batches(self, n: int):
        step = self.config.batch_size
        return [(s, min(s + step, n)) for s in range(0, n, step)]

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        order = rng.permutation(len(split))
        images = split.images.reshape(len(split), -1)
        correct, hidden_activity, output_activity, active = 0, [], [], []
        for start, stop in progress(self._batches(len(split)), desc="train", unit="batch"):
            idx = order[start:stop]
            x, hidden, output, teaching, _ = self.present(images[idx], split.labels[idx], rng)
            correct += int((self.predict(output) == split.labels[idx]).sum())
            hidden_activity.append(hidden.a.mean())
            output_activity.append(output.a.mean())
            active.append((hidden.a > 0).mean())
            self.learn(x, hidden, output, teaching)
        self.params["epochs_trained"] = self.params["epochs_trained"] + 1
        rate = self.config.max_rate_hz   # activity 1 is a white pixel's rate
        stats = {"train_accuracy": 100.0 * correct / len(split), "hidden_rate_hz": float(np.mean(hidden_activity) * rate),
                 "output_rate_hz": float(np.mean(output_activity) * rate), "hidden_active_fraction": float(np.mean(active))}
        if stats["output_rate_hz"] > self.config.max_output_rate_hz:
            raise DivergenceError(f"firing rates ran away: mean output rate {stats['output_rate_hz']:.0f} Hz > max_output_rate_hz="
                                  f"{self.config.max_output_rate_hz:g}; the last good checkpoint is kept (--finish writes its summary)")
        return stats

    def evaluate(self, split: Split, progress) -> Evaluation:
        rng = np.random.default_rng([self.config.seed, 2])  # the same encoded test set every time
        images = split.images.reshape(len(split), -1)
        predictions, spikes = [], 0
        for start, stop in progress(self._batches(len(split)), desc="eval", unit="batch"):
            _, _, output, _, count = self.present(images[start:stop], None, rng)
            predictions.append(self.predict(output))
            spikes += count
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)

    def network_size(self) -> dict:
        return dense_network_size([INPUT_SIZE, self.config.hidden, N_CLASSES])

    def summary_extras(self) -> dict:
        extras = {"layer_sizes": [INPUT_SIZE, self.config.hidden, N_CLASSES], "inhibitory_fraction": self.config.inhibitory_fraction}
        if self.engine is not None:
            extras["engine"] = self.engine.timings.as_dict()
        return extras
