"""GLSNN on the shared training loop: weights live in numpy between chunks and travel by run_args."""
from __future__ import annotations

import numpy as np

from snnsuite.data import Split
from snnsuite.encoders import make_encoder
from snnsuite.records import dense_network_size
from snnsuite.training import Evaluation

from ..engine import ChunkEngine
from . import network
from .config import GLSNNConfig
from .learning import SilentLayerGuard, calibrate_once, layer_rates, optimizer_state, summary_extras


def orthogonal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """A random (n_in, n_out) matrix with orthonormal rows or columns ("as DTP", Lee et al. 2015)."""
    q, r = np.linalg.qr(rng.standard_normal((max(n_in, n_out), min(n_in, n_out))))
    q *= np.sign(np.diag(r))  # uniform over the orthogonal group
    return q if n_in >= n_out else q.T


def initial_state(config: GLSNNConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([config.seed, 1])
    sizes = config.layer_sizes
    state = {f"W{l}": orthogonal(sizes[l - 1], sizes[l], rng) for l in range(1, len(sizes))}
    for l in range(1, len(sizes) - 2):  # hidden layers below the penultimate get random feedback (Eq. 6)
        std = config.feedback_std * config.eta_t / np.sqrt(sizes[l])
        state[f"B{l}"] = rng.normal(0, std, (sizes[-1], sizes[l]))
        state[f"b{l}"] = rng.uniform(-config.feedback_bias_scale, config.feedback_bias_scale, sizes[l])
    return state


class GLSNNLearner:
    def __init__(self, config: GLSNNConfig, runtime_target: str = "cython"):
        """`runtime_target` is the code generation target of the runtime device: cython runs
        faster, numpy starts at once (notebooks add monitors to a runtime network)."""
        self.config = config
        self.device = f"brian2-{config.device}" + (f"-{config.threads or 1}thread" if config.device == "cpp" else "")
        self.encoder = make_encoder(config.encoding, network.PARAMS.steps)
        initial = initial_state(config)
        self.params = {**initial, **optimizer_state(config, initial)}
        self.layer_rates: list[float] = []
        # Compiled here, once (the config is already validated): the build stays out of the
        # training time and is reported in the engine's timings.
        self.engine = ChunkEngine(config.device, lambda n: network.build(config, n), config.chunk_samples,
                                  network.PARAMS.T, network.structure_key(config, config.chunk_samples),
                                  threads=config.threads or None, runtime_target=runtime_target)

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.params = {k: np.array(v) for k, v in state.items()}

    def present(self, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, learn: bool) -> tuple[np.ndarray, list[int]]:
        """Present one chunk; returns the output scores and the spike count of each layer.

        A short chunk is padded with blank samples. They change nothing: with no input every S is
        0 (Eq. 3 has no bias), no neuron spikes, and no batch of them ends with an update.
        """
        h, config = self.engine.handles, self.config
        n, chunk, steps = len(images), config.chunk_samples, network.PARAMS.steps
        shape, _ = network.stimulus_shape(config, chunk)
        stimulus = np.zeros(shape)
        if config.input_spikes == "network":
            stimulus[:n] = images
        else:
            stimulus[:n * steps] = np.swapaxes(self.encoder(images, rng), 0, 1).reshape(n * steps, -1)
        padded_labels = np.zeros(chunk)
        padded_labels[:n] = labels
        relays = self.engine.network["relays"]
        values = {h["stimulus"]: stimulus, h["labels"]: padded_labels,
                  relays.phase: rng.random(len(relays)) if config.input_spikes == "network" else np.zeros(len(relays))}
        adam = config.optimizer == "adam"
        for l, syn in enumerate(h["forward"], start=1):
            values[syn.w] = self.params[f"W{l}"].ravel()
            values[syn.eta_w] = config.eta_w if learn and config.learns(l) else 0.0
            if adam:
                values[syn.m], values[syn.v] = self.params[f"mW{l}"].ravel(), self.params[f"vW{l}"].ravel()
                values[syn.adam_updates] = float(self.params["adam_updates"])
        for l, syn in enumerate(h["feedback"], start=1):
            values[syn.B] = self.params[f"B{l}"].ravel()
            values[h["layers"][l - 1].fb_bias] = self.params[f"b{l}"]
        for layer in h["layers"]:
            values[layer.spike_count] = np.zeros(len(layer))
            values[layer.samples_in_chunk] = n
        self.engine.run(values)
        if learn:
            for l, syn in enumerate(h["forward"], start=1):
                shape = self.params[f"W{l}"].shape
                self.params[f"W{l}"] = np.asarray(syn.w[:]).reshape(shape)
                if adam:
                    self.params[f"mW{l}"] = np.asarray(syn.m[:]).reshape(shape)
                    self.params[f"vW{l}"] = np.asarray(syn.v[:]).reshape(shape)
            if adam:
                self.params["adam_updates"] = self.params["adam_updates"] + n // config.batch_size
        scores = np.asarray(h["scores"].S_read[:])[:, steps - 1::steps].T[:n]
        return scores, [int(np.asarray(layer.spike_count[:]).sum()) for layer in h["layers"]]

    def _chunks(self, n: int):
        step = self.config.chunk_samples
        return [(s, min(s + step, n)) for s in range(0, n, step)]

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        calibrate_once(self, split)
        # Whole batches only: the compiled network applies Eq. 8 every batch_size samples.
        n = len(split) - len(split) % self.config.batch_size
        order = rng.permutation(len(split))[:n]
        images = split.images.reshape(len(split), -1)
        guard = SilentLayerGuard(self.config)
        correct, totals = 0, np.zeros(len(self.config.layer_sizes) - 1)
        for start, stop in progress(self._chunks(n), desc="train", unit="chunk"):
            idx = order[start:stop]
            scores, counts = self.present(images[idx], split.labels[idx], rng, learn=True)
            correct += int((scores.argmax(1) == split.labels[idx]).sum())
            guard.observe(layer_rates(self.config, counts, len(idx), network.PARAMS.steps), len(idx))
            totals += counts
        self.layer_rates = layer_rates(self.config, totals, n, network.PARAMS.steps)
        return {"train_accuracy": 100.0 * correct / n, "train_samples": n, "layer_rates": self.layer_rates}

    def evaluate(self, split: Split, progress) -> Evaluation:
        rng = np.random.default_rng([self.config.seed, 2])  # the same encoded test set every time
        images = split.images.reshape(len(split), -1)
        predictions, spikes = [], 0
        for start, stop in progress(self._chunks(len(split)), desc="eval", unit="chunk"):
            scores, counts = self.present(images[start:stop], split.labels[start:stop], rng, learn=False)
            predictions.append(scores.argmax(1))
            spikes += sum(counts)
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)

    def network_size(self) -> dict:
        return dense_network_size(self.config.layer_sizes)

    def summary_extras(self) -> dict:
        return {"engine": self.engine.timings.as_dict(), **summary_extras(self)}
